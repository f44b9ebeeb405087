// The machine's own ceiling for the 2-worker speedup figure, with no pool at all: the examples'
// exact task lists (examples/process/{gcd,rc4,sha256}.cpp, same rounds as bench/process/run.sh)
// run by one process alone, then by two processes at once (each the whole list). Two
// independent processes on two CPUs share nothing but the machine, so
//   scaling = 2 * t(one alone) / t(two at once)
// is the best any process pool can reach for that work on this machine (2.0 on ideal hardware).
// Also prints the list-scheduling bound of each task split (the seeds' gcd: four uneven tasks).
//
// Usage: process_raw_scaling [--reps N] [--gcd-rounds 30] [--rc4-rounds 10] [--sha-rounds 20]
// Prints one line per repetition, then the medians.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#if __has_include(<openssl/evp.h>) && defined(CONCUR_HAVE_OPENSSL)
#define SEED_WORK_WITH_SHA 1
#define RAW_HAVE_SHA 1
#else
#define RAW_HAVE_SHA 0
#endif
#include "../../examples/process/seed_work.hpp"  // the examples' exact work

namespace {

using Clock = std::chrono::steady_clock;
volatile long g_sink = 0;  // results go here so the work is not optimized away

// Runs `job` in `n` forked children at once (this program is single-threaded); seconds until all exit.
double in_processes(int n, const std::function<void()>& job) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      job();
      std::_Exit(0);
    }
    if (pid < 0) std::abort();
  }
  for (int i = 0; i < n; ++i) ::wait(nullptr);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Makespan bound of dealing `costs` in order to whichever of 2 workers is free first.
double list_schedule_bound(const std::vector<double>& costs) {
  double a = 0, b = 0, total = 0;
  for (double c : costs) {
    (a <= b ? a : b) += c;
    total += c;
  }
  return total / std::max(a, b);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, gcd_rounds = 30, rc4_rounds = 10, sha_rounds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--gcd-rounds")) gcd_rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rc4-rounds")) rc4_rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--sha-rounds")) sha_rounds = std::atoi(argv[i + 1]);
  }
  const std::vector<std::pair<long, long>> pairs = {
      {1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620}, {2039045, 2020802}};
  std::vector<long> sizes;  // rc4.cpp's sizes
  std::mt19937 rng(20261123);
  for (int i = 0; i < 10; ++i) sizes.push_back(149 * 1024 + static_cast<long>(rng() % ((384 - 149) * 1024)));

  const std::vector<std::pair<const char*, std::function<void()>>> jobs = {
      {"gcd", [&] { for (const auto& p : pairs) g_sink = g_sink + seed_work::gcd_task(p, gcd_rounds); }},
      {"rc4", [&] { for (long s : sizes) g_sink = g_sink + seed_work::crypto_process(s, "'Twas brillig", rc4_rounds); }},
#if RAW_HAVE_SHA
      {"sha", [&] { for (int i = 0; i < 10; ++i) g_sink = g_sink + static_cast<long>(seed_work::sha(1L << 20, i, sha_rounds).size()); }},
#endif
  };
  std::vector<std::vector<double>> scaling(jobs.size());
  for (int r = 0; r < reps; ++r) {
    std::printf("rep %d:", r + 1);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      const double one = in_processes(1, jobs[j].second);
      const double two = in_processes(2, jobs[j].second);
      scaling[j].push_back(2 * one / two);
      std::printf("  %s %.3f s alone, %.3f s two at once: %.2fx", jobs[j].first, one, two, 2 * one / two);
    }
    std::printf("\n");
  }
  std::printf("median raw 2-process scaling (no pool):");
  for (std::size_t j = 0; j < jobs.size(); ++j) std::printf("  %s %.2fx", jobs[j].first, median(scaling[j]));
  std::printf("\n");
  // gcd's work per pair is (min(a, b) - gcd + 1) iterations; rc4's is proportional to the size.
  std::vector<double> gcd_costs;
  for (const auto& [a, b] : pairs) gcd_costs.push_back(static_cast<double>(std::min(a, b) - seed_work::gcd({a, b}) + 1));
  std::vector<double> rc4_costs(sizes.begin(), sizes.end());
  std::printf("list-scheduling bound of the task split (2 workers): gcd %.3fx  rc4 %.3fx  sha %.3fx\n",
              list_schedule_bound(gcd_costs), list_schedule_bound(rc4_costs),
              list_schedule_bound(std::vector<double>(10, 1.0)));
  return 0;
}
