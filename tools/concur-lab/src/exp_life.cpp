// The Game of Life with blocking I/O per cell (seed 004 §57-§60): thread per cell, queue
// pipeline, thread pool and coroutines; time and peak memory, each strategy in a fresh process.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "lab.hpp"
#include "life.hpp"
#include "modules.hpp"

#if CONCUR_LAB_HAVE_FUTURES
#include <concur/futures.hpp>
#endif

namespace lab {
namespace life {

std::string Grid::str() const {
  std::string s;
  for (int y = 0; y < height; ++y) {
    if (y) s += '\n';
    s.append(cells.begin() + y * width, cells.begin() + (y + 1) * width);
  }
  return s;
}

Grid start_grid(const Params& p) {
  Grid g(p.height, p.width);
  auto bytes = xorshift_bytes(42, static_cast<std::size_t>(p.height * p.width));
  for (int y = 0; y < p.height; ++y)
    for (int x = 0; x < p.width; ++x)
      if (bytes[static_cast<std::size_t>(y * p.width + x)] % 4 == 0) g.set(y, x, ALIVE);
  return g;
}

char rule(char state, int neighbors) {
  if (state == ALIVE) return neighbors < 2 || neighbors > 3 ? EMPTY : ALIVE;
  return neighbors == 3 ? ALIVE : EMPTY;
}

char game_logic(char state, int neighbors, const Params& p) {
  slow_systemcall(p.io_seconds);  // the seeds' my_socket.recv(100)
  return rule(state, neighbors);
}

std::string summary(const Grid& g, int generations) {
  std::string s = g.str();
  int alive = 0;
  for (char c : g.cells) alive += c == ALIVE;
  auto d = digest("SHA256", reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return std::to_string(generations) + " generations, " + std::to_string(alive) + " alive, grid " + hex(d).substr(0, 16);
}

namespace {

Grid step_sequential(const Grid& g, const Params& p) {
  Grid next(g.height, g.width);
  for (int y = 0; y < g.height; ++y)
    for (int x = 0; x < g.width; ++x)
      next.set(y, x, game_logic(g.get(y, x), count_neighbors(y, x, [&](int a, int b) { return g.get(a, b); }), p));
  return next;
}

/// The seeds' step_cell(y, x, get, set).
template <class Get, class Set>
void step_cell(int y, int x, Get get, Set set, const Params& p) {
  char state = get(y, x);
  int neighbors = count_neighbors(y, x, get);
  set(y, x, game_logic(state, neighbors, p));
}

Grid step_threads(const LockingGrid& g, const Params& p) {
  LockingGrid next(g.grid.height, g.grid.width);
  std::vector<std::thread> threads;
  threads.reserve(g.grid.cells.size());
  for (int y = 0; y < g.grid.height; ++y)
    for (int x = 0; x < g.grid.width; ++x)
      threads.emplace_back([&, y, x] {
        step_cell(y, x, [&](int a, int b) { return g.get(a, b); }, [&](int a, int b, char s) { next.set(a, b, s); }, p);
      });
  for (auto& t : threads) t.join();
  return next.grid;
}

#if CONCUR_LAB_HAVE_FUTURES
Grid step_pool(concur::futures::ThreadPoolExecutor& pool, const LockingGrid& g, const Params& p) {
  LockingGrid next(g.grid.height, g.grid.width);
  std::vector<concur::futures::Future<void>> fs;
  for (int y = 0; y < g.grid.height; ++y)
    for (int x = 0; x < g.grid.width; ++x)
      fs.push_back(pool.submit([&, y, x] {
        step_cell(y, x, [&](int a, int b) { return g.get(a, b); }, [&](int a, int b, char s) { next.set(a, b, s); }, p);
      }));
  for (auto& f : fs) f.result();  // fan-in; re-raises a cell's exception
  return next.grid;
}
#endif

}  // namespace
}  // namespace life

/// `concur-lab __child life STRATEGY H W GENS IO`: runs one strategy, prints key=value lines.
int life_child(const std::vector<std::string>& args) {
  if (args.size() < 5) {
    std::fprintf(stderr, "usage: __child life STRATEGY H W GENS IO\n");
    return 2;
  }
  life::Params p;
  const std::string& strategy = args[0];
  p.height = std::atoi(args[1].c_str());
  p.width = std::atoi(args[2].c_str());
  p.generations = std::atoi(args[3].c_str());
  p.io_seconds = std::atof(args[4].c_str());
  life::Grid grid = life::start_grid(p);
  auto t0 = Clock::now();
  try {
    if (strategy == "sequential") {
      for (int i = 0; i < p.generations; ++i) grid = life::step_sequential(grid, p);
    } else if (strategy == "threads") {
      for (int i = 0; i < p.generations; ++i) {
        life::LockingGrid lg(p.height, p.width);
        lg.grid = grid;
        grid = life::step_threads(lg, p);
      }
#if CONCUR_LAB_HAVE_FUTURES
    } else if (strategy == "threadpool") {
      concur::futures::ThreadPoolExecutor pool({.max_workers = 10});
      for (int i = 0; i < p.generations; ++i) {
        life::LockingGrid lg(p.height, p.width);
        lg.grid = grid;
        grid = life::step_pool(pool, lg, p);
      }
#endif
#if CONCUR_LAB_HAVE_QUEUE
    } else if (strategy == "queue") {
      grid = life_queue_run(grid, p);
#endif
#if CONCUR_LAB_HAVE_ASYNCIO
    } else if (strategy == "asyncio") {
      for (int i = 0; i < p.generations; ++i) grid = life_asyncio_step(grid, p);
#endif
    } else {
      std::fprintf(stderr, "unknown life strategy %s\n", strategy.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "life %s: %s\n", strategy.c_str(), e.what());
    return 1;
  }
  double secs = since(t0);
  std::printf("seconds=%.6f\nresult=%s\nok=1\npeak_vm_kb=%ld\n", secs, life::summary(grid, p.generations).c_str(),
              proc_status_kb("VmPeak"));
  return 0;
}

namespace {

life::Params life_params(const Config& cfg) {
  life::Params p;
  if (cfg.quick) {
    p.height = 8;
    p.width = 8;
    p.generations = 2;
  }
  return p;
}

/// Runs one C++ strategy in a fresh process so its peak memory is its own.
Sample life_cpp(const Config& cfg, const std::string& strategy) {
  auto p = life_params(cfg);
  char io[32];
  std::snprintf(io, sizeof io, "%g", p.io_seconds);
  auto r = run_child({cfg.self_exe, "__child", "life", strategy, std::to_string(p.height), std::to_string(p.width),
                      std::to_string(p.generations), io},
                     120);
  auto kv = Ctx::parse_kv(r.out);
  if (r.exit_code != 0 || !kv.count("seconds"))
    throw std::runtime_error("life child failed (exit " + std::to_string(r.exit_code) + "): " + r.err.substr(0, 200));
  Sample s{.seconds = std::stod(kv["seconds"]), .result = kv["result"]};
  s.peak_rss_kb = r.max_rss_kb;
  if (kv.count("peak_vm_kb")) s.peak_vm_kb = std::stol(kv["peak_vm_kb"]);
  return s;
}

void run_life(Ctx& ctx) {
  auto p = life_params(ctx.cfg);
  // The reference: the sequential rule without I/O, computed here.
  life::Grid g = life::start_grid(p);
  for (int i = 0; i < p.generations; ++i) {
    life::Grid next(g.height, g.width);
    for (int y = 0; y < g.height; ++y)
      for (int x = 0; x < g.width; ++x)
        next.set(y, x, life::rule(g.get(y, x), life::count_neighbors(y, x, [&](int a, int b) { return g.get(a, b); })));
    g = next;
  }
  ctx.reference(life::summary(g, p.generations));
  const Config& cfg = ctx.cfg;
  std::vector<std::string> pyargs{"--height", std::to_string(p.height), "--width", std::to_string(p.width),
                                  "--generations", std::to_string(p.generations)};
  auto py = [&](const char* strategy) {
    std::vector<std::string> v{"life.py", strategy};
    v.insert(v.end(), pyargs.begin(), pyargs.end());
    return v;
  };
  ctx.row({.strategy = "sequential", .workers = 1, .baseline = true, .cpp = [&cfg] { return life_cpp(cfg, "sequential"); },
           .py = py("sequential")});
  ctx.row({.strategy = "thread per cell (LockingGrid)", .workers = static_cast<unsigned>(p.height * p.width),
           .cpp = [&cfg] { return life_cpp(cfg, "threads"); }, .py = py("threads")});
  RowSpec q{.strategy = "queue pipeline (5 workers)", .workers = 5, .py = py("queue")};
#if CONCUR_LAB_HAVE_QUEUE
  q.cpp = [&cfg] { return life_cpp(cfg, "queue"); };
#else
  q.cpp_missing = missing_module("queue");
#endif
  ctx.row(q);
  RowSpec pool{.strategy = "ThreadPoolExecutor(10)", .workers = 10, .py = py("threadpool")};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [&cfg] { return life_cpp(cfg, "threadpool"); };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
  RowSpec co{.strategy = "coroutines (gather)", .workers = 1, .py = py("asyncio")};
#if CONCUR_LAB_HAVE_ASYNCIO
  co.cpp = [&cfg] { return life_cpp(cfg, "asyncio"); };
#else
  co.cpp_missing = missing_module("asyncio");
#endif
  ctx.row(co);
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "%dx%d grid, %d generations; each game_logic() blocks %.0f ms (select; asyncio.sleep for coroutines). "
                "Peak memory per strategy: rss = resident (wait4), vm = VmPeak (thread stacks reserve ~8 MB each).",
                p.height, p.width, p.generations, p.io_seconds * 1e3);
  ctx.note(buf);
}

}  // namespace

void add_life_experiment(std::vector<Experiment>& v) {
  v.push_back({"life", "Game of Life steps with blocking I/O per cell: thread per cell, queue, pool, coroutines (time, memory).",
               "thread per cell ~8 MB each; queue caps parallelism; coroutines < 1 KB each", run_life});
}

}  // namespace lab
