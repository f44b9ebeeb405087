// 1,000 tasks (scaled by CONCUR_STRESS_SCALE), a random 5% of which crash their worker in
// different ways: exactly those fail with BrokenProcessPool, the others return the right value,
// and after shutdown no worker is left, not even as a zombie.
#include "concur/futures/process_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
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
