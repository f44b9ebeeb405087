// Cancellation storm: 100,000 x CONCUR_STRESS_SCALE tasks sleeping, putting/getting on a bounded
// queue, taking a lock and a semaphore, waiting on an event and a condition, while a canceller
// cancels random tasks at random points. Checks: every task ends (no lost wake-up: the final
// gather would time out), the queue conserves items, the lock and semaphore are never exceeded,
// each task body finishes exactly once (no double resume), and — under ASan/LSan — no leak.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "concur/asyncio.hpp"
#include "stress_scale.hpp"

namespace asyncio = concur::asyncio;
using concur::testing::scaled;
using asyncio::Task;
using namespace std::chrono_literals;

namespace {


struct World {
  asyncio::Queue<int> queue{64};
  asyncio::Lock lock;
  asyncio::Semaphore sem{4};
  asyncio::Event event;
  asyncio::Condition cond;
  int lock_inside = 0;
  int sem_inside = 0;
  long put_ok = 0;
  long get_ok = 0;
  long cancelled = 0;
  long shut_down = 0;
  long completed = 0;
  int generation = 0;
  bool closing = false;
  std::vector<int> finished;  // per task: times its body ended (must be exactly 1)
};

struct Inside {
  explicit Inside(int& c) : c_(c) { ++c_; }
  ~Inside() { --c_; }
  int& c_;
};

Task<void> body(World& w, int id, std::uint32_t seed) {
  std::minstd_rand rng(seed);
  try {
    for (int step = 0; step < 8; ++step) {
      switch ((id + step) % 6) {
        case 0:
          co_await asyncio::sleep(std::chrono::microseconds(rng() % 2000));
          break;
        case 1:
          co_await w.queue.put(id);
          ++w.put_ok;
          break;
        case 2:
          (void)co_await w.queue.get();
          ++w.get_ok;
          break;
        case 3: {
          auto held = co_await w.lock.scoped();
          Inside in(w.lock_inside);
          EXPECT_EQ(w.lock_inside, 1);
          co_await asyncio::sleep(0);
          break;
        }
        case 4: {
          auto held = co_await w.sem.scoped();
          Inside in(w.sem_inside);
          EXPECT_LE(w.sem_inside, 4);
          co_await asyncio::sleep(std::chrono::microseconds(rng() % 100));
          break;
        }
        case 5:
          if (rng() % 2) {
            co_await w.event.wait();
          } else {
            auto held = co_await w.cond.scoped();
            const int gen = w.generation;
            co_await w.cond.wait_for([&] { return w.closing || w.generation != gen; });
          }
          break;
      }
    }
    ++w.completed;
  } catch (const concur::CancelledError&) {
    ++w.cancelled;
  } catch (const asyncio::QueueShutDown&) {
    ++w.shut_down;
  }
  ++w.finished[static_cast<std::size_t>(id)];
}

Task<void> storm(int n) {
  World w;
  w.finished.assign(static_cast<std::size_t>(n), 0);
  std::vector<asyncio::ScheduledTask<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  std::minstd_rand rng(12345);
  for (int i = 0; i < n; ++i) tasks.push_back(asyncio::create_task(body(w, i, rng())));
  // Cancel random tasks at random points while they run.
  for (int round = 0; round < 50; ++round) {
    co_await asyncio::sleep(std::chrono::microseconds(rng() % 400));
    for (int k = 0; k < n / 100; ++k) tasks[rng() % static_cast<std::size_t>(n)].cancel();
    if (round % 10 == 9) {
      auto held = co_await w.cond.scoped();
      ++w.generation;
      w.cond.notify(static_cast<std::size_t>(n / 50));
    }
  }
  // Release everything still blocked: the event, the condition, and the queue.
  w.event.set();
  {
    auto held = co_await w.cond.scoped();
    w.closing = true;
    w.cond.notify_all();
  }
  w.queue.shutdown();
  std::vector<Task<void>> all(tasks.begin(), tasks.end());
  // A lost wake-up leaves a task blocked forever: the timeout turns that into a failure.
  auto outcomes = co_await asyncio::wait_for(asyncio::gather(asyncio::return_exceptions, std::move(all)), 60s);
  EXPECT_EQ(outcomes.size(), static_cast<std::size_t>(n));
  for (int c : w.finished) EXPECT_EQ(c, 1);
  EXPECT_EQ(w.completed + w.cancelled + w.shut_down, n);
  EXPECT_EQ(w.put_ok, w.get_ok + static_cast<long>(w.queue.qsize()));
  EXPECT_EQ(w.lock_inside, 0);
  EXPECT_EQ(w.sem_inside, 0);
  EXPECT_FALSE(w.lock.locked());
  EXPECT_EQ(w.sem.value(), 4u);
  EXPECT_GT(w.cancelled, 0);
  EXPECT_GT(w.completed, 0);
}

}  // namespace

TEST(AsyncioStress, CancellationStorm) {
  const int n = static_cast<int>(scaled(100'000, 1000));
  asyncio::run(storm(n));
}

TEST(AsyncioStress, TimeoutStormLeavesNoStrayCancellation) {
  const int n = static_cast<int>(scaled(20'000, 200));
  asyncio::run([](int n) -> Task<void> {
    std::vector<Task<int>> ts;
    for (int i = 0; i < n; ++i) {
      ts.push_back([](int i) -> Task<int> {
        int timeouts = 0;
        for (int k = 0; k < 3; ++k) {
          try {
            co_await asyncio::wait_for(asyncio::sleep(std::chrono::microseconds((i * 7 + k * 13) % 300)),
                                       std::chrono::microseconds((i * 11 + k) % 300));
          } catch (const concur::TimeoutError&) {
            ++timeouts;
          }
        }
        co_await asyncio::sleep(0);  // would throw if a stray cancellation were left behind
        co_return timeouts;
      }(i));
    }
    auto rs = co_await asyncio::gather(std::move(ts));
    EXPECT_EQ(rs.size(), static_cast<std::size_t>(n));
  }(n));
}
