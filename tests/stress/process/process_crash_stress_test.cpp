// 1,000 tasks (scaled by CONCUR_STRESS_SCALE), a random 5% of which crash their worker in
// different ways: exactly those fail with BrokenProcessPool, the others return the right value,
// and after shutdown no worker is left, not even as a zombie.
#include "concur/futures/process_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "process/process_test_util.hpp"

using namespace std::chrono_literals;

namespace stress {
long work(int i, int crash_kind) {
  if (crash_kind >= 0) ptest::crash_worker(crash_kind);
  long s = 0;
  for (int k = 0; k <= i % 1000; ++k) s += k;
  return s + i;
}
CONCUR_TASK(stress::work);
}  // namespace stress

namespace {
double scale() {
  const char* s = std::getenv("CONCUR_STRESS_SCALE");
  return s ? std::max(0.01, std::atof(s)) : 1.0;
}
}  // namespace

TEST(ProcessPoolStress, RandomCrashesFailOnlyTheirTasks) {
  const int n = std::max(60, static_cast<int>(1000 * scale()));
  std::mt19937 rng(20261123);
  std::vector<int> kind(n, -1);
  const int crashes = std::max(3, n / 20);
  std::vector<int> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = i;
  std::shuffle(idx.begin(), idx.end(), rng);
  for (int c = 0; c < crashes; ++c) kind[idx[c]] = c % ptest::kCrashKinds;

  {
    concur::futures::ProcessPoolExecutor pool({.max_workers = 2});
    std::vector<concur::futures::Future<long>> fs;
    for (int i = 0; i < n; ++i) fs.push_back(pool.submit(stress::work, i, kind[i]));
    int failed = 0, ok = 0;
    for (int i = 0; i < n; ++i) {
      if (kind[i] >= 0) {
        EXPECT_THROW(fs[i].result(300s), concur::futures::BrokenProcessPool) << "task " << i;
        ++failed;
      } else {
        long expect = i;
        for (int k = 0; k <= i % 1000; ++k) expect += k;
        EXPECT_EQ(fs[i].result(300s), expect) << "task " << i;
        ++ok;
      }
    }
    EXPECT_EQ(failed, crashes);
    EXPECT_EQ(ok, n - crashes);
    pool.shutdown();
    EXPECT_TRUE(pool.worker_pids().empty());
  }
  EXPECT_TRUE(ptest::no_children());
}

// One call at a time, the next one sent after a random pause of 0-60 us: it reaches the worker
// while it still polls its channel after the last result (kIdleSpin, 15 us) or after it went to
// sleep, both paths many times; crashes and max_tasks_per_child recycling are mixed in, and two
// threads submit so the direct-send path races the manager. Every result must come back right.
TEST(ProcessPoolStress, SerialRoundTripsAcrossTheWorkersIdlePoll) {
  const int n = std::max(100, static_cast<int>(1500 * scale()));
  concur::futures::ProcessPoolExecutor pool({.max_workers = 2, .max_tasks_per_child = 97});
  auto run = [&](int seed, int* failures) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    for (int i = 0; i < n; ++i) {
      const int crash = (rng() % 100 == 0) ? static_cast<int>(rng() % ptest::kCrashKinds) : -1;
      auto f = pool.submit(stress::work, i, crash);
      if (crash >= 0) {
        try {
          f.result(300s);
          ++*failures;
        } catch (const concur::futures::BrokenProcessPool&) {
        }
      } else {
        long expect = i;
        for (int k = 0; k <= i % 1000; ++k) expect += k;
        if (f.result(300s) != expect) ++*failures;
      }
      const auto pause = std::chrono::microseconds(rng() % 61);
      const auto until = std::chrono::steady_clock::now() + pause;
      while (std::chrono::steady_clock::now() < until) {
      }
    }
  };
  int failures_a = 0, failures_b = 0;
  std::thread other([&] { run(2, &failures_b); });
  run(1, &failures_a);
  other.join();
  EXPECT_EQ(failures_a, 0);
  EXPECT_EQ(failures_b, 0);
  pool.shutdown();
  EXPECT_TRUE(pool.worker_pids().empty());
  EXPECT_TRUE(ptest::no_children());
}
