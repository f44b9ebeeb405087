// Tests for concur/asyncio/threads.hpp: run_in_executor, to_thread, awaiting futures,
// run_coroutine_threadsafe.
#include "concur/asyncio/threads.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "concur/asyncio/tasks.hpp"

namespace asyncio = concur::asyncio;
namespace futures = concur::futures;
using asyncio::Task;
using namespace std::chrono_literals;

TEST(Threads, ToThreadRunsElsewhere) {
  asyncio::run([]() -> Task<void> {
    const auto loop_thread = std::this_thread::get_id();
    auto id = co_await asyncio::to_thread([] { return std::this_thread::get_id(); });
    EXPECT_NE(id, loop_thread);
    EXPECT_EQ(co_await asyncio::to_thread([](int a, int b) { return a * b; }, 6, 7), 42);
    EXPECT_THROW(co_await asyncio::to_thread([] { throw std::out_of_range("r"); }), std::out_of_range);
    co_await asyncio::to_thread([] {});
  }());
}

TEST(Threads, RunInExecutorWithOwnPoolAndGather) {
  futures::ThreadPoolExecutor pool({.max_workers = 2});
  asyncio::run([&]() -> Task<void> {
    auto& loop = asyncio::get_running_loop();
    auto [a, b] = co_await asyncio::gather(loop.run_in_executor(&pool, [] {
                                             std::this_thread::sleep_for(5ms);
                                             return 1;
                                           }),
                                           loop.run_in_executor(nullptr, [] { return 2; }));
    EXPECT_EQ(a + b, 3);
  }());
}

TEST(Threads, AwaitAnyFuture) {
  asyncio::run([]() -> Task<void> {
    futures::Promise<int> p;
    auto f = p.get_future();
    std::thread t([p = std::move(p)]() mutable {
      std::this_thread::sleep_for(5ms);
      p.set_result(11);
    });
    EXPECT_EQ(co_await f, 11);
    t.join();
    // A cancelled wait cancels the future.
    futures::Promise<int> q;
    auto g = q.get_future();
    auto waiter = asyncio::create_task([](futures::Future<int> fut) -> Task<int> { co_return co_await fut; }(g));
    co_await asyncio::sleep(1ms);
    waiter.cancel();
    EXPECT_THROW(co_await waiter, concur::CancelledError);
    EXPECT_TRUE(g.cancelled());
  }());
}

TEST(Threads, RunCoroutineThreadsafeFromAnotherThread) {
  asyncio::EventLoop* loop_ptr = nullptr;
  std::atomic<bool> ready{false};
  std::atomic<bool> finish{false};
  std::thread loop_thread([&] {
    asyncio::run([&]() -> Task<void> {
      loop_ptr = &asyncio::get_running_loop();
      ready = true;
      while (!finish) co_await asyncio::sleep(1ms);
    }());
  });
  while (!ready) std::this_thread::sleep_for(1ms);
  auto f = asyncio::run_coroutine_threadsafe(
      []() -> Task<int> {
        co_await asyncio::sleep(1ms);
        co_return 5;
      }(),
      *loop_ptr);
  EXPECT_EQ(f.result(5s), 5);
  auto g = asyncio::run_coroutine_threadsafe(
      []() -> Task<int> {
        co_await asyncio::sleep(1ms);
        throw std::range_error("bad");
      }(),
      *loop_ptr);
  EXPECT_THROW(g.result(5s), std::range_error);
  auto h = asyncio::run_coroutine_threadsafe(
      []() -> Task<int> {
        co_await asyncio::sleep(10s);
        co_return 1;
      }(),
      *loop_ptr);
  std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(h.cancel());
  finish = true;
  loop_thread.join();
  EXPECT_TRUE(h.cancelled());
}
