#include "concur/futures/future.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using concur::futures::AnyFuture;
using concur::futures::Future;
using concur::futures::Promise;

namespace {
struct MyError : std::runtime_error {
  using std::runtime_error::runtime_error;
  int code = 7;
};
}  // namespace

TEST(Future, PromiseSetsResult) {
  Promise<int> p;
  auto f = p.get_future();
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.running());
  p.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.result(), 42);  // same value every time, as Python returns the same object
  EXPECT_EQ(f.exception(), nullptr);
}

TEST(Future, VoidFuture) {
  Promise<void> p;
  auto f = p.get_future();
  p.set_result();
  f.result();
  EXPECT_TRUE(f.done());
}

TEST(Future, ExceptionKeepsItsType) {
  Promise<std::string> p;
  auto f = p.get_future();
  p.set_exception(std::make_exception_ptr(MyError("boom")));
  EXPECT_THROW(f.result(), MyError);
  try {
    f.result();
  } catch (const MyError& e) {
    EXPECT_EQ(e.code, 7);
    EXPECT_STREQ(e.what(), "boom");
  }
  EXPECT_NE(f.exception(), nullptr);
}

TEST(Future, ResultTimeoutThrowsTimeoutError) {
  Promise<int> p;
  auto f = p.get_future();
  EXPECT_THROW(f.result(10ms), concur::TimeoutError);
  EXPECT_THROW(f.result(-1s), concur::TimeoutError);  // negative polls
  EXPECT_THROW(f.exception(0s), concur::TimeoutError);
  p.set_result(1);
  EXPECT_EQ(f.result(0s), 1);
  EXPECT_EQ(f.exception(0s), nullptr);
}

TEST(Future, CancelOnlyWhilePending) {
  Promise<int> p;
  auto f = p.get_future();
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancel());  // already cancelled: still true, as Python
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), concur::CancelledError);
  EXPECT_THROW(f.exception(), concur::CancelledError);
  EXPECT_THROW(p.set_result(1), concur::InvalidStateError);
  EXPECT_FALSE(p.set_running_or_notify_cancel());

  Promise<int> q;
  auto g = q.get_future();
  EXPECT_TRUE(q.set_running_or_notify_cancel());
  EXPECT_TRUE(g.running());
  EXPECT_FALSE(g.cancel());
  EXPECT_THROW(q.set_running_or_notify_cancel(), concur::InvalidStateError);
  q.set_result(3);
  EXPECT_FALSE(g.cancel());
  EXPECT_FALSE(g.cancelled());
  EXPECT_EQ(g.result(), 3);
}

TEST(Future, SetTwiceIsInvalidState) {
  Promise<int> p;
  p.set_result(1);
  EXPECT_THROW(p.set_result(2), concur::InvalidStateError);
  EXPECT_THROW(p.set_exception(std::make_exception_ptr(MyError("x"))), concur::InvalidStateError);
  EXPECT_EQ(p.get_future().result(), 1);
}

TEST(Future, AbandonedPromiseBreaksTheFuture) {
  Future<int> f;
  {
    Promise<int> p;
    f = p.get_future();
  }
  EXPECT_THROW(f.result(), concur::futures::BrokenPromise);
}

TEST(Future, CallbacksRunInOrderAndAtOnceWhenDone) {
  Promise<int> p;
  auto f = p.get_future();
  std::vector<int> order;
  f.add_done_callback([&](const Future<int>& g) { order.push_back(g.result()); });
  f.add_done_callback([&](const Future<int>&) { order.push_back(-1); });
  EXPECT_TRUE(order.empty());
  p.set_result(5);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], 5);
  EXPECT_EQ(order[1], -1);
  f.add_done_callback([&](const Future<int>&) { order.push_back(9); });  // already done: now
  EXPECT_EQ(order.back(), 9);
}

TEST(Future, ThrowingCallbackIsReportedNotPropagated) {
  Promise<int> p;
  auto f = p.get_future();
  bool second = false;
  f.add_done_callback([](const Future<int>&) { throw MyError("callback failure"); });
  f.add_done_callback([&](const Future<int>&) { second = true; });
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(p.set_result(1));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(second);
  EXPECT_NE(err.find("callback failure"), std::string::npos) << err;
  EXPECT_NE(err.find("MyError"), std::string::npos) << err;
}

TEST(Future, CallbackMayTouchTheFutureAgain) {
  Promise<int> p;
  auto f = p.get_future();
  int seen = 0;
  f.add_done_callback([&](const Future<int>& g) {
    g.add_done_callback([&](const Future<int>&) { seen = 2; });  // runs at once, no deadlock
  });
  p.set_result(1);
  EXPECT_EQ(seen, 2);
}

TEST(Future, CancelRunsCallbacks) {
  Promise<int> p;
  auto f = p.get_future();
  bool cancelled_seen = false;
  f.add_done_callback([&](const Future<int>& g) { cancelled_seen = g.cancelled(); });
  f.cancel();
  EXPECT_TRUE(cancelled_seen);
}

TEST(Future, HandlesCompareEqualWhenSharingState) {
  Promise<int> p, q;
  auto a = p.get_future();
  auto b = a;
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == q.get_future());
  AnyFuture any = a;
  EXPECT_EQ(any, AnyFuture(b));
  p.set_result(4);
  EXPECT_EQ(any.as<int>().result(), 4);
  EXPECT_EQ(any.exception(), nullptr);
}

TEST(Future, MoveOnlyResultCanBeTaken) {
  Promise<std::unique_ptr<int>> p;
  auto f = p.get_future();
  p.set_result(std::make_unique<int>(11));
  EXPECT_EQ(*f.result(), 11);
  auto owned = f.take();
  EXPECT_EQ(*owned, 11);
}

TEST(Future, ResultWakesBlockedThreads) {
  Promise<int> p;
  auto f = p.get_future();
  std::atomic<int> sum{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 8; ++i) waiters.emplace_back([f, &sum] { sum += f.result(); });
  std::this_thread::sleep_for(20ms);
  p.set_result(3);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(sum.load(), 24);
}

TEST(Future, ConstructorOfResultThrowingBecomesTheException) {
  struct Fragile {
    explicit Fragile(int v) {
      if (v < 0) throw MyError("negative");
    }
  };
  Promise<Fragile> p;
  auto f = p.get_future();
  p.set_result(-1);
  EXPECT_THROW(f.result(), MyError);
}
