// concur-lab — the seeds' Game of Life (004 §57-§60): a grid step where every cell's
// game_logic() does blocking I/O, run as fan-out/fan-in in several ways.
#pragma once

#include <mutex>
#include <string>
#include <vector>

namespace lab::life {

constexpr char ALIVE = '*';
constexpr char EMPTY = '-';

/// The seeds' Grid (wrapping coordinates).
struct Grid {
  int height = 0, width = 0;
  std::vector<char> cells;
  Grid(int h, int w) : height(h), width(w), cells(static_cast<std::size_t>(h * w), EMPTY) {}
  char get(int y, int x) const {
    return cells[static_cast<std::size_t>(((y % height + height) % height) * width + (x % width + width) % width)];
  }
  void set(int y, int x, char s) {
    cells[static_cast<std::size_t>(((y % height + height) % height) * width + (x % width + width) % width)] = s;
  }
  std::string str() const;
};

/// The seeds' LockingGrid: every access under a lock (for thread-per-cell and pool strategies).
struct LockingGrid {
  Grid grid;
  mutable std::mutex lock;
  LockingGrid(int h, int w) : grid(h, w) {}
  char get(int y, int x) const {
    std::lock_guard g(lock);
    return grid.get(y, x);
  }
  void set(int y, int x, char s) {
    std::lock_guard g(lock);
    grid.set(y, x, s);
  }
};

struct Params {
  int height = 12, width = 12, generations = 5;
  double io_seconds = 0.001;  ///< the blocking I/O inside each game_logic call
};

/// The deterministic start grid (xorshift32 seed 42: a cell lives if its byte % 4 == 0).
Grid start_grid(const Params& p);
/// Live neighbours of (y, x) read through `get`.
template <class Get>
int count_neighbors(int y, int x, Get get) {
  int n = 0;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      if ((dy || dx) && get(y + dy, x + dx) == ALIVE) ++n;
  return n;
}
/// Conway's rule, without I/O.
char rule(char state, int neighbors);
/// The seeds' game_logic: Conway's rule after a blocking I/O call of p.io_seconds.
char game_logic(char state, int neighbors, const Params& p);
/// "generations:alive:sha256-prefix" of the final grid — compared across strategies and languages.
std::string summary(const Grid& g, int generations);

}  // namespace lab::life
