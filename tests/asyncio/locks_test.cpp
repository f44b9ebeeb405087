// Tests for concur/asyncio/locks.hpp: Lock, Event, Condition, Semaphore, BoundedSemaphore.
#include "concur/asyncio/locks.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "concur/asyncio/tasks.hpp"

namespace asyncio = concur::asyncio;
using asyncio::Task;
using namespace std::chrono_literals;

TEST(Lock, MutualExclusionInFifoOrder) {
  asyncio::run([]() -> Task<void> {
    asyncio::Lock lock;
    std::vector<int> order;
    int inside = 0;
    auto worker = [&](int id) -> Task<void> {
      auto held = co_await lock.scoped();
      EXPECT_EQ(++inside, 1);
      co_await asyncio::sleep(1ms);
      order.push_back(id);
      --inside;
    };
    std::vector<Task<void>> ts;
    for (int i = 0; i < 5; ++i) ts.push_back(worker(i));
    co_await asyncio::gather(std::move(ts));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_FALSE(lock.locked());
    EXPECT_THROW(lock.release(), concur::RuntimeError);
  }());
}

TEST(Lock, CancelledWaiterDoesNotStealTheLock) {
  asyncio::run([]() -> Task<void> {
    asyncio::Lock lock;
    co_await lock.acquire();
    auto a = asyncio::create_task([](asyncio::Lock* l) -> Task<void> {
      co_await l->acquire();
      l->release();
    }(&lock));
    auto b = asyncio::create_task([](asyncio::Lock* l) -> Task<int> {
      auto h = co_await l->scoped();
      co_return 1;
    }(&lock));
    co_await asyncio::sleep(0);
    lock.release();  // handed to a...
    a.cancel();      // ...which is cancelled before it runs: passes it on to b
    EXPECT_THROW(co_await a, concur::CancelledError);
    EXPECT_EQ(co_await b, 1);
    EXPECT_FALSE(lock.locked());
  }());
}

TEST(Event, WakesAllWaiters) {
  asyncio::run([]() -> Task<void> {
    asyncio::Event ev;
    int woken = 0;
    std::vector<Task<void>> ts;
    for (int i = 0; i < 3; ++i) ts.push_back(asyncio::create_task([](asyncio::Event* e, int* w) -> Task<void> {
      EXPECT_TRUE(co_await e->wait());
      ++*w;
    }(&ev, &woken)));
    co_await asyncio::sleep(1ms);
    EXPECT_EQ(woken, 0);
    ev.set();
    co_await asyncio::gather(std::move(ts));
    EXPECT_EQ(woken, 3);
    EXPECT_TRUE(ev.is_set());
    EXPECT_TRUE(co_await ev.wait());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
  }());
}

TEST(Condition, WaitForPredicateAndNotify) {
  asyncio::run([]() -> Task<void> {
    asyncio::Condition cond;
    int value = 0;
    auto waiter = asyncio::create_task([](asyncio::Condition* c, int* v) -> Task<int> {
      auto held = co_await c->scoped();
      co_await c->wait_for([&] { return *v == 3; });
      EXPECT_TRUE(c->locked());
      co_return *v;
    }(&cond, &value));
    for (int i = 0; i < 3; ++i) {
      co_await asyncio::sleep(1ms);
      auto held = co_await cond.scoped();
      ++value;
      cond.notify_all();
    }
    EXPECT_EQ(co_await waiter, 3);
    EXPECT_THROW(cond.notify(), concur::RuntimeError);
  }());
}

TEST(Condition, CancelledWaitReacquiresTheLock) {
  asyncio::run([]() -> Task<void> {
    asyncio::Condition cond;
    bool held_after_cancel = false;
    auto t = asyncio::create_task([](asyncio::Condition* c, bool* h) -> Task<void> {
      auto held = co_await c->scoped();
      try {
        co_await c->wait();
      } catch (const concur::CancelledError&) {
        *h = c->locked();
        throw;
      }
    }(&cond, &held_after_cancel));
    co_await asyncio::sleep(1ms);
    t.cancel();
    EXPECT_THROW(co_await t, concur::CancelledError);
    EXPECT_TRUE(held_after_cancel);
    EXPECT_FALSE(cond.locked());
  }());
}

TEST(Semaphore, BoundsConcurrency) {
  asyncio::run([]() -> Task<void> {
    asyncio::Semaphore sem(2);
    int inside = 0, peak = 0;
    std::vector<Task<void>> ts;
    for (int i = 0; i < 10; ++i) ts.push_back([](asyncio::Semaphore* s, int* in, int* pk) -> Task<void> {
      auto held = co_await s->scoped();
      *pk = std::max(*pk, ++*in);
      co_await asyncio::sleep(1ms);
      --*in;
    }(&sem, &inside, &peak));
    co_await asyncio::gather(std::move(ts));
    EXPECT_EQ(peak, 2);
    EXPECT_EQ(sem.value(), 2u);
    sem.release();  // an unbounded semaphore may grow
    EXPECT_EQ(sem.value(), 3u);
  }());
}

TEST(BoundedSemaphore, ReleaseTooManyTimesRaisesValueError) {
  asyncio::run([]() -> Task<void> {
    asyncio::BoundedSemaphore sem(1);
    co_await sem.acquire();
    EXPECT_TRUE(sem.locked());
    sem.release();
    EXPECT_THROW(sem.release(), concur::ValueError);
  }());
}
