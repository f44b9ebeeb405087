// Bursts through the loop's fast paths: gather of a vector that schedules and watches its tasks
// in one pass, the chunked ready queue (tasks and callbacks interleaved across many chunk
// boundaries, FIFO order), frames from the small-block allocator, sleep(0) yields and sleep
// timers allocated per sleep. Checks: order, exactly-once bodies, results in order, errors and
// cancellation through gather, a gather that fails while scheduling leaves no dangling waiter
// (ASan), and — under ASan/LSan — no leak.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <vector>

#include "concur/asyncio.hpp"
#include "stress_scale.hpp"

namespace asyncio = concur::asyncio;
using concur::testing::scaled;
using asyncio::Task;
using namespace std::chrono_literals;

namespace {


struct Log {
  std::vector<int> runs;   // per task: bodies finished (must be 1)
  std::vector<int> order;  // callback ids in the order they ran
  long steps = 0;
};

Task<int> yielder(Log& log, int id, int yields) {
  for (int i = 0; i < yields; ++i) {
    co_await asyncio::sleep(0);
    ++log.steps;
  }
  ++log.runs[static_cast<std::size_t>(id)];
  co_return id * 2;
}

TEST(AsyncioSpawnBurst, GatherOfYieldersAndCallbacksKeepsOrder) {
  const int n = static_cast<int>(scaled(200'000, 2000));
  asyncio::run([](int n) -> Task<void> {
    Log log;
    log.runs.assign(static_cast<std::size_t>(n), 0);
    std::minstd_rand rng(7);
    std::vector<Task<int>> ts;
    long expected_steps = 0;
    for (int i = 0; i < n; ++i) {
      const int y = static_cast<int>(rng() % 4);
      expected_steps += y;
      ts.push_back(yielder(log, i, y));
    }
    // Callbacks queued between the task steps: they must run in the order they were queued.
    auto& loop = asyncio::get_running_loop();
    for (int i = 0; i < n / 4; ++i) loop.call_soon([&log, i] { log.order.push_back(i); });
    std::vector<int> rs = co_await asyncio::gather(std::move(ts));
    EXPECT_EQ(rs.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(rs[static_cast<std::size_t>(i)], i * 2);
      EXPECT_EQ(log.runs[static_cast<std::size_t>(i)], 1);
    }
    EXPECT_EQ(log.steps, expected_steps);
    EXPECT_EQ(log.order.size(), static_cast<std::size_t>(n / 4));
    if (log.order.size() != static_cast<std::size_t>(n / 4)) co_return;
    for (int i = 0; i < n / 4; ++i) EXPECT_EQ(log.order[static_cast<std::size_t>(i)], i);
  }(n));
}

Task<void> fails_after(int yields, bool fail) {
  for (int i = 0; i < yields; ++i) co_await asyncio::sleep(0);
  if (fail) throw std::runtime_error("child failed");
}

TEST(AsyncioSpawnBurst, GatherRaisesTheFirstFailureAndReturnsExceptions) {
  const int n = static_cast<int>(scaled(50'000, 1000));
  asyncio::run([](int n) -> Task<void> {
    {
      std::vector<Task<void>> ts;
      for (int i = 0; i < n; ++i) ts.push_back(fails_after(i % 3, i == n / 2));
      EXPECT_THROW(co_await asyncio::gather(std::move(ts)), std::runtime_error);
    }
    {
      std::vector<Task<void>> ts;
      for (int i = 0; i < n; ++i) ts.push_back(fails_after(i % 3, i % 1000 == 1));
      auto out = co_await asyncio::gather(asyncio::return_exceptions, std::move(ts));
      EXPECT_EQ(out.size(), static_cast<std::size_t>(n));
      if (out.size() != static_cast<std::size_t>(n)) co_return;
      for (int i = 0; i < n; ++i)
        EXPECT_EQ(out[static_cast<std::size_t>(i)].index(), i % 1000 == 1 ? 1u : 0u);
    }
    co_await asyncio::sleep(0);  // the first gather's survivors finish
  }(n));
}

TEST(AsyncioSpawnBurst, CancellingAGatherCancelsEveryChild) {
  const int n = static_cast<int>(scaled(50'000, 1000));
  asyncio::run([](int n) -> Task<void> {
    std::vector<Task<void>> ts;
    for (int i = 0; i < n; ++i) {
      ts.push_back([](int i) -> Task<void> {  // odd: sleeps an hour; even: yields once
        co_await asyncio::sleep(i % 2 ? std::chrono::nanoseconds(1h) : 0ns);
      }(i));
    }
    std::vector<Task<void>> handles = ts;
    auto g = asyncio::create_task(asyncio::gather(std::move(ts)));
    // FIFO steps: g schedules the children; they start (yield or arm a timer); the yielders end.
    for (int i = 0; i < 3; ++i) co_await asyncio::sleep(0);
    g.cancel();
    EXPECT_THROW(co_await g, concur::CancelledError);
    int cancelled = 0;
    for (auto& t : handles) {
      EXPECT_TRUE(t.done());
      if (t.cancelled()) ++cancelled;
    }
    EXPECT_EQ(cancelled, n / 2);  // the sleepers; the yielders had finished
  }(n));
}

TEST(AsyncioSpawnBurst, GatherThatFailsWhileSchedulingLeavesNoWaiterBehind) {
  asyncio::run([]() -> Task<void> {
    auto child = []() -> Task<int> {
      co_await asyncio::sleep(1ms);
      co_return 5;
    };
    Task<int> busy = child();
    // `busy` is being awaited inline by `holder`: scheduling it again is an error.
    auto holder = asyncio::create_task([](Task<int> t) -> Task<int> { co_return co_await t; }(busy));
    co_await asyncio::sleep(0);
    for (int round = 0; round < 100; ++round) {
      std::vector<Task<int>> ts;
      for (int i = 0; i < 50; ++i) ts.push_back(child());
      ts.push_back(busy);
      for (int i = 0; i < 50; ++i) ts.push_back(child());
      std::vector<Task<int>> first(ts.begin(), ts.begin() + 50);
      std::vector<Task<int>> rest(ts.begin() + 51, ts.end());
      EXPECT_THROW(co_await asyncio::gather(std::move(ts)), concur::RuntimeError);
      // The first 50 were scheduled and run to the end, unwatched (the gather is gone).
      for (auto& t : first) EXPECT_EQ(co_await t, 5);
      for (auto& t : rest) t.promise()->close();  // never scheduled: dropped on purpose
    }
    EXPECT_EQ(co_await holder, 5);
    // Duplicates: one task watched several times.
    auto t = asyncio::create_task(child());
    std::vector<Task<int>> dup{t, t, t};
    auto rs = co_await asyncio::gather(std::move(dup));
    EXPECT_EQ(rs, (std::vector<int>{5, 5, 5}));
  }());
}

TEST(AsyncioSpawnBurst, ManyShortSleepsWithTimersAndCancels) {
  const int n = static_cast<int>(scaled(50'000, 1000));
  asyncio::run([](int n) -> Task<void> {
    std::minstd_rand rng(3);
    std::vector<asyncio::ScheduledTask<int>> ts;
    for (int i = 0; i < n; ++i) {
      const auto d = std::chrono::microseconds(rng() % 3000);
      ts.push_back(asyncio::create_task([](std::chrono::microseconds d) -> Task<int> {
        co_await asyncio::sleep(d);
        co_await asyncio::sleep(0);
        co_await asyncio::sleep(d / 2);
        co_return 1;
      }(d)));
    }
    for (int i = 0; i < n; i += 3) ts[static_cast<std::size_t>(i)].cancel();
    co_await asyncio::sleep(1ms);
    for (int i = 1; i < n; i += 7) ts[static_cast<std::size_t>(i)].cancel();
    std::vector<Task<int>> all(ts.begin(), ts.end());
    auto out = co_await asyncio::gather(asyncio::return_exceptions, std::move(all));
    int ok = 0;
    for (auto& o : out) ok += o.index() == 0 ? 1 : 0;
    EXPECT_GT(ok, 0);
    EXPECT_LT(ok, n);
  }(n));
}

}  // namespace
