// Tests for concur/asyncio/task.hpp: lazy tasks, symmetric transfer, exceptions, cancellation,
// reference counting, reports of unretrieved exceptions and never-awaited coroutines.
#include "concur/asyncio/task.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "concur/asyncio/event_loop.hpp"

namespace asyncio = concur::asyncio;
using asyncio::Task;
using namespace std::chrono_literals;

namespace {

Task<int> add_one(int x) { co_return x + 1; }
Task<void> nothing() { co_return; }

Task<long> many_sync_awaits(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += co_await add_one(0);
  for (long i = 0; i < n / 10; ++i) co_await nothing();
  co_return sum;
}

struct CustomError : std::runtime_error {
  using std::runtime_error::runtime_error;
  int code = 7;
};

Task<int> throws_after_yield() {
  co_await asyncio::sleep(0);
  throw CustomError("custom");
}

Task<int> recurse(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await recurse(depth - 1);
}

}  // namespace

TEST(Task, LazyUntilAwaited) {
  bool ran = false;
  auto body = [&]() -> Task<void> {
    ran = true;
    co_return;
  };
  asyncio::run([&]() -> Task<void> {
    Task<void> t = body();
    EXPECT_FALSE(ran);
    co_await t;
    EXPECT_TRUE(ran);
    EXPECT_TRUE(t.done());
  }());
}

TEST(Task, TenMillionSynchronousAwaitsDoNotGrowTheStack) {
  // Fails with a stack overflow (SIGSEGV) if completion resumed the awaiter recursively.
  EXPECT_EQ(asyncio::run(many_sync_awaits(10'000'000)), 10'000'000);
}

TEST(Task, DeepRecursionWorks) { EXPECT_EQ(asyncio::run(recurse(10'000)), 10'000); }

TEST(Task, ExceptionsPropagateWithTheirType) {
  asyncio::run([]() -> Task<void> {
    try {
      co_await throws_after_yield();
      ADD_FAILURE() << "no exception";
    } catch (const CustomError& e) {
      EXPECT_EQ(e.code, 7);
      EXPECT_STREQ(e.what(), "custom");
    }
    auto t = asyncio::create_task(throws_after_yield());
    EXPECT_THROW(co_await t, CustomError);
    EXPECT_THROW(t.result(), CustomError);
    EXPECT_NE(t.exception(), nullptr);
  }());
  EXPECT_THROW(asyncio::run(throws_after_yield()), CustomError);
}

TEST(Task, CreateTaskKeepsTheTaskAlive) {
  int done = 0;
  asyncio::run([&]() -> Task<void> {
    for (int i = 0; i < 100; ++i) {
      // The handle is dropped at once: the loop must keep the task alive until it ends.
      (void)asyncio::create_task([](int* d) -> Task<void> {
        co_await asyncio::sleep(1ms);
        ++*d;
      }(&done));
    }
    co_await asyncio::sleep(50ms);
  }());
  EXPECT_EQ(done, 100);
}

TEST(Task, CancelDeliversCancelledErrorAtTheSuspensionPoint) {
  asyncio::run([]() -> Task<void> {
    bool reached_after = false;
    bool caught = false;
    auto t = asyncio::create_task([](bool* after, bool* c) -> Task<void> {
      try {
        co_await asyncio::sleep(10s);
        *after = true;
      } catch (const concur::CancelledError&) {
        *c = true;
        throw;
      }
    }(&reached_after, &caught));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(co_await t, concur::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(caught);
    EXPECT_FALSE(reached_after);
    EXPECT_FALSE(t.cancel());  // already done
    EXPECT_THROW(t.result(), concur::CancelledError);
    EXPECT_THROW((void)t.exception(), concur::CancelledError);
  }());
}

TEST(Task, CancelBeforeFirstStepNeverRunsTheBody) {
  asyncio::run([]() -> Task<void> {
    bool ran = false;
    auto t = asyncio::create_task([](bool* r) -> Task<void> {
      *r = true;
      co_return;
    }(&ran));
    t.cancel();
    EXPECT_THROW(co_await t, concur::CancelledError);
    EXPECT_FALSE(ran);
  }());
}

TEST(Task, CancelWhileRunningIsDeliveredAtTheNextSuspension) {
  asyncio::run([]() -> Task<void> {
    auto self_cancel = []() -> Task<int> {
      int steps = 0;
      auto* loop = &asyncio::get_running_loop();
      (void)loop;
      ++steps;
      co_return steps;
    };
    EXPECT_EQ(co_await self_cancel(), 1);
    // A task that cancels the awaited one: the awaiter's cancel reaches the awaited task.
    auto inner = asyncio::create_task([]() -> Task<int> {
      co_await asyncio::sleep(10s);
      co_return 1;
    }());
    auto outer = asyncio::create_task([](Task<int> i) -> Task<int> { co_return co_await i; }(inner));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    outer.cancel();
    EXPECT_THROW(co_await outer, concur::CancelledError);
    EXPECT_TRUE(inner.cancelled());
  }());
}

TEST(Task, CatchingCancellationLetsTheTaskContinue) {
  asyncio::run([]() -> Task<void> {
    auto t = asyncio::create_task([]() -> Task<int> {
      try {
        co_await asyncio::sleep(10s);
      } catch (const concur::CancelledError&) {
      }
      co_await asyncio::sleep(1ms);
      co_return 5;
    }());
    co_await asyncio::sleep(0);
    t.cancel();
    EXPECT_EQ(co_await t, 5);
    EXPECT_EQ(t.cancelling(), 1);
    EXPECT_EQ(t.uncancel(), 0);
  }());
}

TEST(Task, ManyAwaitersOfOneTask) {
  asyncio::run([]() -> Task<void> {
    auto shared = asyncio::create_task([]() -> Task<std::string> {
      co_await asyncio::sleep(1ms);
      co_return std::string("value");
    }());
    auto waiter = [](Task<std::string> t) -> Task<std::size_t> { co_return (co_await t).size(); };
    auto a = asyncio::create_task(waiter(shared));
    auto b = asyncio::create_task(waiter(shared));
    EXPECT_EQ(co_await a + co_await b, 10u);
    EXPECT_EQ(shared.result(), "value");
  }());
}

TEST(Task, NamesAndDoneCallbacks) {
  asyncio::run([]() -> Task<void> {
    auto t = asyncio::create_task(add_one(1), {.name = "adder"});
    EXPECT_EQ(t.get_name(), "adder");
    int seen = 0;
    t.add_done_callback([&](const Task<int>& d) { seen = d.result(); });
    co_await t;
    co_await asyncio::sleep(0);
    EXPECT_EQ(seen, 2);
    auto u = asyncio::create_task(add_one(1));
    EXPECT_EQ(u.get_name().rfind("Task-", 0), 0u);
    co_await u;
  }());
}

TEST(Task, ResultBeforeDoneThrowsInvalidState) {
  asyncio::run([]() -> Task<void> {
    auto t = asyncio::create_task(throws_after_yield());
    EXPECT_THROW(t.result(), concur::InvalidStateError);
    EXPECT_THROW((void)t.exception(), concur::InvalidStateError);
    EXPECT_THROW(co_await t, CustomError);
  }());
}

TEST(Task, UnretrievedExceptionIsReported) {
  testing::internal::CaptureStderr();
  asyncio::run([]() -> Task<void> {
    (void)asyncio::create_task(throws_after_yield());
    co_await asyncio::sleep(5ms);
  }());
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Task exception was never retrieved"), std::string::npos) << err;
  EXPECT_NE(err.find("custom"), std::string::npos) << err;
}

TEST(Task, ExceptionHandlerReceivesUnretrievedExceptions) {
  std::string seen;
  asyncio::EventLoop loop;
  loop.set_exception_handler([&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
    seen = c.message + "|" + c.task;
  });
  loop.run_until_complete([]() -> Task<void> {
    (void)asyncio::create_task(throws_after_yield(), {.name = "bad"});
    co_await asyncio::sleep(5ms);
  }());
  EXPECT_EQ(seen, "Task exception was never retrieved|bad");
}

TEST(Task, NeverAwaitedCoroutineIsReported) {
  testing::internal::CaptureStderr();
  { auto t = add_one(1); }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("was never awaited"), std::string::npos) << err;
}

TEST(Task, HandlesAreCopyableAndCompareEqual) {
  asyncio::run([]() -> Task<void> {
    auto t = asyncio::create_task(add_one(41));
    Task<int> u = t;
    EXPECT_TRUE(t == u);
    EXPECT_EQ(co_await u, 42);
    EXPECT_EQ(t.result(), 42);
  }());
}

// The frame handle is recomputed from the promise's offset in the frame (not stored): check it
// with results whose alignment moves the promise (over-aligned) and with large frames.
namespace {
struct alignas(64) Wide {
  int v = 0;
  char pad[100] = {};
};

Task<Wide> make_wide(int v) {
  co_await asyncio::sleep(0);
  Wide w;
  w.v = v;
  co_return w;
}

Task<int> big_frame(int v) {
  char buf[4096];
  for (std::size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<char>(i);
  co_await asyncio::sleep(0);
  co_return v + buf[100];
}
}  // namespace

TEST(Task, OverAlignedResultsAndLargeFrames) {
  const int r = asyncio::run([]() -> Task<int> {
    Wide a = co_await make_wide(3);                      // inline
    auto t = asyncio::create_task(make_wide(4));        // scheduled, handle copied and dropped
    Task<Wide> copy = t;
    int b = co_await big_frame(1);
    auto u = asyncio::create_task(big_frame(2));
    Wide c = co_await copy;
    int d = co_await u;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&c) % 64, 0u);
    co_return a.v + c.v + b + d;
  }());
  EXPECT_EQ(r, 3 + 4 + 101 + 102);
}

// sleep(): yields and real timers, cancelled before they fire, after they fired but before the
// task ran, and frames destroyed while a timer is pending (the loop closes with sleepers).
TEST(Task, SleepTimersCancelledAtEveryStage) {
  asyncio::run([]() -> Task<void> {
    auto sleeper = [](asyncio::EventLoop::clock::duration d) -> Task<int> {
      co_await asyncio::sleep(d);
      co_return 1;
    };
    // Cancelled while the timer is pending.
    auto a = asyncio::create_task(sleeper(1h));
    co_await asyncio::sleep(0);
    a.cancel();
    EXPECT_THROW(co_await a, concur::CancelledError);
    // Fired (task queued) and then cancelled before it resumes: delivered at the resumption.
    auto b = asyncio::create_task(sleeper(1ms));
    co_await asyncio::sleep(5ms);  // b's timer fires first; b is ready when we cancel it
    if (!b.done()) {
      b.cancel();
      try {
        (void)co_await b;
      } catch (const concur::CancelledError&) {
      }
    }
    // A yield cancelled while queued.
    auto c = asyncio::create_task(sleeper(0ms));
    co_await asyncio::sleep(0);
    c.cancel();
    EXPECT_THROW(co_await c, concur::CancelledError);
    // Left sleeping: run() cancels them at shutdown (their timers are removed and freed).
    for (int i = 0; i < 100; ++i) (void)asyncio::create_task(sleeper(std::chrono::hours(1 + i)));
  }());
}
