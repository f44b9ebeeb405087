// Stress: many threads, many tasks, random cancels and shutdowns. Every accepted task either
// runs exactly once with its result delivered, or is cancelled and never runs.
#include "concur/futures.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "stress_scale.hpp"

namespace cf = concur::futures;
using concur::testing::scaled;

TEST(ThreadPoolStress, RandomCancelsExactlyOnce) {
  const long per_thread = scaled(50'000, 500);
  cf::ThreadPoolExecutor pool({.max_workers = 3});
  const int submitters = 4;
  std::vector<std::atomic<int>> runs(submitters * per_thread);
  std::vector<std::thread> ts;
  std::atomic<long> cancelled{0}, completed{0};
  for (int t = 0; t < submitters; ++t)
    ts.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<cf::Future<long>> fs;
      fs.reserve(per_thread);
      for (long i = 0; i < per_thread; ++i) {
        const long id = t * per_thread + i;
        fs.push_back(pool.submit([&runs, id] { runs[id].fetch_add(1); return id; }));
        if (rng() % 4 == 0) fs[rng() % fs.size()].cancel();
      }
      for (long i = 0; i < per_thread; ++i) {
        if (fs[i].cancelled()) {
          ++cancelled;
          EXPECT_THROW(fs[i].result(), concur::CancelledError);
        } else {
          EXPECT_EQ(fs[i].result(), t * per_thread + i);
          ++completed;
        }
      }
    });
  for (auto& t : ts) t.join();
  pool.shutdown();
  long ran = 0;
  for (auto& r : runs) {
    EXPECT_LE(r.load(), 1);
    ran += r.load();
  }
  EXPECT_EQ(ran, completed.load());
  EXPECT_EQ(cancelled.load() + completed.load(), submitters * per_thread);
}

TEST(ThreadPoolStress, ShutdownRacingSubmitsLosesNothing) {
  const long rounds = scaled(200, 5);
  std::mt19937 rng(1);
  for (long round = 0; round < rounds; ++round) {
    auto pool = std::make_unique<cf::ThreadPoolExecutor>(cf::ThreadPoolOptions{.max_workers = 2});
    std::atomic<long> ran{0}, accepted{0}, rejected{0};
    std::vector<std::thread> ts;
    std::vector<std::vector<cf::Future<void>>> futures(3);
    for (int t = 0; t < 3; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) {
          try {
            futures[t].push_back(pool->submit([&ran] { ++ran; }));
            ++accepted;
          } catch (const concur::RuntimeError&) {
            ++rejected;
          }
        }
      });
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
    const bool cancel = rng() % 2;
    pool->shutdown({.wait = true, .cancel_futures = cancel});
    for (auto& t : ts) t.join();
    long done_ok = 0, was_cancelled = 0;
    for (auto& v : futures)
      for (auto& f : v) {
        ASSERT_TRUE(f.done());
        if (f.cancelled()) ++was_cancelled;
        else {
          f.result();
          ++done_ok;
        }
      }
    EXPECT_EQ(done_ok, ran.load());
    EXPECT_EQ(done_ok + was_cancelled, accepted.load());
    EXPECT_EQ(accepted.load() + rejected.load(), 900);
    if (!cancel) {
      EXPECT_EQ(was_cancelled, 0);
    }
  }
}

TEST(ThreadPoolStress, NestedFanOutWithRandomWaits) {
  const int width = static_cast<int>(scaled(40, 4));
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  auto root = pool.submit([&] {
    std::vector<cf::Future<long>> kids;
    for (int i = 0; i < width; ++i)
      kids.push_back(pool.submit([&, i] {
        std::vector<cf::Future<long>> leaves;
        for (int j = 0; j < width; ++j) leaves.push_back(pool.submit([i, j] { return long(i) * j; }));
        long s = 0;
        switch (i % 3) {
          case 0:
            for (auto& f : leaves) s += f.result();
            break;
          case 1:
            cf::wait(leaves);
            for (auto& f : leaves) s += f.result();
            break;
          default:
            for (const auto& f : cf::as_completed(leaves)) s += f.result();
        }
        return s;
      }));
    long total = 0;
    for (auto& k : kids) total += k.result();
    return total;
  });
  long expected = 0;
  for (int i = 0; i < width; ++i)
    for (int j = 0; j < width; ++j) expected += long(i) * j;
  EXPECT_EQ(root.result(), expected);
}

TEST(ThreadPoolStress, CallbacksRacingCompletionRunExactlyOnce) {
  const long n = scaled(20'000, 200);
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<cf::Future<int>> fs;
  fs.reserve(n);
  auto counters = std::make_unique<std::atomic<int>[]>(n);
  for (long i = 0; i < n; ++i) fs.push_back(pool.submit([] { return 1; }));
  for (long i = 0; i < n; ++i)
    fs[i].add_done_callback([&counters, i](const cf::Future<int>&) { counters[i].fetch_add(1); });
  for (auto& f : fs) f.result();
  pool.shutdown();
  for (long i = 0; i < n; ++i) EXPECT_EQ(counters[i].load(), 1) << i;
}

TEST(ThreadPoolStress, FirstCompletedLoopDrainsEverything) {
  const long n = scaled(2'000, 50);
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<cf::Future<long>> pending;
  for (long i = 0; i < n; ++i) pending.push_back(pool.submit([i] { return i; }));
  long sum = 0, rounds = 0;
  while (!pending.empty()) {
    auto r = cf::wait(pending, {.return_when = cf::FIRST_COMPLETED});
    ASSERT_FALSE(r.done.empty());
    for (auto& f : r.done) sum += f.result();
    pending = std::move(r.not_done);
    ++rounds;
  }
  EXPECT_EQ(sum, n * (n - 1) / 2);
  EXPECT_GE(rounds, 1);
}
