// Seed §60: the Game of Life step with coroutines — every cell is a coroutine, fanned out and
// fanned in with gather(), all in one thread without locks.
//
//   async def step_cell(y, x, get, set):                   Task<void> step_cell(...)
//       state = get(y, x)                                    { ... co_await game_logic(...) ... }
//       next_state = await game_logic(state, neighbors)
//   await asyncio.gather(*tasks)                         co_await asyncio::gather(std::move(tasks));
//   grid = asyncio.run(simulate(grid))                   grid = asyncio::run(simulate(grid));
//
// Usage: asyncio_game_of_life [generations=5] [height=9] [width=9]
#include <concur/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace asyncio = concur::asyncio;
using asyncio::Task;

constexpr char ALIVE = '*';
constexpr char EMPTY = '-';

struct Grid {
  Grid(int h, int w) : height(h), width(w), rows(static_cast<std::size_t>(h), std::string(static_cast<std::size_t>(w), EMPTY)) {}
  char get(int y, int x) const {
    return rows[static_cast<std::size_t>((y + height) % height)][static_cast<std::size_t>((x + width) % width)];
  }
  void set(int y, int x, char state) {
    rows[static_cast<std::size_t>((y + height) % height)][static_cast<std::size_t>((x + width) % width)] = state;
  }
  int height, width;
  std::vector<std::string> rows;
};

int count_neighbors(int y, int x, const Grid& g) {
  int n = 0;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if ((dy || dx) && g.get(y + dy, x + dx) == ALIVE) ++n;
  return n;
}

// In the seed this is where the I/O happens (`data = await my_socket.read(50)`); here a yield to
// the loop stands for it, so every cell really suspends and the loop interleaves them.
Task<char> game_logic(char state, int neighbors) {
  co_await asyncio::sleep(0);
  if (state == ALIVE) co_return (neighbors < 2 || neighbors > 3) ? EMPTY : ALIVE;
  co_return neighbors == 3 ? ALIVE : EMPTY;
}

Task<void> step_cell(int y, int x, const Grid& current, Grid& next) {
  const char state = current.get(y, x);
  const int neighbors = count_neighbors(y, x, current);
  next.set(y, x, co_await game_logic(state, neighbors));
}

Task<Grid> simulate(Grid grid) {
  Grid next(grid.height, grid.width);
  std::vector<Task<void>> tasks;  // fan out: coroutine objects, not yet running
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) tasks.push_back(step_cell(y, x, grid, next));
  co_await asyncio::gather(std::move(tasks));  // fan in
  co_return next;
}

int main(int argc, char** argv) {
  const int generations = argc > 1 ? std::atoi(argv[1]) : 5;
  const int height = argc > 2 ? std::atoi(argv[2]) : 9;
  const int width = argc > 3 ? std::atoi(argv[3]) : 9;
  Grid grid(height, width);
  grid.set(0, 3, ALIVE);  // the seed's glider
  grid.set(1, 4, ALIVE);
  grid.set(2, 2, ALIVE);
  grid.set(2, 3, ALIVE);
  grid.set(2, 4, ALIVE);
  std::vector<Grid> history{grid};
  for (int i = 0; i < generations; ++i) {
    grid = asyncio::run(simulate(grid));
    history.push_back(grid);
  }
  for (int y = 0; y < height; ++y) {
    for (std::size_t g = 0; g < history.size(); ++g) std::printf("%s%s", g ? " | " : "", history[g].rows[static_cast<std::size_t>(y)].c_str());
    std::printf("\n");
  }
  // A glider keeps 5 live cells forever.
  int alive = 0;
  for (const auto& row : grid.rows)
    for (char c : row) alive += c == ALIVE;
  return alive == 5 ? 0 : 1;
}
