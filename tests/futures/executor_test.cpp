#include "concur/futures/executor.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "concur/futures/thread_pool.hpp"

namespace cf = concur::futures;

TEST(Executor, PolymorphicShutdown) {
  std::unique_ptr<cf::Executor> ex = std::make_unique<cf::ThreadPoolExecutor>(cf::ThreadPoolOptions{.max_workers = 1});
  ex->shutdown({.wait = true, .cancel_futures = false});
  ex->shutdown();
}

TEST(Executor, MapResultsCancelRemainingWhenDestroyed) {
  cf::ThreadPoolExecutor pool({.max_workers = 1});
  std::atomic<bool> release{false};
  auto blocker = pool.submit([&] { while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1)); });
  std::vector<cf::Future<int>> left;
  {
    std::vector<int> xs{1, 2, 3};
    auto results = pool.map([](int x) { return x; }, xs);
    left.assign(results.pending().begin(), results.pending().end());
  }
  release = true;
  for (auto& f : left) EXPECT_TRUE(f.cancelled());
  blocker.result();
}

TEST(Executor, MapOfMoveOnlyResults) {
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<int> xs{1, 2, 3};
  int sum = 0;
  for (auto p : pool.map([](int x) { return std::make_unique<int>(x); }, xs)) sum += *p;
  EXPECT_EQ(sum, 6);
}
