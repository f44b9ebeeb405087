// Effective Python §59: Conway's Game of Life with blocking I/O per cell, fanned out over a
// ThreadPoolExecutor (simulate_pool) and checked against the sequential simulation.
//
//   Python (seed)                                   C++ (concur)
//   future = pool.submit(step_cell, *args)          futures.push_back(pool.submit(step_cell, ...))
//   future.result()  # fan-in, re-raises            f.result();  // fan-in, rethrows
#include <sys/select.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "concur/futures.hpp"

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
    for (const auto& r : rows_) s += r + "\n";
    return s;
  }
  int height, width;

 private:
  static int wrap(int v, int n) { return ((v % n) + n) % n; }
  std::vector<std::string> rows_;
};

/// class LockingGrid(Grid): every access under the lock.
class LockingGrid : public Grid {
 public:
  using Grid::Grid;
  char get(int y, int x) {
    std::lock_guard lock(mutex_);
    return Grid::get(y, x);
  }
  void set(int y, int x, char state) {
    std::lock_guard lock(mutex_);
    Grid::set(y, x, state);
  }

 private:
  std::mutex mutex_;
};

int io_micros = 100;  // the seeds' `my_socket.recv(100)`: a short blocking call

template <class G>
int count_neighbors(int y, int x, G& grid) {
  int n = 0;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if ((dy || dx) && grid.get(y + dy, x + dx) == ALIVE) ++n;
  return n;
}

char game_logic(char state, int neighbors) {
  if (io_micros > 0) {  // Blocking I/O
    timeval tv{0, io_micros};
    select(0, nullptr, nullptr, nullptr, &tv);
  }
  if (state == ALIVE) return (neighbors < 2 || neighbors > 3) ? EMPTY : ALIVE;
  return neighbors == 3 ? ALIVE : state;
}

template <class From, class To>
void step_cell(int y, int x, From& grid, To& next) {
  const char state = grid.get(y, x);
  next.set(y, x, game_logic(state, count_neighbors(y, x, grid)));
}

Grid simulate(Grid& grid) {
  Grid next(grid.height, grid.width);
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) step_cell(y, x, grid, next);
  return next;
}

LockingGrid* simulate_pool(concur::futures::ThreadPoolExecutor& pool, LockingGrid& grid) {
  auto* next = new LockingGrid(grid.height, grid.width);
  std::vector<concur::futures::Future<void>> futures;
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x)
      futures.push_back(pool.submit([&grid, next, y, x] { step_cell(y, x, grid, *next); }));  // fan-out
  for (auto& f : futures) f.result();  // fan-in
  return next;
}

template <class G>
void seed(G& g) {  // the seeds' glider
  g.set(0, 3, ALIVE);
  g.set(1, 4, ALIVE);
  g.set(2, 2, ALIVE);
  g.set(2, 3, ALIVE);
  g.set(2, 4, ALIVE);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) io_micros = std::atoi(argv[1]);
  Grid expected(5, 9);
  seed(expected);
  auto* grid = new LockingGrid(5, 9);
  seed(*grid);
  concur::futures::ThreadPoolExecutor pool({.max_workers = 10});
  for (int i = 0; i < 5; ++i) {
    expected = simulate(expected);
    LockingGrid* next = simulate_pool(pool, *grid);
    delete grid;
    grid = next;
  }
  const std::string got = grid->str();
  delete grid;
  std::printf("%s", got.c_str());
  if (got != expected.str()) {
    std::fprintf(stderr, "game of life: pool result differs from the sequential one\n");
    return 1;
  }
  return 0;
}
