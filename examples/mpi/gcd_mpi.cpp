// The seeds' gcd experiment (Effective Python §64) on MPI ranks: the same registered task as the
// ProcessPoolExecutor example, with concur::mpi::MPIPoolExecutor — the C++ twin of
//
//   # mpiexec -n 3 python -m mpi4py.futures gcd.py
//   with MPIPoolExecutor() as pool:
//       results = list(pool.map(gcd, NUMBERS))
//
// Usage: mpiexec -n <workers + 1> mpi_gcd [--rounds R] [--workers W] [--quick] [--seconds]
//   --rounds R   repeat every gcd R times (benchmarks)
//   --quick      the pairs divided by 8 (as concur-lab's and python/gcd.py's --quick)
//   --workers W  use only W of the worker ranks
//   --seconds    print only the executor's wall time in seconds (machine-readable); the exit status
//                is non-zero if a result is wrong
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "concur/mpi.hpp"

namespace {

long gcd(std::pair<long, long> pair) {
  const auto [a, b] = pair;
  const long low = std::min(a, b);
  for (long i = low; i > 0; --i) {
    if (a % i == 0 && b % i == 0) return i;
  }
  std::abort();  // unreachable: 1 divides everything
}

// One work item: gcd(pair) computed `rounds` times (the result must not be optimized away).
long gcd_task(std::pair<long, long> pair, int rounds) {
  long r = 0;
  for (int i = 0; i < rounds; ++i) {
    volatile long a = pair.first;  // defeat hoisting the loop-invariant call
    r = gcd({a, pair.second});
  }
  return r;
}
CONCUR_TASK(gcd_task);

std::vector<std::pair<long, long>> kNumbers = {
    {1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620}, {2039045, 2020802}};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  concur::mpi::Runtime mpi(argc, argv);  // ranks != 0 serve tasks and exit here

  int rounds = 1;
  std::optional<std::size_t> workers;
  bool seconds_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) workers = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds_only = true;
    else if (!std::strcmp(argv[i], "--quick")) {
      for (auto& p : kNumbers) p = {p.first / 8, p.second / 8};
    }
  }
  std::vector<long> truth;
  for (const auto& p : kNumbers) truth.push_back(std::gcd(p.first, p.second));

  auto t0 = std::chrono::steady_clock::now();
  std::vector<long> expected;
  if (!seconds_only) {
    for (const auto& p : kNumbers) expected.push_back(gcd_task(p, rounds));
    std::printf("sequential:                      %.3f s\n", seconds_since(t0));
  }

  std::vector<long> results;
  std::size_t used = 0;
  {
    concur::mpi::MPIPoolExecutor pool({.max_workers = workers});
    pool.bootup();  // time the work, not the handshake
    used = pool.num_workers();
    t0 = std::chrono::steady_clock::now();
    std::vector<concur::futures::Future<long>> fs;
    for (const auto& p : kNumbers) fs.push_back(pool.submit(gcd_task, p, rounds));
    for (auto& f : fs) results.push_back(f.result());
  }
  const double t = seconds_since(t0);
  if (seconds_only) {
    std::printf("%.6f\n", t);
    return results == truth ? 0 : 1;
  }
  std::printf("MPIPoolExecutor(%zu worker ranks): %.3f s\n", used, t);
  for (std::size_t i = 0; i < results.size(); ++i) {
    std::printf("gcd(%ld, %ld) = %ld\n", kNumbers[i].first, kNumbers[i].second, results[i]);
  }
  return results == expected && results == truth ? 0 : 1;
}
