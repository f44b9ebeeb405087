// MPIPoolExecutor throughput on trivial tasks: map(inc, range(N)) at chunksize 1 and 100, medians
// of several runs, printed as `<name> <tasks/s>` lines (bench/mpi/run.sh pairs them with
// mpi_bench.py's, run by mpi4py.futures). Correctness is asserted, speed only reported.
//   mpiexec -n 3 mpi_bench [--tasks N] [--runs R] [--warmup W] [--chunksize C] [--phases]
// (chunksize 100 runs 10 N tasks; W unmeasured runs first (default 0): a process's first run pays
// for faulting in the memory its N futures need; --chunksize runs only that chunk size; --phases also prints, on
// stderr, how long map() took to return — the submitting — beside the whole run)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

#include "concur/mpi.hpp"

namespace {

long inc(long x) { return x + 1; }
CONCUR_TASK(inc);

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  concur::mpi::Runtime mpi(argc, argv);
  long tasks = 20000;
  int runs = 5;
  int warmup = 0;
  std::size_t only = 0;
  bool phases = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--phases")) phases = true;
    if (has_value && !std::strcmp(argv[i], "--tasks")) tasks = std::atol(argv[++i]);
    else if (has_value && !std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[++i]);
    else if (has_value && !std::strcmp(argv[i], "--warmup")) warmup = std::atoi(argv[++i]);
    else if (has_value && !std::strcmp(argv[i], "--chunksize")) only = static_cast<std::size_t>(std::atol(argv[++i]));
  }
  concur::mpi::MPIPoolExecutor pool;
  pool.bootup();
  const long base = tasks;
  for (std::size_t chunksize : {std::size_t{1}, std::size_t{100}}) {
    if (only != 0 && chunksize != only) continue;
    tasks = chunksize == 1 ? base : 10 * base;  // long enough to measure at either speed
    std::vector<long> xs(static_cast<std::size_t>(tasks));
    std::iota(xs.begin(), xs.end(), 0L);
    std::vector<double> rates;
    for (int r = -warmup; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      long sum = 0;
      auto results = pool.map(inc, xs, {.chunksize = chunksize});
      const auto t1 = std::chrono::steady_clock::now();
      for (long v : results) sum += v;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (sum != tasks * (tasks + 1) / 2) {
        std::fprintf(stderr, "wrong sum %ld\n", sum);
        return 1;
      }
      if (r >= 0) rates.push_back(static_cast<double>(tasks) / s);
      if (phases) {
        std::fprintf(stderr, "chunksize%zu%s: map() returned after %.1f ms, done after %.1f ms\n", chunksize,
                     r < 0 ? " (warm-up)" : "",
                     std::chrono::duration<double, std::milli>(t1 - t0).count(), s * 1e3);
      }
    }
    std::printf("chunksize%zu %.0f\n", chunksize, median(rates));
  }
  std::printf("# %zu worker ranks, %ld tasks (x10 at chunksize 100), median of %d runs after %d warm-up\n",
              pool.num_workers(), base, runs, warmup);
  return 0;
}
