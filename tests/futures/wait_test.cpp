#include "concur/futures/wait.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "concur/futures/thread_pool.hpp"

using namespace std::chrono_literals;
using concur::futures::AnyFuture;
using concur::futures::Future;
using concur::futures::Promise;
namespace cf = concur::futures;

TEST(Wait, AllCompleted) {
  std::vector<Promise<int>> ps(3);
  std::vector<Future<int>> fs;
  for (auto& p : ps) fs.push_back(p.get_future());
  std::thread t([&] {
    for (int i = 0; i < 3; ++i) ps[i].set_result(i);
  });
  auto [done, not_done] = cf::wait(fs);
  t.join();
  EXPECT_EQ(done.size(), 3u);
  EXPECT_TRUE(not_done.empty());
}

TEST(Wait, TimeoutReturnsPendingInNotDone) {
  Promise<int> a, b;
  a.set_result(1);
  std::vector<Future<int>> fs{a.get_future(), b.get_future()};
  auto r = cf::wait(fs, {.timeout = 20ms});
  ASSERT_EQ(r.done.size(), 1u);
  ASSERT_EQ(r.not_done.size(), 1u);
  EXPECT_EQ(r.done[0], fs[0]);
  EXPECT_EQ(r.not_done[0], fs[1]);
}

TEST(Wait, FirstCompleted) {
  Promise<int> a, b;
  std::vector<Future<int>> fs{a.get_future(), b.get_future()};
  std::thread t([&] { std::this_thread::sleep_for(10ms); b.set_result(2); });
  auto r = cf::wait(fs, {.return_when = cf::FIRST_COMPLETED});
  t.join();
  ASSERT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.done[0], fs[1]);
}

TEST(Wait, FirstExceptionIgnoresCancelledAndSuccess) {
  Promise<int> ok, cancelled, bad, never;
  std::vector<Future<int>> fs{ok.get_future(), cancelled.get_future(), bad.get_future(),
                              never.get_future()};
  ok.set_result(1);
  fs[1].cancel();
  auto r1 = cf::wait(fs, {.timeout = 10ms, .return_when = cf::FIRST_EXCEPTION});
  EXPECT_EQ(r1.not_done.size(), 2u);  // no exception yet: waited for the timeout
  std::thread t([&] { bad.set_exception(std::make_exception_ptr(std::runtime_error("x"))); });
  auto r2 = cf::wait(fs, {.return_when = cf::FIRST_EXCEPTION});
  t.join();
  EXPECT_EQ(r2.done.size(), 3u);
  EXPECT_EQ(r2.not_done.size(), 1u);
}

TEST(Wait, MixedResultTypesAndExecutors) {
  cf::ThreadPoolExecutor p1({.max_workers = 1}), p2({.max_workers = 1});
  auto fi = p1.submit([] { return 1; });
  auto fs = p2.submit([] { return std::string("s"); });
  auto r = cf::wait({fi, fs});
  EXPECT_EQ(r.done.size(), 2u);
  EXPECT_EQ(r.done[1].as<std::string>().result(), "s");
  int n = 0;
  for (const AnyFuture& f : cf::as_completed({fi, fs})) {
    EXPECT_TRUE(f.done());
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(AsCompleted, FinishedFirstThenInCompletionOrderIncludingCancelled) {
  Promise<int> a, b, c, d;
  std::vector<Future<int>> fs{a.get_future(), b.get_future(), c.get_future(), d.get_future()};
  c.set_result(3);
  a.set_result(1);
  std::vector<Future<int>> order;
  auto range = cf::as_completed(fs);
  std::thread t([&] {
    std::this_thread::sleep_for(10ms);
    fs[3].cancel();
    std::this_thread::sleep_for(10ms);
    b.set_result(2);
  });
  for (const auto& f : range) order.push_back(f);
  t.join();
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0], fs[0]);  // already done: input order
  EXPECT_EQ(order[1], fs[2]);
  EXPECT_EQ(order[2], fs[3]);  // cancelled ones are yielded too
  EXPECT_EQ(order[3], fs[1]);
  EXPECT_TRUE(order[2].cancelled());
}

TEST(AsCompleted, TimeoutThrows) {
  Promise<int> a, b;
  a.set_result(1);
  std::vector<Future<int>> fs{a.get_future(), b.get_future()};
  auto range = cf::as_completed(fs, 20ms);
  auto it = range.begin();
  EXPECT_EQ(*it, fs[0]);
  EXPECT_THROW(++it, concur::TimeoutError);
}

TEST(AsCompleted, DuplicatesYieldedOnce) {
  Promise<int> a;
  a.set_result(1);
  auto f = a.get_future();
  std::vector<Future<int>> fs{f, f, f};
  int n = 0;
  for (const auto& g : cf::as_completed(fs)) {
    EXPECT_EQ(g, f);
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(AsCompleted, EmptyInput) {
  std::vector<Future<int>> none;
  int n = 0;
  for (const auto& g : cf::as_completed(none)) {
    (void)g;
    ++n;
  }
  EXPECT_EQ(n, 0);
  auto r = cf::wait(none, {.return_when = cf::FIRST_COMPLETED});
  EXPECT_TRUE(r.done.empty());
}
