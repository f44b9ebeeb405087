#include "concur/queue/queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace q = concur::queue;
using Clock = std::chrono::steady_clock;

TEST(Queue, FifoOrderAndSizes) {
  q::Queue<std::string> fifo;
  EXPECT_EQ(fifo.maxsize(), 0u);
  EXPECT_TRUE(fifo.empty());
  EXPECT_FALSE(fifo.full());
  for (int i = 0; i < 100; ++i) fifo.put(std::to_string(i));  // grows the ring several times
  EXPECT_EQ(fifo.qsize(), 100u);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(fifo.get(), std::to_string(i));
  EXPECT_TRUE(fifo.empty());
}

TEST(Queue, RingWrapsAndGrowsKeepingOrder) {
  q::Queue<int> fifo;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round; ++i) fifo.put(next_in++);
    for (int i = 0; i < round / 2; ++i) ASSERT_EQ(fifo.get(), next_out++);
  }
  while (!fifo.empty()) ASSERT_EQ(fifo.get(), next_out++);
  EXPECT_EQ(next_in, next_out);
}

TEST(Queue, NowaitRaisesFullAndEmpty) {
  q::Queue<int> bounded(2);
  EXPECT_EQ(bounded.maxsize(), 2u);
  EXPECT_THROW(bounded.get_nowait(), q::Empty);
  bounded.put_nowait(1);
  bounded.put(2, {.block = false});
  EXPECT_TRUE(bounded.full());
  EXPECT_THROW(bounded.put_nowait(3), q::Full);
  EXPECT_THROW(bounded.put(3, {.block = false, .timeout = 10s}), q::Full);  // timeout ignored
  EXPECT_EQ(bounded.get_nowait(), 1);
}

TEST(Queue, TimeoutsHonourDeadlines) {
  q::Queue<int> bounded(1);
  auto t0 = Clock::now();
  EXPECT_THROW(bounded.get({.timeout = 30ms}), q::Empty);
  EXPECT_GE(Clock::now() - t0, 30ms);
  bounded.put(1);
  t0 = Clock::now();
  EXPECT_THROW(bounded.put(2, {.timeout = 30ms}), q::Full);
  EXPECT_GE(Clock::now() - t0, 30ms);
}

TEST(Queue, ZeroAndNegativeTimeoutsPoll) {
  q::Queue<int> bounded(1);
  const auto t0 = Clock::now();
  EXPECT_THROW(bounded.get({.timeout = 0s}), q::Empty);
  EXPECT_THROW(bounded.get({.timeout = -5s}), q::Empty);
  bounded.put(1, {.timeout = -1s});  // room: succeeds although the timeout is negative
  EXPECT_THROW(bounded.put(2, {.timeout = -1s}), q::Full);
  EXPECT_EQ(bounded.get({.timeout = -1s}), 1);
  EXPECT_LT(Clock::now() - t0, 5s);  // nothing waited
}

TEST(Queue, NoTimeoutWaitsForTheItem) {
  q::Queue<int> fifo;
  std::thread producer([&] {
    std::this_thread::sleep_for(50ms);
    fifo.put(7);
  });
  EXPECT_EQ(fifo.get(), 7);
  producer.join();
}

TEST(Queue, TimedGetSucceedsWhenItemArrives) {
  q::Queue<int> fifo;
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);
    fifo.put(8);
  });
  EXPECT_EQ(fifo.get({.timeout = 30s}), 8);
  producer.join();
}

TEST(Queue, BoundedPutBlocksUntilGet) {
  // The seed's Queue(1) example: the second put waits for the consumer's first get.
  q::Queue<int> one(1);
  std::atomic<int> got{0};
  std::thread consumer([&] {
    std::this_thread::sleep_for(30ms);
    got += one.get();
    got += one.get();
  });
  one.put(1);
  one.put(2);  // blocks until the consumer's first get
  consumer.join();
  EXPECT_EQ(got.load(), 3);
}

TEST(Queue, TaskDoneAndJoin) {
  q::Queue<int> in;
  EXPECT_TRUE(in.join(0s));  // nothing put yet
  std::thread consumer([&] {
    for (int i = 0; i < 3; ++i) {
      (void)in.get();
      std::this_thread::sleep_for(5ms);
      in.task_done();
    }
  });
  for (int i = 0; i < 3; ++i) in.put(i);
  in.join();
  EXPECT_EQ(in.unfinished_tasks(), 0u);
  consumer.join();
  EXPECT_THROW(in.task_done(), concur::ValueError);
}

TEST(Queue, JoinTimeoutReturnsFalse) {
  q::Queue<int> in;
  in.put(1);
  EXPECT_FALSE(in.join(20ms));
  (void)in.get();
  EXPECT_FALSE(in.join(0s));  // got but not done
  in.task_done();
  EXPECT_TRUE(in.join(0s));
}

TEST(Queue, MoveOnlyItemsAreNeverCopied) {
  struct Tracked {
    explicit Tracked(int v) : value(v) {}
    Tracked(const Tracked&) { ADD_FAILURE() << "copied"; }
    Tracked(Tracked&& o) noexcept : value(o.value) {}
    Tracked& operator=(Tracked&& o) noexcept {
      value = o.value;
      return *this;
    }
    int value;
  };
  q::Queue<Tracked> fifo(4);
  for (int i = 0; i < 40; ++i) {
    fifo.put(Tracked(i));
    EXPECT_EQ(fifo.get().value, i);
  }
  q::Queue<std::unique_ptr<int>> ptrs;
  ptrs.put(std::make_unique<int>(5));
  EXPECT_EQ(*ptrs.get(), 5);
}

TEST(Queue, ManyProducersManyConsumersSmallBound) {
  q::Queue<int> fifo(4);
  constexpr int kPer = 20000;
  std::atomic<long long> sum{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p)
    threads.emplace_back([&] {
      for (int i = 1; i <= kPer; ++i) fifo.put(i);
    });
  for (int c = 0; c < 2; ++c)
    threads.emplace_back([&] {
      for (int i = 0; i < kPer; ++i) sum += fifo.get();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), 2LL * kPer * (kPer + 1) / 2);
}
