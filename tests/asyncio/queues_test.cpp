// Tests for concur/asyncio/queues.hpp: Queue, LifoQueue, PriorityQueue, task_done/join, shutdown.
#include "concur/asyncio/queues.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "concur/asyncio/tasks.hpp"

namespace asyncio = concur::asyncio;
using asyncio::Task;
using namespace std::chrono_literals;

TEST(Queue, ProducerConsumerWithBackPressure) {
  asyncio::run([]() -> Task<void> {
    asyncio::Queue<int> q(2);
    std::vector<int> got;
    auto consumer = asyncio::create_task([](asyncio::Queue<int>* q, std::vector<int>* g) -> Task<void> {
      for (;;) {
        int v = co_await q->get();
        if (v < 0) co_return;
        g->push_back(v);
        q->task_done();
      }
    }(&q, &got));
    for (int i = 0; i < 10; ++i) {
      co_await q.put(i);
      EXPECT_LE(q.qsize(), 2u);
    }
    co_await q.join();
    EXPECT_EQ(got.size(), 10u);
    co_await q.put(-1);
    co_await consumer;
    for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], i);
  }());
}

TEST(Queue, NowaitVariants) {
  asyncio::run([]() -> Task<void> {
    asyncio::Queue<std::string> q(1);
    EXPECT_THROW(q.get_nowait(), asyncio::QueueEmpty);
    q.put_nowait("a");
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait("b"), asyncio::QueueFull);
    EXPECT_FALSE(q.try_put("b"));
    EXPECT_EQ(q.get_nowait(), "a");
    EXPECT_FALSE(q.try_get().has_value());
    q.task_done();
    EXPECT_THROW(q.task_done(), concur::ValueError);
    co_return;
  }());
}

TEST(Queue, LifoAndPriority) {
  asyncio::run([]() -> Task<void> {
    asyncio::LifoQueue<int> l;
    asyncio::PriorityQueue<int> p;
    for (int v : {2, 3, 1}) {
      l.put_nowait(v);
      p.put_nowait(v);
    }
    EXPECT_EQ(co_await l.get(), 1);
    EXPECT_EQ(co_await l.get(), 3);
    EXPECT_EQ(co_await p.get(), 1);
    EXPECT_EQ(co_await p.get(), 2);
  }());
}

TEST(Queue, ShutdownWakesWaitersWithQueueShutDown) {
  asyncio::run([]() -> Task<void> {
    asyncio::Queue<int> q;
    auto getter = asyncio::create_task([](asyncio::Queue<int>* q) -> Task<int> { co_return co_await q->get(); }(&q));
    co_await asyncio::sleep(1ms);
    q.shutdown();
    EXPECT_THROW(co_await getter, asyncio::QueueShutDown);
    EXPECT_THROW(co_await q.put(1), asyncio::QueueShutDown);
    asyncio::Queue<int> r;
    r.put_nowait(1);
    r.put_nowait(2);
    r.shutdown();  // not immediate: items can still be taken
    EXPECT_EQ(co_await r.get(), 1);
    EXPECT_EQ(co_await r.get(), 2);
    EXPECT_THROW(co_await r.get(), asyncio::QueueShutDown);
    asyncio::Queue<int> s;
    s.put_nowait(1);
    s.shutdown(true);  // immediate: dropped and counted done
    EXPECT_TRUE(s.empty());
    co_await s.join();
  }());
}

TEST(Queue, CancelledGetterPassesTheItemOn) {
  asyncio::run([]() -> Task<void> {
    asyncio::Queue<int> q;
    auto a = asyncio::create_task([](asyncio::Queue<int>* q) -> Task<int> { co_return co_await q->get(); }(&q));
    auto b = asyncio::create_task([](asyncio::Queue<int>* q) -> Task<int> { co_return co_await q->get(); }(&q));
    co_await asyncio::sleep(0);
    q.put_nowait(5);  // wakes a...
    a.cancel();       // ...cancelled before it runs: b must get the item
    EXPECT_THROW(co_await a, concur::CancelledError);
    EXPECT_EQ(co_await b, 5);
  }());
}
