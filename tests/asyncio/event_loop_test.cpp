// Tests for concur/asyncio/event_loop.hpp: run, call_soon/later/at/threadsafe, timers, FdWatch,
// debug mode.
#include "concur/asyncio/event_loop.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

namespace asyncio = concur::asyncio;
using asyncio::Task;
using namespace std::chrono_literals;

TEST(EventLoop, GetRunningLoopOutsideThrows) {
  EXPECT_THROW(asyncio::get_running_loop(), concur::RuntimeError);
  try {
    asyncio::get_running_loop();
  } catch (const concur::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "no running event loop");
  }
}

TEST(EventLoop, RunReturnsTheResult) {
  EXPECT_EQ(asyncio::run([]() -> Task<int> { co_return 3; }()), 3);
}

TEST(EventLoop, RunInsideRunThrows) {
  asyncio::run([]() -> Task<void> {
    EXPECT_THROW(asyncio::run([]() -> Task<void> { co_return; }()), concur::RuntimeError);
    co_return;
  }());
}

TEST(EventLoop, CallSoonRunsInFifoOrder) {
  std::vector<int> order;
  asyncio::run([&]() -> Task<void> {
    auto& loop = asyncio::get_running_loop();
    for (int i = 0; i < 5; ++i) loop.call_soon([&, i] { order.push_back(i); });
    auto h = loop.call_soon([&] { order.push_back(99); });
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
  }());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, CallLaterAndCallAtFireInTimeOrder) {
  std::vector<int> order;
  asyncio::run([&]() -> Task<void> {
    auto& loop = asyncio::get_running_loop();
    loop.call_later(30ms, [&] { order.push_back(3); });
    loop.call_later(10ms, [&] { order.push_back(1); });
    loop.call_at(loop.time() + 20ms, [&] { order.push_back(2); });
    auto cancelled = loop.call_later(15ms, [&] { order.push_back(100); });
    cancelled.cancel();
    co_await asyncio::sleep(60ms);
  }());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventLoop, SleepWaitsAtLeastTheDelay) {
  asyncio::run([]() -> Task<void> {
    auto& loop = asyncio::get_running_loop();
    const auto t0 = loop.time();
    co_await asyncio::sleep(20ms);
    EXPECT_GE(loop.time() - t0, 20ms);
    co_await asyncio::sleep(0.001);
  }());
}

TEST(EventLoop, CallSoonThreadsafeFromManyThreads) {
  std::atomic<int> posted{0};
  int ran = 0;
  asyncio::run([&]() -> Task<void> {
    auto& loop = asyncio::get_running_loop();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) {
          loop.call_soon_threadsafe([&] { ++ran; });
          posted.fetch_add(1);
        }
      });
    }
    while (ran < 4000) co_await asyncio::sleep(1ms);
    for (auto& th : threads) th.join();
  }());
  EXPECT_EQ(ran, 4000);
}

TEST(EventLoop, PostToClosedLoopIsDropped) {
  auto loop = std::make_unique<asyncio::EventLoop>();
  auto remote = loop->remote();
  loop.reset();
  bool ran = false;
  asyncio::detail::post_threadsafe(remote, [&] { ran = true; });
  EXPECT_FALSE(ran);
}

TEST(EventLoop, RunUntilCompleteAndRunForeverStop) {
  asyncio::EventLoop loop;
  EXPECT_EQ(loop.run_until_complete([]() -> Task<int> { co_return 1; }()), 1);
  loop.call_later(5ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_FALSE(loop.is_running());
  loop.close();
  EXPECT_TRUE(loop.is_closed());
}

TEST(EventLoop, RunCancelsRemainingTasks) {
  bool cancelled = false;
  asyncio::run([&]() -> Task<void> {
    (void)asyncio::create_task([](bool* c) -> Task<void> {
      try {
        co_await asyncio::sleep(100s);
      } catch (const concur::CancelledError&) {
        *c = true;
        throw;
      }
    }(&cancelled));
    co_await asyncio::sleep(0);
  }());
  EXPECT_TRUE(cancelled);
}

TEST(EventLoop, FdWatchReadableAndWritable) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  asyncio::run([&]() -> Task<void> {
    asyncio::FdWatch a(sv[0]);
    asyncio::FdWatch b(sv[1]);
    auto reader = asyncio::create_task([](asyncio::FdWatch* w) -> Task<std::string> {
      char buf[16];
      for (;;) {
        const ssize_t n = ::read(w->fd(), buf, sizeof buf);
        if (n >= 0) co_return std::string(buf, static_cast<std::size_t>(n));
        EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
        co_await w->readable();
      }
    }(&a));
    co_await asyncio::sleep(5ms);
    EXPECT_FALSE(reader.done());
    co_await b.writable();  // the initial EPOLLOUT edge
    EXPECT_EQ(::write(sv[1], "hi", 2), 2);
    EXPECT_EQ(co_await reader, "hi");
    // A cancelled wait throws CancelledError.
    auto waiting = asyncio::create_task([](asyncio::FdWatch* w) -> Task<void> {
      char c;
      while (::read(w->fd(), &c, 1) < 0) co_await w->readable();
    }(&a));
    co_await asyncio::sleep(1ms);
    waiting.cancel();
    EXPECT_THROW(co_await waiting, concur::CancelledError);
  }());
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(EventLoop, DebugModeReportsSlowSteps) {
  testing::internal::CaptureStderr();
  asyncio::run(
      []() -> Task<void> {
        std::this_thread::sleep_for(150ms);  // blocks the loop
        co_return;
      }(),
      {.debug = true});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Executing <Task finished name='Task-1'> took 0."), std::string::npos) << err;
  EXPECT_NE(err.find(" seconds"), std::string::npos) << err;
}

TEST(EventLoop, NoReportWithoutDebug) {
  testing::internal::CaptureStderr();
  asyncio::run([]() -> Task<void> {
    std::this_thread::sleep_for(120ms);
    co_return;
  }());
  EXPECT_EQ(testing::internal::GetCapturedStderr().find("Executing"), std::string::npos);
}

TEST(EventLoop, CallbackExceptionGoesToTheHandler) {
  std::string seen;
  asyncio::EventLoop loop;
  loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) { seen = c.message; });
  loop.call_soon([] { throw std::runtime_error("x"); });
  loop.call_later(1ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(seen, "Exception in callback");
}
