#include "concur/futures/process_pool.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <numeric>
#include <set>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include "process_test_util.hpp"

using namespace std::chrono_literals;
using concur::futures::BrokenProcessPool;
using concur::futures::ProcessPoolExecutor;

namespace ptest {

int add(int a, int b) { return a + b; }
CONCUR_TASK(ptest::add);

int naive_gcd(std::pair<int, int> p) {
  const int low = std::min(p.first, p.second);
  for (int i = low; i > 0; --i) {
    if (p.first % i == 0 && p.second % i == 0) return i;
  }
  return 1;
}
CONCUR_TASK(ptest::naive_gcd);

std::string concat(const std::string& a, std::vector<int> v) {
  return a + ":" + std::to_string(std::accumulate(v.begin(), v.end(), 0));
}
CONCUR_TASK(ptest::concat);

int my_pid() { return static_cast<int>(getpid()); }
CONCUR_TASK(ptest::my_pid);

void nothing() {}
CONCUR_TASK(ptest::nothing);

struct Point {
  int x = 0;
  double y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
};
Point move_point(Point p, int dx) {
  p.x += dx;
  p.label += "!";
  return p;
}
CONCUR_TASK(ptest::move_point);

struct MyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
CONCUR_EXCEPTION(ptest::MyError);
struct Unregistered : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int throw_my(int kind) {
  if (kind == 0) throw MyError("registered " + std::to_string(kind));
  if (kind == 1) throw Unregistered("not registered");
  if (kind == 2) throw std::out_of_range("std type");
  if (kind == 3) throw 42;
  return kind;
}
CONCUR_TASK(ptest::throw_my);

int crash(int how) {
  crash_worker(how);
  return how;
}
CONCUR_TASK(ptest::crash);

int sleep_ms(int ms) {
  ::usleep(static_cast<useconds_t>(ms) * 1000);
  return ms;
}
CONCUR_TASK(ptest::sleep_ms);

int init_calls = 0;
void init_ok() { init_calls = 7; }
CONCUR_TASK(ptest::init_ok);
int read_init() { return init_calls; }
CONCUR_TASK(ptest::read_init);
void init_fails() { throw std::runtime_error("no database"); }
CONCUR_TASK(ptest::init_fails);

int not_registered(int x) { return x; }

// Writes bytes that are not a frame onto the worker's channel (fd 3), as memory corruption might.
int write_garbage(int truncated) {
  if (truncated) {
    const char partial[10] = {0x43, 0x43, 0x52, 0x31, 1, 3, 0, 0, 0, 0};  // a header cut short
    [[maybe_unused]] auto n = ::write(3, partial, sizeof partial);
    std::_Exit(0);
  }
  const char junk[] = "this is not a concur frame, just garbage bytes!!";
  [[maybe_unused]] auto n = ::write(3, junk, sizeof junk);
  ::pause();
  return 0;
}
CONCUR_TASK(ptest::write_garbage);

}  // namespace ptest

TEST(ProcessPoolExecutor, SubmitReturnsResult) {
  ProcessPoolExecutor pool({.max_workers = 2});
  auto f = pool.submit(ptest::add, 2, 3);
  EXPECT_EQ(f.result(), 5);
  EXPECT_EQ(pool.submit(ptest::naive_gcd, std::pair{1963309, 2265973}).result(30s), 1);
  EXPECT_EQ(pool.submit(ptest::concat, "sum", std::vector<int>{1, 2, 3}).result(), "sum:6");
  pool.submit(ptest::nothing).result();
  const int child = pool.submit(ptest::my_pid).result();
  EXPECT_NE(child, getpid());
}

TEST(ProcessPoolExecutor, UserTypeWithSerializeMember) {
  ProcessPoolExecutor pool({.max_workers = 1});
  auto p = pool.submit(ptest::move_point, ptest::Point{1, 2.5, "a"}, 4).result();
  EXPECT_EQ(p.x, 5);
  EXPECT_EQ(p.y, 2.5);
  EXPECT_EQ(p.label, "a!");
}

TEST(ProcessPoolExecutor, UnregisteredFunctionIsValueError) {
  ProcessPoolExecutor pool({.max_workers = 1});
  EXPECT_THROW(pool.submit(ptest::not_registered, 1), concur::ValueError);
}

TEST(ProcessPoolExecutor, ExceptionsRoundTrip) {
  ProcessPoolExecutor pool({.max_workers = 2});
  EXPECT_THROW(pool.submit(ptest::throw_my, 0).result(), ptest::MyError);
  try {
    pool.submit(ptest::throw_my, 1).result();
    ADD_FAILURE();
  } catch (const concur::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "ptest::Unregistered");
    EXPECT_EQ(e.message(), "not registered");
  }
  EXPECT_THROW(pool.submit(ptest::throw_my, 2).result(), std::out_of_range);
  try {
    pool.submit(ptest::throw_my, 3).result();
    ADD_FAILURE();
  } catch (const concur::RemoteError& e) {
    EXPECT_EQ(e.type_name(), "int");
  }
  EXPECT_EQ(pool.submit(ptest::throw_my, 9).result(), 9);
}

TEST(ProcessPoolExecutor, MapKeepsOrderWithChunks) {
  ProcessPoolExecutor pool({.max_workers = 2});
  std::vector<std::pair<int, int>> in;
  for (int i = 1; i <= 100; ++i) in.emplace_back(i * 6, i * 4);
  for (std::size_t chunk : {1u, 7u, 256u}) {
    std::vector<int> out;
    for (int r : pool.map(ptest::naive_gcd, in, {.chunksize = chunk})) out.push_back(r);
    ASSERT_EQ(out.size(), in.size());
    for (int i = 1; i <= 100; ++i) EXPECT_EQ(out[i - 1], 2 * i);
  }
  std::vector<int> out;
  for (int r : pool.map(ptest::naive_gcd, in, {.chunksize = 3, .buffersize = 4})) out.push_back(r);
  EXPECT_EQ(out.size(), in.size());
  EXPECT_THROW(pool.map(ptest::naive_gcd, in, {.chunksize = 0}), concur::ValueError);
}

TEST(ProcessPoolExecutor, MapTimeout) {
  ProcessPoolExecutor pool({.max_workers = 1});
  std::vector<int> ms = {800};
  auto results = pool.map(ptest::sleep_ms, ms, {.timeout = 50ms});
  EXPECT_THROW(*results.begin(), concur::TimeoutError);
}

TEST(ProcessPoolExecutor, CrashFailsOnlyThatTask) {
  ProcessPoolExecutor pool({.max_workers = 2});
  for (int how = 0; how < ptest::kCrashKinds; ++how) {
    auto before = pool.submit(ptest::add, 1, 1);
    auto bad = pool.submit(ptest::crash, how);
    auto after = pool.submit(ptest::add, 2, 2);
    try {
      bad.result();
      ADD_FAILURE() << "crash kind " << how << " returned";
    } catch (const BrokenProcessPool& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("worker process"), std::string::npos) << msg;
      EXPECT_TRUE(msg.find("signal") != std::string::npos || msg.find("exit status") != std::string::npos) << msg;
      if (!ptest::kSanitized && how == 3) {
        EXPECT_NE(msg.find("exit status 3"), std::string::npos) << msg;
      }
      if (!ptest::kSanitized && how == 0) {
        EXPECT_NE(msg.find("SIGSEGV"), std::string::npos) << msg;
      }
    }
    EXPECT_EQ(before.result(), 2);
    EXPECT_EQ(after.result(), 4);
  }
  EXPECT_EQ(pool.submit(ptest::add, 20, 22).result(), 42);
  pool.shutdown();
  EXPECT_TRUE(ptest::no_children());
}

TEST(ProcessPoolExecutor, MaxTasksPerChildRecycles) {
  ProcessPoolExecutor pool({.max_workers = 2, .max_tasks_per_child = 3});
  std::vector<concur::futures::Future<int>> fs;
  for (int i = 0; i < 40; ++i) fs.push_back(pool.submit(ptest::my_pid));
  std::set<int> pids;
  for (auto& f : fs) pids.insert(f.result(60s));
  EXPECT_GE(pids.size(), 40u / 3);
  pool.shutdown();
  EXPECT_TRUE(ptest::no_children());
}

TEST(ProcessPoolExecutor, InitializerRunsInEachWorker) {
  ProcessPoolExecutor pool({.max_workers = 2, .initializer = ptest::init_ok});
  EXPECT_EQ(pool.submit(ptest::read_init).result(), 7);
}

TEST(ProcessPoolExecutor, FailingInitializerBreaksThePool) {
  ProcessPoolExecutor pool({.max_workers = 1, .initializer = ptest::init_fails});
  auto f = pool.submit(ptest::add, 1, 2);
  try {
    f.result(60s);
    ADD_FAILURE();
  } catch (const BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("no database"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool.submit(ptest::add, 1, 2), BrokenProcessPool);
}

TEST(ProcessPoolExecutor, HangingWorkerKilledByCancelFutures) {
  ProcessPoolExecutor pool({.max_workers = 1, .shutdown_grace = 200ms});
  auto hang = pool.submit(ptest::sleep_ms, 600'000);
  auto queued = pool.submit(ptest::add, 1, 1);
  while (!hang.running()) std::this_thread::sleep_for(1ms);
  const auto t0 = std::chrono::steady_clock::now();
  pool.shutdown({.wait = true, .cancel_futures = true});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
  EXPECT_THROW(hang.result(), BrokenProcessPool);
  EXPECT_TRUE(queued.cancelled() || queued.done());
  EXPECT_TRUE(ptest::no_children());
}

TEST(ProcessPoolExecutor, SubmitAfterShutdownIsRuntimeError) {
  ProcessPoolExecutor pool({.max_workers = 1});
  pool.shutdown();
  EXPECT_THROW(pool.submit(ptest::add, 1, 2), concur::RuntimeError);
}

TEST(ProcessPoolExecutor, BadOptions) {
  EXPECT_THROW(ProcessPoolExecutor({.max_workers = 0}), concur::ValueError);
  EXPECT_THROW(ProcessPoolExecutor({.mp_context = "fork"}), concur::ValueError);
}

TEST(ProcessPoolExecutor, CpuTimeLimitIsBrokenProcessPool) {
  ProcessPoolExecutor pool({.max_workers = 1, .cpu_time_limit = std::chrono::seconds(1)});
  auto f = pool.submit(ptest::crash, ptest::kSpin);
  try {
    f.result(120s);
    ADD_FAILURE();
  } catch (const BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("SIGXCPU"), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.submit(ptest::add, 1, 2).result(), 3);
}

TEST(ProcessPoolExecutor, MemoryLimitIsBrokenProcessPool) {
  if (ptest::kSanitized) GTEST_SKIP() << "sanitizer runtimes need more address space than a limit allows";
  ProcessPoolExecutor pool({.max_workers = 1, .memory_limit = std::size_t{256} << 20});
  auto f = pool.submit(ptest::crash, ptest::kAllocate);
  try {
    f.result(120s);
    ADD_FAILURE();
  } catch (const BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("memory limit"), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.submit(ptest::add, 1, 2).result(), 3);
}

TEST(ProcessPoolExecutor, GarbageOnTheChannelIsAClearError) {
  ProcessPoolExecutor pool({.max_workers = 1});
  for (int truncated : {0, 1}) {
    auto f = pool.submit(ptest::write_garbage, truncated);
    try {
      f.result(60s);
      ADD_FAILURE();
    } catch (const BrokenProcessPool& e) {
      const std::string msg = e.what();
      EXPECT_TRUE(msg.find("garbage") != std::string::npos || msg.find("truncated") != std::string::npos) << msg;
    }
    EXPECT_EQ(pool.submit(ptest::add, 1, 2).result(60s), 3);  // the pool replaced the worker
  }
  pool.shutdown();
  EXPECT_TRUE(ptest::no_children());
}
