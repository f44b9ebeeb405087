// The lock-free ring under a bounded Queue<T> (concur/detail/queue_ring.hpp): the semantics of
// Python's queue.Queue, checked on the ring directly and through Queue<T>(maxsize >= 2), with
// capacities that are and are not powers of two. (Queue<T>(1), unbounded queues and items whose
// move may throw use the mutex path, covered by queue_test.cpp and basic_queue_test.cpp.)
#include "concur/detail/queue_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "concur/queue/queue.hpp"

using namespace std::chrono_literals;
namespace q = concur::queue;
using Ring = concur::detail::QueueRing<int>;
using Clock = std::chrono::steady_clock;

class QueueRingCapacity : public ::testing::TestWithParam<std::size_t> {};

TEST_P(QueueRingCapacity, FifoOrderSizesAndFullAcrossManyLaps) {
  const std::size_t cap = GetParam();
  Ring ring(cap);
  int next_in = 0, next_out = 0;
  std::optional<int> out;
  for (int lap = 0; lap < 50; ++lap) {
    // Fill to the brim, check Full, then drain part of it: wraps at every offset.
    while (ring.size() < cap) {
      int v = next_in;
      ASSERT_EQ(ring.try_push(v), q::Status::ok);
      ++next_in;
    }
    int extra = -1;
    EXPECT_EQ(ring.try_push(extra), q::Status::full);
    EXPECT_EQ(extra, -1);  // untouched
    for (std::size_t i = 0; i < (cap + 1) / 2 + static_cast<std::size_t>(lap % 2); ++i) {
      ASSERT_EQ(ring.try_pop(out), q::Status::ok);
      ASSERT_EQ(*out, next_out++);
    }
  }
  while (ring.try_pop(out) == q::Status::ok) ASSERT_EQ(*out, next_out++);
  EXPECT_EQ(next_in, next_out);
  EXPECT_EQ(ring.try_pop(out), q::Status::empty);
  EXPECT_EQ(ring.size(), 0u);
}

TEST_P(QueueRingCapacity, QueueSemanticsThroughTheRing) {
  const std::size_t cap = GetParam();
  q::Queue<std::string> fifo(cap);
  EXPECT_EQ(fifo.maxsize(), cap);
  EXPECT_THROW(fifo.get_nowait(), q::Empty);
  for (std::size_t i = 0; i < cap; ++i) {
    const std::string s = std::to_string(i);
    fifo.put(s);  // the const& overload copies once
  }
  EXPECT_TRUE(fifo.full());
  EXPECT_EQ(fifo.qsize(), cap);
  EXPECT_THROW(fifo.put_nowait("x"), q::Full);
  EXPECT_THROW(fifo.put("x", {.timeout = 5ms}), q::Full);
  EXPECT_EQ(fifo.unfinished_tasks(), cap);
  for (std::size_t i = 0; i < cap; ++i) {
    EXPECT_EQ(fifo.get(), std::to_string(i));
    fifo.task_done();
  }
  EXPECT_THROW(fifo.task_done(), concur::ValueError);
  EXPECT_TRUE(fifo.join(0s));
  EXPECT_TRUE(fifo.empty());
}

INSTANTIATE_TEST_SUITE_P(Capacities, QueueRingCapacity, ::testing::Values(2u, 3u, 5u, 8u, 64u, 100u));

TEST(QueueRing, ShutdownDrainsThenRaisesAndBlocksPuts) {
  q::Queue<int> fifo(4);
  fifo.put(1);
  fifo.put(2);
  fifo.shutdown();
  EXPECT_TRUE(fifo.is_shutdown());
  EXPECT_EQ(fifo.try_put(3), q::Status::shut_down);
  EXPECT_THROW(fifo.put(3), q::ShutDown);
  EXPECT_EQ(fifo.get(), 1);
  EXPECT_EQ(fifo.get_nowait(), 2);
  EXPECT_THROW(fifo.get_nowait(), q::ShutDown);
  EXPECT_THROW(fifo.get({.timeout = 1s}), q::ShutDown);
  EXPECT_EQ(fifo.unfinished_tasks(), 2u);  // taken, not yet done
  fifo.task_done();
  fifo.task_done();
  EXPECT_TRUE(fifo.join(0s));
}

TEST(QueueRing, ImmediateShutdownDropsCountsDoneAndKeepsTakenItemsOwed) {
  q::Queue<std::unique_ptr<int>> fifo(8);
  for (int i = 0; i < 5; ++i) fifo.put(std::make_unique<int>(i));
  EXPECT_EQ(*fifo.get(), 0);  // taken: its task_done is still due
  std::thread joiner([&] { fifo.join(); });
  fifo.shutdown(true);
  EXPECT_EQ(fifo.qsize(), 0u);
  EXPECT_EQ(fifo.unfinished_tasks(), 1u);
  EXPECT_FALSE(fifo.join(5ms));
  fifo.task_done();
  joiner.join();
  EXPECT_THROW(fifo.get(), q::ShutDown);
}

TEST(QueueRing, ImmediateShutdownNeverCountsBelowZero) {
  // CPython: "if unfinished_tasks > 0: unfinished_tasks -= 1" for each dropped item.
  q::Queue<int> fifo(4);
  fifo.put(1);
  fifo.put(2);
  fifo.task_done();  // allowed early, as in Python
  fifo.task_done();
  fifo.shutdown(true);  // drops 2 items with nothing left to count
  EXPECT_EQ(fifo.unfinished_tasks(), 0u);
  EXPECT_THROW(fifo.task_done(), concur::ValueError);
}

TEST(QueueRing, ShutdownWakesBlockedPuttersAndGetters) {
  q::Queue<int> full(2), empty_q(2);
  full.put(0);
  full.put(0);
  std::atomic<int> woke{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      try {
        full.put(1);
      } catch (const q::ShutDown&) {
        ++woke;
      }
    });
    threads.emplace_back([&] {
      try {
        (void)empty_q.get();
      } catch (const q::ShutDown&) {
        ++woke;
      }
    });
  }
  std::this_thread::sleep_for(20ms);
  full.shutdown();
  empty_q.shutdown();
  for (auto& t : threads) t.join();
  EXPECT_EQ(woke.load(), 4);
}

TEST(QueueRing, BlockedPutResumesAfterGet) {
  q::Queue<int> fifo(2);
  fifo.put(1);
  fifo.put(2);
  std::thread putter([&] { fifo.put(3); });  // blocks: full
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(fifo.get(), 1);
  putter.join();
  EXPECT_EQ(fifo.get(), 2);
  EXPECT_EQ(fifo.get(), 3);
}

TEST(QueueRing, TimeoutsHonourDeadlines) {
  q::Queue<int> fifo(2);
  auto t0 = Clock::now();
  EXPECT_THROW(fifo.get({.timeout = 20ms}), q::Empty);
  EXPECT_GE(Clock::now() - t0, 20ms);
  EXPECT_THROW(fifo.get({.timeout = -1s}), q::Empty);
  fifo.put(1);
  fifo.put(2);
  t0 = Clock::now();
  EXPECT_THROW(fifo.put(3, {.timeout = 20ms}), q::Full);
  EXPECT_GE(Clock::now() - t0, 20ms);
  EXPECT_THROW(fifo.put(3, {.timeout = -1s}), q::Full);
}

TEST(QueueRing, StopTokenCancelsBlockedPutAndGet) {
  q::Queue<int> full(2), empty_q(2);
  full.put(0);
  full.put(0);
  std::stop_source stop;
  std::atomic<int> cancelled{0};
  std::thread putter([&] {
    try {
      full.put(1, stop.get_token());
    } catch (const concur::CancelledError&) {
      ++cancelled;
    }
  });
  std::thread getter([&] {
    try {
      (void)empty_q.get(stop.get_token());
    } catch (const concur::CancelledError&) {
      ++cancelled;
    }
  });
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  putter.join();
  getter.join();
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_EQ(full.qsize(), 2u);  // the cancelled put left nothing behind
}

TEST(QueueRing, ItemsLeftAreDestroyedWithTheQueue) {
  auto shared = std::make_shared<int>(1);
  {
    q::Queue<std::shared_ptr<int>> fifo(3);
    for (int i = 0; i < 3; ++i) fifo.put(shared);
    (void)fifo.get();
    EXPECT_EQ(shared.use_count(), 3);
  }
  EXPECT_EQ(shared.use_count(), 1);
}

TEST(QueueRing, ThrowingCopyLeavesTheQueueUntouched) {
  struct Fragile {
    Fragile() = default;
    Fragile(const Fragile& o) : boom(o.boom) {
      if (boom) throw std::runtime_error("copy");
    }
    Fragile(Fragile&&) noexcept = default;
    bool boom = false;
  };
  q::Queue<Fragile> fifo(2);
  Fragile bad;
  bad.boom = true;
  EXPECT_THROW(fifo.put(bad), std::runtime_error);
  EXPECT_EQ(fifo.qsize(), 0u);
  EXPECT_EQ(fifo.unfinished_tasks(), 0u);
  fifo.put(Fragile{});
  EXPECT_EQ(fifo.qsize(), 1u);
}
