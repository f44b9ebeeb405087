// Conway's Game of Life as a queue pipeline (the seeds' §58 simulate_pipeline): the main thread
// fans each cell out to a fixed set of worker threads through `in_queue`, the workers run
// game_logic (which, in the seed, does blocking I/O) and put results into `out_queue`, and the
// main thread fans in once in_queue.join() says every cell was processed.
//
// As in the seed, an exception in game_logic travels back through out_queue and is rethrown in
// the main thread as SimulationError. The workers' loop is the queue's own iteration, and
// in_queue.shutdown() stops them at the end — no ClosableQueue, no StoppableWorker.
//
//   queue_game_of_life [generations=5] [workers=5]
// Checks that the seed's glider moved one cell down and right after 4 generations.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "concur/queue.hpp"

namespace {

constexpr char ALIVE = '*';
constexpr char EMPTY = '-';

class Grid {
 public:
  Grid(int height, int width) : height(height), width(width), rows_(height, std::string(width, EMPTY)) {}
  char get(int y, int x) const { return rows_[wrap(y, height)][wrap(x, width)]; }
  void set(int y, int x, char state) { rows_[wrap(y, height)][wrap(x, width)] = state; }
  std::string str() const {
    std::string s;
    for (const auto& row : rows_) s += row + "\n";
    return s;
  }
  bool operator==(const Grid&) const = default;
  int height, width;

 private:
  static std::size_t wrap(int v, int n) { return static_cast<std::size_t>(((v % n) + n) % n); }
  std::vector<std::string> rows_;
};

class SimulationError : public std::runtime_error {
 public:
  SimulationError(int y, int x) : std::runtime_error("cell (" + std::to_string(y) + ", " + std::to_string(x) + ") failed") {}
};

int count_neighbors(int y, int x, const Grid& grid) {
  int n = 0;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if ((dy != 0 || dx != 0) && grid.get(y + dy, x + dx) == ALIVE) ++n;
  return n;
}

char game_logic(char state, int neighbors) {
  // Blocking I/O would happen here in the seed (my_socket.recv(100)).
  if (state == ALIVE) return neighbors < 2 || neighbors > 3 ? EMPTY : ALIVE;
  return neighbors == 3 ? ALIVE : state;
}

struct Cell {
  int y, x;
  char state;
  int neighbors;
};
struct Result {
  int y, x;
  char next_state;
  std::exception_ptr error;  // the seed returns the exception object instead of the state
};

void game_logic_worker(concur::queue::Queue<Cell>& in_queue, concur::queue::Queue<Result>& out_queue) {
  for (Cell cell : in_queue) {  // ends when in_queue is shut down and drained
    Result r{cell.y, cell.x, EMPTY, nullptr};
    try {
      r.next_state = game_logic(cell.state, cell.neighbors);
    } catch (...) {
      r.error = std::current_exception();
    }
    out_queue.put(std::move(r));
  }
}

Grid simulate_pipeline(const Grid& grid, concur::queue::Queue<Cell>& in_queue,
                       concur::queue::Queue<Result>& out_queue) {
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) in_queue.put({y, x, grid.get(y, x), count_neighbors(y, x, grid)});  // fan out
  in_queue.join();  // every cell processed, so every result is in out_queue

  Grid next_grid(grid.height, grid.width);
  while (auto r = out_queue.try_get()) {  // fan in
    if (r->error) {
      try {
        std::rethrow_exception(r->error);
      } catch (...) {
        std::throw_with_nested(SimulationError(r->y, r->x));
      }
    }
    next_grid.set(r->y, r->x, r->next_state);
  }
  return next_grid;
}

}  // namespace

int main(int argc, char** argv) {
  const int generations = argc > 1 ? std::atoi(argv[1]) : 5;
  const int workers = argc > 2 ? std::atoi(argv[2]) : 5;

  concur::queue::Queue<Cell> in_queue;
  concur::queue::Queue<Result> out_queue;
  std::vector<std::jthread> threads;
  for (int i = 0; i < workers; ++i) threads.emplace_back(game_logic_worker, std::ref(in_queue), std::ref(out_queue));

  Grid grid(5, 9);
  grid.set(0, 3, ALIVE);
  grid.set(1, 4, ALIVE);
  grid.set(2, 2, ALIVE);
  grid.set(2, 3, ALIVE);
  grid.set(2, 4, ALIVE);
  const Grid start = grid;

  std::vector<std::string> columns;
  Grid after_four = grid;
  for (int i = 0; i < generations; ++i) {
    columns.push_back(grid.str());
    grid = simulate_pipeline(grid, in_queue, out_queue);
    if (i == 3) after_four = grid;
  }
  in_queue.shutdown();  // the workers' loops end; the jthreads join on scope exit

  // Print the generations side by side, as the seed's ColumnPrinter does.
  for (std::size_t i = 0; i < columns.size(); ++i) std::printf("%-10zu", i);
  std::printf("\n");
  for (int row = 0; row < start.height; ++row) {
    for (const auto& col : columns) std::printf("%-10s", col.substr(static_cast<std::size_t>(row) * 10, 9).c_str());
    std::printf("\n");
  }

  // A glider moves one cell down and right every 4 generations.
  Grid expected(start.height, start.width);
  for (int y = 0; y < start.height; ++y)
    for (int x = 0; x < start.width; ++x) expected.set(y + 1, x + 1, start.get(y, x));
  if (generations >= 4 && !(after_four == expected)) {
    std::printf("unexpected grid after 4 generations:\n%s", after_four.str().c_str());
    return 1;
  }
  return 0;
}
