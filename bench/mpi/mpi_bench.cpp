// MPIPoolExecutor throughput on trivial tasks: map(inc, range(N)) at chunksize 1 and 100, medians
// of several runs, printed as `<name> <tasks/s>` lines (bench/mpi/run.sh pairs them with
// mpi_bench.py's, run by mpi4py.futures). Correctness is asserted, speed only reported.
//   mpiexec -n 3 mpi_bench [--tasks N] [--runs R]   (chunksize 100 runs 10 N tasks)
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
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tasks")) tasks = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
  }
  concur::mpi::MPIPoolExecutor pool;
  pool.bootup();
  const long base = tasks;
  for (std::size_t chunksize : {std::size_t{1}, std::size_t{100}}) {
    tasks = chunksize == 1 ? base : 10 * base;  // long enough to measure at either speed
    std::vector<long> xs(static_cast<std::size_t>(tasks));
    std::iota(xs.begin(), xs.end(), 0L);
    std::vector<double> rates;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      long sum = 0;
      for (long v : pool.map(inc, xs, {.chunksize = chunksize})) sum += v;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (sum != tasks * (tasks + 1) / 2) {
        std::fprintf(stderr, "wrong sum %ld\n", sum);
        return 1;
      }
      rates.push_back(static_cast<double>(tasks) / s);
    }
    std::printf("chunksize%zu %.0f\n", chunksize, median(rates));
  }
  std::printf("# %zu worker ranks, %ld tasks (x10 at chunksize 100), median of %d runs\n", pool.num_workers(),
              base, runs);
  return 0;
}
