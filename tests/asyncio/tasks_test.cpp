// Tests for concur/asyncio/tasks.hpp: gather, wait_for, timeout, wait, as_completed, shield.
#include "concur/asyncio/tasks.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace asyncio = concur::asyncio;
using asyncio::Task;
using namespace std::chrono_literals;

namespace {
Task<int> value_after(int v, std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  co_return v;
}
Task<std::string> text_after(std::string s, std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  co_return s;
}
Task<void> fail_after(std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  throw std::logic_error("failed");
}
Task<int> fail_int_after(std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  throw std::logic_error("failed");
}
}  // namespace

TEST(Gather, TupleOfDifferentTypes) {
  asyncio::run([]() -> Task<void> {
    auto [a, b, c] = co_await asyncio::gather(value_after(1, 5ms), text_after("x", 1ms),
                                              []() -> Task<void> { co_return; }());
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, "x");
    (void)c;  // std::monostate for void
  }());
}

TEST(Gather, VectorKeepsOrder) {
  asyncio::run([]() -> Task<void> {
    std::vector<Task<int>> ts;
    for (int i = 0; i < 100; ++i) ts.push_back(value_after(i, std::chrono::milliseconds(100 - i) / 20));
    auto rs = co_await asyncio::gather(std::move(ts));
    EXPECT_EQ(rs.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(rs[i], i);
    std::vector<Task<void>> vs;
    int count = 0;
    for (int i = 0; i < 10; ++i) vs.push_back([](int* c) -> Task<void> {
      co_await asyncio::sleep(0);
      ++*c;
    }(&count));
    co_await asyncio::gather(std::move(vs));
    EXPECT_EQ(count, 10);
  }());
}

TEST(Gather, FirstExceptionPropagatesOthersKeepRunning) {
  asyncio::run([]() -> Task<void> {
    auto slow = asyncio::create_task(value_after(7, 20ms));
    EXPECT_THROW(co_await asyncio::gather(slow, fail_after(1ms)), std::logic_error);
    EXPECT_FALSE(slow.done());
    EXPECT_EQ(co_await slow, 7);
  }());
}

TEST(Gather, ReturnExceptions) {
  asyncio::run([]() -> Task<void> {
    auto [a, b] = co_await asyncio::gather(asyncio::return_exceptions, value_after(1, 1ms), fail_after(1ms));
    EXPECT_EQ(std::get<0>(a), 1);
    EXPECT_EQ(b.index(), 1u);
    EXPECT_THROW(std::rethrow_exception(std::get<1>(b)), std::logic_error);
    std::vector<Task<int>> ts;
    ts.push_back(value_after(1, 1ms));
    ts.push_back(fail_int_after(1ms));
    auto rs = co_await asyncio::gather(asyncio::return_exceptions, std::move(ts));
    EXPECT_EQ(rs[0].index(), 0u);
    EXPECT_EQ(rs[1].index(), 1u);
  }());
}

TEST(Gather, CancellingGatherCancelsChildren) {
  asyncio::run([]() -> Task<void> {
    auto a = asyncio::create_task(value_after(1, 10s));
    auto b = asyncio::create_task(value_after(2, 10s));
    auto g = asyncio::create_task(asyncio::gather(a, b));
    co_await asyncio::sleep(1ms);
    g.cancel();
    EXPECT_THROW(co_await g, concur::CancelledError);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
  }());
}

TEST(WaitFor, ReturnsInTimeOrRaisesTimeoutError) {
  asyncio::run([]() -> Task<void> {
    EXPECT_EQ(co_await asyncio::wait_for(value_after(3, 1ms), 1s), 3);
    bool cancelled_inside = false;
    auto slow = [](bool* c) -> Task<int> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const concur::CancelledError&) {
        *c = true;
        throw;
      }
      co_return 0;
    };
    EXPECT_THROW(co_await asyncio::wait_for(slow(&cancelled_inside), 5ms), concur::TimeoutError);
    EXPECT_TRUE(cancelled_inside);
    EXPECT_EQ(co_await asyncio::wait_for(value_after(4, 1ms), std::nullopt), 4);
    // The task is usable after a timeout: no stray cancellation left.
    co_await asyncio::sleep(1ms);
  }());
}

TEST(Timeout, ScopeCancelsWhatRunsInside) {
  asyncio::run([]() -> Task<void> {
    EXPECT_THROW(co_await asyncio::timeout(5ms, asyncio::sleep(10s)), concur::TimeoutError);
    co_await asyncio::timeout(1s, asyncio::sleep(1ms));
    // An outer cancel is not turned into TimeoutError.
    auto t = asyncio::create_task(asyncio::timeout(10s, asyncio::sleep(10s)));
    co_await asyncio::sleep(1ms);
    t.cancel();
    EXPECT_THROW(co_await t, concur::CancelledError);
  }());
}

TEST(Wait, FirstCompletedAllCompletedAndTimeout) {
  asyncio::run([]() -> Task<void> {
    std::vector<Task<int>> ts{value_after(1, 1ms), value_after(2, 50ms)};
    auto [done, pending] = co_await asyncio::wait(ts, {.return_when = asyncio::FIRST_COMPLETED});
    EXPECT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].result(), 1);
    EXPECT_EQ(pending.size(), 1u);
    auto r2 = co_await asyncio::wait(pending, {.timeout = 1ms});
    EXPECT_EQ(r2.done.size(), 0u);
    EXPECT_EQ(r2.pending.size(), 1u);
    auto r3 = co_await asyncio::wait(pending);
    EXPECT_EQ(r3.done.size(), 1u);
    std::vector<Task<int>> fs{fail_int_after(1ms), value_after(2, 10s)};
    auto r4 = co_await asyncio::wait(fs, {.return_when = asyncio::FIRST_EXCEPTION});
    EXPECT_EQ(r4.done.size(), 1u);
    EXPECT_THROW(r4.done[0].result(), std::logic_error);
    r4.pending[0].cancel();
  }());
}

TEST(AsCompleted, YieldsInCompletionOrder) {
  asyncio::run([]() -> Task<void> {
    std::vector<Task<int>> ts{value_after(3, 30ms), value_after(1, 1ms), value_after(2, 15ms)};
    std::vector<int> got;
    for (auto next : asyncio::as_completed(std::move(ts))) got.push_back(co_await next);
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
    std::vector<Task<int>> slow{value_after(1, 10s)};
    auto ac = asyncio::as_completed(slow, 5ms);
    EXPECT_THROW(co_await ac.next(), concur::TimeoutError);
    slow[0].cancel();
  }());
}

TEST(Shield, InnerSurvivesOuterCancellation) {
  asyncio::run([]() -> Task<void> {
    auto inner = asyncio::create_task(value_after(9, 20ms));
    auto outer = asyncio::create_task([](Task<int> i) -> Task<int> { co_return co_await asyncio::shield(i); }(inner));
    co_await asyncio::sleep(1ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, concur::CancelledError);
    EXPECT_FALSE(inner.cancelled());
    EXPECT_EQ(co_await inner, 9);
  }());
}
