// The seeds' gcd experiment (Effective Python §64): a naive gcd of four pairs, sequentially and
// with ProcessPoolExecutor(max_workers=2) — the C++ twin of
//
//   def main():
//       pool = ProcessPoolExecutor(max_workers=2)
//       results = list(pool.map(gcd, NUMBERS))
//   if __name__ == '__main__':
//       main()
//
// Usage: process_gcd [--workers N] [--rounds R]   (R repeats every gcd R times: for benchmarks)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "concur/futures/process_pool.hpp"
#include "seed_work.hpp"

namespace {

int gcd_rounds = 1;  // --rounds; reaches workers as gcd_task's argument

// One work item: the seeds' gcd(pair) computed `rounds` times (seed_work.hpp).
long gcd_task(std::pair<long, long> pair, int rounds) { return seed_work::gcd_task(pair, rounds); }
CONCUR_TASK(gcd_task);

const std::vector<std::pair<long, long>> kNumbers = {
    {1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620}, {2039045, 2020802}};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  concur::futures::process_worker_main(argc, argv);  // `if __name__ == "__main__":`

  int workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) gcd_rounds = std::atoi(argv[i + 1]);
  }

  auto t0 = std::chrono::steady_clock::now();
  std::vector<long> expected;
  for (const auto& p : kNumbers) expected.push_back(gcd_task(p, gcd_rounds));
  std::printf("sequential:                          %.3f s\n", seconds_since(t0));

  t0 = std::chrono::steady_clock::now();
  std::vector<long> results;
  {
    concur::futures::ProcessPoolExecutor pool({.max_workers = static_cast<std::size_t>(workers)});
    std::vector<concur::futures::Future<long>> fs;
    for (const auto& p : kNumbers) fs.push_back(pool.submit(gcd_task, p, gcd_rounds));
    for (auto& f : fs) results.push_back(f.result());
  }
  std::printf("ProcessPoolExecutor(max_workers=%d): %.3f s\n", workers, seconds_since(t0));
  for (std::size_t i = 0; i < results.size(); ++i) {
    std::printf("gcd(%ld, %ld) = %ld\n", kNumbers[i].first, kNumbers[i].second, results[i]);
  }
  return results == expected ? 0 : 1;
}
