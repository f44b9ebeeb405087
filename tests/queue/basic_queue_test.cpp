#include "concur/queue/basic_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <memory>
#include <ranges>
#include <type_traits>
#include <thread>
#include <vector>

#include "concur/queue/queue.hpp"

using namespace std::chrono_literals;
namespace q = concur::queue;

// Waits (generously) until `cond` holds; the machine is loaded, so no tight timing assertions.
template <class F>
static bool eventually(F cond) {
  for (int i = 0; i < 2000 && !cond(); ++i) std::this_thread::sleep_for(1ms);
  return cond();
}

TEST(BasicQueueShutdown, PutRaisesGetDrainsThenRaises) {
  q::Queue<int> fifo(8);
  fifo.put(1);
  fifo.put(2);
  EXPECT_FALSE(fifo.is_shutdown());
  fifo.shutdown();
  EXPECT_TRUE(fifo.is_shutdown());
  EXPECT_THROW(fifo.put(3), q::ShutDown);
  EXPECT_THROW(fifo.put_nowait(3), q::ShutDown);
  EXPECT_EQ(fifo.try_put(3), q::Status::shut_down);
  EXPECT_EQ(fifo.get(), 1);
  EXPECT_EQ(fifo.get_nowait(), 2);
  EXPECT_THROW(fifo.get(), q::ShutDown);
  EXPECT_THROW(fifo.get_nowait(), q::ShutDown);  // ShutDown, not Empty, as in CPython 3.13
  EXPECT_THROW(fifo.get({.timeout = 1s}), q::ShutDown);
  int out = 0;
  EXPECT_EQ(fifo.try_get(out), q::Status::shut_down);
  fifo.shutdown();  // idempotent
}

TEST(BasicQueueShutdown, ImmediateDropsItemsAndReleasesJoin) {
  q::Queue<std::unique_ptr<int>> fifo;
  for (int i = 0; i < 5; ++i) fifo.put(std::make_unique<int>(i));
  EXPECT_EQ(fifo.unfinished_tasks(), 5u);
  std::thread joiner([&] { fifo.join(); });
  fifo.shutdown(/*immediate=*/true);
  joiner.join();
  EXPECT_EQ(fifo.qsize(), 0u);
  EXPECT_EQ(fifo.unfinished_tasks(), 0u);
  EXPECT_THROW(fifo.get(), q::ShutDown);
}

TEST(BasicQueueShutdown, ImmediateStillWaitsForTakenItemsLikeCPython) {
  q::Queue<int> fifo;
  fifo.put(1);
  fifo.put(2);
  EXPECT_EQ(fifo.get(), 1);  // taken, task_done still due
  fifo.shutdown(true);       // drops 2
  EXPECT_EQ(fifo.unfinished_tasks(), 1u);
  EXPECT_FALSE(fifo.join(10ms));
  fifo.task_done();
  EXPECT_TRUE(fifo.join(0s));
}

TEST(BasicQueueShutdown, WakesBlockedGetters) {
  q::Queue<int> fifo;
  std::atomic<int> shut{0};
  std::vector<std::thread> getters;
  for (int i = 0; i < 3; ++i)
    getters.emplace_back([&] {
      try {
        (void)fifo.get();
      } catch (const q::ShutDown&) {
        ++shut;
      }
    });
  std::this_thread::sleep_for(20ms);
  fifo.shutdown();
  for (auto& t : getters) t.join();
  EXPECT_EQ(shut.load(), 3);
}

TEST(BasicQueueShutdown, WakesBlockedPuttersEvenWithRoomLater) {
  q::Queue<int> fifo(1);
  fifo.put(0);
  std::atomic<int> shut{0};
  std::vector<std::thread> putters;
  for (int i = 0; i < 2; ++i)
    putters.emplace_back([&] {
      try {
        fifo.put(1);
      } catch (const q::ShutDown&) {
        ++shut;
      }
    });
  std::this_thread::sleep_for(20ms);
  fifo.shutdown();
  for (auto& t : putters) t.join();
  EXPECT_EQ(shut.load(), 2);
  EXPECT_EQ(fifo.get(), 0);  // the queued item still drains
}

TEST(BasicQueueShutdown, ImmediateWakesBlockedPutGetAndJoin) {
  q::Queue<int> full(1), empty_q;
  full.put(0);
  std::atomic<int> woke{0};
  std::thread putter([&] {
    try {
      full.put(1);
    } catch (const q::ShutDown&) {
      ++woke;
    }
  });
  std::thread joiner([&] {
    full.join();
    ++woke;
  });
  std::thread getter([&] {
    try {
      (void)empty_q.get();
    } catch (const q::ShutDown&) {
      ++woke;
    }
  });
  std::this_thread::sleep_for(20ms);
  full.shutdown(true);
  empty_q.shutdown(true);
  putter.join();
  joiner.join();
  getter.join();
  EXPECT_EQ(woke.load(), 3);
}

TEST(BasicQueueIteration, YieldsUntilShutdownAndCallsTaskDone) {
  q::Queue<std::unique_ptr<int>> fifo;
  for (int i = 0; i < 10; ++i) fifo.put(std::make_unique<int>(i));
  fifo.shutdown();
  int expected = 0;
  for (auto item : fifo) EXPECT_EQ(*item, expected++);  // move-only, moved out
  EXPECT_EQ(expected, 10);
  EXPECT_EQ(fifo.unfinished_tasks(), 0u);
  EXPECT_TRUE(fifo.join(0s));
}

TEST(BasicQueueIteration, BreakStillCallsTaskDone) {
  q::Queue<int> fifo;
  for (int i = 0; i < 3; ++i) fifo.put(i);
  for (int item : fifo) {
    if (item == 1) break;
  }
  EXPECT_EQ(fifo.unfinished_tasks(), 1u);  // 0 and 1 done, 2 still queued
  EXPECT_EQ(fifo.get(), 2);
}

TEST(BasicQueueIteration, WorkersDrainAcrossThreadsAndJoinReturns) {
  // The seeds' ClosableQueue + StoppableWorker, with the built-in iteration.
  q::Queue<int> in(16), out;
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w)
    workers.emplace_back([&] {
      for (int item : in) out.put(item * 2);
    });
  for (int i = 0; i < 1000; ++i) in.put(i);
  in.join();  // every item processed
  in.shutdown();
  for (auto& t : workers) t.join();
  out.shutdown();
  long long sum = 0;
  for (int v : out) sum += v;
  EXPECT_EQ(sum, 999LL * 1000);
}

TEST(BasicQueueStop, StopTokenCancelsBlockedGetAndPut) {
  q::Queue<int> fifo(1);
  std::stop_source get_stop, put_stop;
  std::atomic<int> cancelled{0};
  std::thread getter([&] {
    try {
      (void)fifo.get(get_stop.get_token());
    } catch (const concur::CancelledError&) {
      ++cancelled;
    }
  });
  std::this_thread::sleep_for(20ms);
  get_stop.request_stop();
  getter.join();
  EXPECT_EQ(cancelled.load(), 1);

  fifo.put(1);
  std::thread putter([&] {
    try {
      fifo.put(2, put_stop.get_token());
    } catch (const concur::CancelledError&) {
      ++cancelled;
    }
  });
  std::this_thread::sleep_for(20ms);
  put_stop.request_stop();
  putter.join();
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_EQ(fifo.qsize(), 1u);
}

TEST(BasicQueueStop, AlreadyStoppedTokenStillTakesAvailableItem) {
  q::Queue<int> fifo;
  std::stop_source stop;
  stop.request_stop();
  fifo.put(5);
  EXPECT_EQ(fifo.get(stop.get_token()), 5);  // no wait needed, nothing to cancel
  EXPECT_THROW((void)fifo.get(stop.get_token()), concur::CancelledError);
}

TEST(BasicQueueStop, JthreadWorkerStopsOnDestruction) {
  q::Queue<int> fifo;
  std::atomic<int> seen{0};
  {
    std::jthread worker([&](std::stop_token st) {
      try {
        for (;;) seen += fifo.get(st);
      } catch (const concur::CancelledError&) {
      }
    });
    fifo.put(1);
    fifo.put(2);
    ASSERT_TRUE(eventually([&] { return seen.load() == 3; }));
  }  // ~jthread requests stop and joins: must not hang
  EXPECT_EQ(seen.load(), 3);
}

TEST(BasicQueueTry, StatusesAndOwnership) {
  q::Queue<std::unique_ptr<int>> fifo(1);
  std::unique_ptr<int> out;
  EXPECT_EQ(fifo.try_get(out), q::Status::empty);
  EXPECT_EQ(fifo.try_put(std::make_unique<int>(1)), q::Status::ok);
  auto keep = std::make_unique<int>(2);
  EXPECT_EQ(fifo.try_put(std::move(keep), {.timeout = 5ms}), q::Status::full);
  ASSERT_NE(keep, nullptr);
  EXPECT_EQ(fifo.try_get(out), q::Status::ok);
  EXPECT_EQ(*out, 1);
  EXPECT_FALSE(fifo.try_get().has_value());
  EXPECT_FALSE(fifo.try_get({.timeout = 5ms}).has_value());
  EXPECT_EQ(fifo.try_put(std::move(keep)), q::Status::ok);
  EXPECT_EQ(keep, nullptr);
  auto got = fifo.try_get();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 2);
}

TEST(BasicQueueTry, CopyablePutCopiesOnce) {
  q::Queue<std::vector<int>> fifo;
  const std::vector<int> v{1, 2, 3};
  fifo.put(v);
  EXPECT_EQ(fifo.try_put(v), q::Status::ok);
  EXPECT_EQ(fifo.get(), v);
  EXPECT_EQ(fifo.get(), v);
  EXPECT_EQ(v.size(), 3u);
}

TEST(BasicQueueIteration, IsAnInputRange) {
  static_assert(std::ranges::input_range<q::Queue<int>>);
  static_assert(std::ranges::input_range<q::Queue<std::unique_ptr<int>>>);
  static_assert(std::is_same_v<std::ranges::range_reference_t<q::Queue<int>>, int&&>);
  q::Queue<int> fifo;
  fifo.put(3);
  fifo.put(4);
  fifo.shutdown();
  int sum = 0;
  std::ranges::for_each(fifo, [&](int v) { sum += v; });
  EXPECT_EQ(sum, 7);
}
