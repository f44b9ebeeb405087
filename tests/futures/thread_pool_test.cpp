#include "concur/futures/thread_pool.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "concur/futures/wait.hpp"

using namespace std::chrono_literals;
using concur::futures::Future;
using concur::futures::ThreadPoolExecutor;

namespace {
struct UserError : std::runtime_error {
  explicit UserError(int v) : std::runtime_error("user error " + std::to_string(v)), value(v) {}
  int value;
};

long fib(ThreadPoolExecutor& pool, int n) {
  if (n < 2) return n;
  auto a = pool.submit([&pool, n] { return fib(pool, n - 1); });
  auto b = pool.submit([&pool, n] { return fib(pool, n - 2); });
  return a.result() + b.result();  // waits on children from a pool thread
}
}  // namespace

TEST(ThreadPoolExecutor, SubmitReturnsResults) {
  ThreadPoolExecutor pool({.max_workers = 2});
  auto f = pool.submit([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(f.result(), 5);
  auto g = pool.submit([] {});
  g.result();
  EXPECT_TRUE(g.done());
  std::string s = "abc";
  auto h = pool.submit([](std::string& ref) { ref += "d"; return ref.size(); }, std::ref(s));
  EXPECT_EQ(h.result(), 4u);
  EXPECT_EQ(s, "abcd");
}

TEST(ThreadPoolExecutor, DefaultMaxWorkersIsPythons) {
  ThreadPoolExecutor pool;
  const std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(pool.max_workers(), std::min<std::size_t>(32, cpus + 4));
  EXPECT_THROW(ThreadPoolExecutor({.max_workers = 0}), concur::ValueError);
}

TEST(ThreadPoolExecutor, ExceptionReachesCallerWithItsType) {
  ThreadPoolExecutor pool({.max_workers = 2});
  auto f = pool.submit([]() -> int { throw UserError(42); });
  try {
    f.result();
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_EQ(e.value, 42);
  }
  EXPECT_NE(f.exception(), nullptr);
  // The worker survived: the pool keeps working.
  EXPECT_EQ(pool.submit([] { return 1; }).result(), 1);
}

TEST(ThreadPoolExecutor, ThreadsStartLazilyUpToMaxWorkers) {
  ThreadPoolExecutor pool({.max_workers = 3});
  EXPECT_EQ(pool.thread_count(), 0u);
  std::vector<Future<void>> fs;
  std::atomic<bool> go{false};
  for (int i = 0; i < 10; ++i)
    fs.push_back(pool.submit([&] { while (!go) std::this_thread::sleep_for(1ms); }));
  std::this_thread::sleep_for(20ms);
  EXPECT_LE(pool.thread_count(), 3u);
  EXPECT_GE(pool.thread_count(), 1u);
  go = true;
  for (auto& f : fs) f.result();
}

TEST(ThreadPoolExecutor, ThreadNamesAndInitializerPerThread) {
  std::atomic<int> inits{0};
  std::mutex m;
  std::set<std::string> names;
  {
    ThreadPoolExecutor pool({.max_workers = 2, .thread_name_prefix = "wk", .initializer = [&] { ++inits; }});
    std::vector<Future<void>> fs;
    for (int i = 0; i < 50; ++i)
      fs.push_back(pool.submit([&] {
        char buf[16] = {};
        pthread_getname_np(pthread_self(), buf, sizeof buf);
        std::lock_guard lock(m);
        names.insert(buf);
        std::this_thread::sleep_for(1ms);
      }));
    for (auto& f : fs) f.result();
    EXPECT_EQ(inits.load(), static_cast<int>(pool.thread_count()));
  }
  for (const auto& n : names) EXPECT_EQ(n.rfind("wk_", 0), 0u) << n;
}

TEST(ThreadPoolExecutor, FailingInitializerBreaksThePool) {
  ThreadPoolExecutor pool({.max_workers = 1, .initializer = [] { throw UserError(1); }});
  testing::internal::CaptureStderr();
  auto f = pool.submit([] { return 1; });
  EXPECT_THROW(f.result(), concur::futures::BrokenThreadPool);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("initializer"), std::string::npos);
  EXPECT_THROW(pool.submit([] { return 2; }), concur::futures::BrokenThreadPool);
}

TEST(ThreadPoolExecutor, SubmitAfterShutdownThrowsRuntimeError) {
  ThreadPoolExecutor pool({.max_workers = 1});
  pool.shutdown();
  EXPECT_THROW(pool.submit([] {}), concur::RuntimeError);
  pool.shutdown();  // idempotent
}

TEST(ThreadPoolExecutor, ShutdownWaitsForQueuedWork) {
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool({.max_workers = 2});
  for (int i = 0; i < 100; ++i) pool.submit([&] { ++ran; });
  pool.shutdown({.wait = true});
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolExecutor, DestructorIsShutdownWait) {
  std::atomic<int> ran{0};
  {
    ThreadPoolExecutor pool({.max_workers = 2});
    for (int i = 0; i < 100; ++i) pool.submit([&] { std::this_thread::sleep_for(100us); ++ran; });
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolExecutor, ShutdownCancelFuturesCancelsPendingAndStopsRunning) {
  ThreadPoolExecutor pool({.max_workers = 1});
  std::atomic<bool> started{false};
  auto running = pool.submit([&](std::stop_token st) {
    started = true;
    while (!st.stop_requested()) std::this_thread::sleep_for(1ms);
    return 7;
  });
  std::vector<Future<int>> queued;
  for (int i = 0; i < 20; ++i) queued.push_back(pool.submit([] { return 1; }));
  while (!started) std::this_thread::sleep_for(1ms);
  pool.shutdown({.wait = true, .cancel_futures = true});
  EXPECT_EQ(running.result(), 7);
  for (auto& f : queued) {
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(f.result(), concur::CancelledError);
  }
}

TEST(ThreadPoolExecutor, CancelPendingAndStopRequestOnRunning) {
  ThreadPoolExecutor pool({.max_workers = 1});
  std::atomic<bool> started{false};
  auto running = pool.submit([&](std::stop_token st) {
    started = true;
    while (!st.stop_requested()) std::this_thread::sleep_for(1ms);
    throw concur::CancelledError("stopped on request");
  });
  auto pending = pool.submit([] { return 1; });
  while (!started) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(pending.cancel());
  EXPECT_FALSE(running.cancel());  // running: Python says no, but the task sees the request
  EXPECT_THROW(running.result(), concur::CancelledError);
  EXPECT_TRUE(pending.cancelled());
}

TEST(ThreadPoolExecutor, RecursiveFanOutDoesNotDeadlockTwoWorkers) {
  ThreadPoolExecutor pool({.max_workers = 2});
  auto f = pool.submit([&pool] { return fib(pool, 18); });
  EXPECT_EQ(f.result(), 2584);
}

TEST(ThreadPoolExecutor, RecursiveFanOutWithWaitAndAsCompleted) {
  ThreadPoolExecutor pool({.max_workers = 2});
  auto outer = pool.submit([&pool] {
    std::vector<Future<int>> kids;
    for (int i = 0; i < 50; ++i)
      kids.push_back(pool.submit([&pool, i] {
        std::vector<Future<int>> grandkids;
        for (int j = 0; j < 4; ++j) grandkids.push_back(pool.submit([i, j] { return i + j; }));
        concur::futures::wait(grandkids);
        int s = 0;
        for (auto& g : grandkids) s += g.result();
        return s;
      }));
    int total = 0;
    for (const auto& k : concur::futures::as_completed(kids)) total += k.result();
    return total;
  });
  int expected = 0;
  for (int i = 0; i < 50; ++i)
    for (int j = 0; j < 4; ++j) expected += i + j;
  EXPECT_EQ(outer.result(), expected);
}

TEST(ThreadPoolExecutor, OutsideThreadNeverRunsPoolTasks) {
  std::atomic<int> inits{0};
  ThreadPoolExecutor pool({.max_workers = 1, .initializer = [&] { ++inits; }});
  const auto main_id = std::this_thread::get_id();
  std::atomic<bool> ran_on_main{false};
  std::vector<Future<void>> fs;
  auto blocker = pool.submit([] { std::this_thread::sleep_for(20ms); });
  for (int i = 0; i < 100; ++i)
    fs.push_back(pool.submit([&] { if (std::this_thread::get_id() == main_id) ran_on_main = true; }));
  blocker.result();  // main blocks here: it must not run the queued tasks
  for (auto& f : fs) f.result();
  EXPECT_FALSE(ran_on_main.load());
  EXPECT_EQ(inits.load(), 1);
}

TEST(ThreadPoolExecutor, MapYieldsInInputOrder) {
  ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<int> xs(100);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<int> out;
  for (int r : pool.map([](int x) {
         std::this_thread::sleep_for(std::chrono::microseconds((100 - x) * 10));
         return x * x;
       }, xs))
    out.push_back(r);
  ASSERT_EQ(out.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[i], i * i);
}

TEST(ThreadPoolExecutor, MapRethrowsAtTheFailingElement) {
  ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<int> xs{1, 2, 3, 4};
  auto results = pool.map([](int x) { if (x == 3) throw UserError(x); return x; }, xs);
  auto it = results.begin();
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_EQ(*it, 2);
  ++it;
  EXPECT_THROW(*it, UserError);
}

TEST(ThreadPoolExecutor, MapTimeoutThrowsTimeoutError) {
  ThreadPoolExecutor pool({.max_workers = 1});
  std::atomic<bool> release{false};
  std::vector<int> xs{1, 2};
  auto results = pool.map([&](int x) { while (!release) std::this_thread::sleep_for(1ms); return x; },
                          xs, {.timeout = 30ms});
  auto it = results.begin();
  EXPECT_THROW(*it, concur::TimeoutError);
  release = true;
}

TEST(ThreadPoolExecutor, MapBuffersizeBoundsLookAheadOnUnboundedInput) {
  ThreadPoolExecutor pool({.max_workers = 2});
  std::atomic<int> submitted{0};
  auto results = pool.map([&](int x) { ++submitted; return x; }, std::views::iota(0),
                          {.buffersize = 4});
  int n = 0;
  for (int r : results) {
    EXPECT_EQ(r, n);
    if (++n == 100) break;
  }
  EXPECT_LE(submitted.load(), 100 + 4);
  EXPECT_THROW(pool.map([](int x) { return x; }, std::vector<int>{1}, {.buffersize = 0}),
               concur::ValueError);
}

TEST(ThreadPoolExecutor, SubmitFromManyThreads) {
  ThreadPoolExecutor pool({.max_workers = 3});
  std::atomic<long> sum{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      std::vector<Future<int>> fs;
      for (int i = 0; i < 1000; ++i) fs.push_back(pool.submit([i] { return i; }));
      for (auto& f : fs) sum += f.result();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(sum.load(), 4L * 999 * 1000 / 2);
}

TEST(ThreadPoolExecutor, CallsThatWaitForEachOtherGetMaxWorkersThreads) {
  // Python starts a thread per call while none is idle; five calls meeting at a latch need five
  // threads even if a worker was busy looking for work when they were submitted.
  for (int round = 0; round < 20; ++round) {
    ThreadPoolExecutor pool({.max_workers = 5});
    std::latch start(5);
    std::vector<Future<void>> fs;
    for (int i = 0; i < 5; ++i) fs.push_back(pool.submit([&start] { start.arrive_and_wait(); }));
    for (auto& f : fs) f.result();
    EXPECT_EQ(pool.thread_count(), 5u);
  }
}

TEST(ThreadPoolExecutor, ShutdownWithoutWaitStillRunsEverything) {
  std::atomic<int> ran{0};
  std::latch start(3);
  {
    ThreadPoolExecutor pool({.max_workers = 3});
    for (int i = 0; i < 3; ++i) pool.submit([&] { start.arrive_and_wait(); ++ran; });
    pool.shutdown({.wait = false});
  }
  EXPECT_EQ(ran.load(), 3);
}
