// Tests for concur/asyncio/taskgroups.hpp: TaskGroup and ExceptionGroup.
#include "concur/asyncio/taskgroups.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace asyncio = concur::asyncio;
using asyncio::Task;
using asyncio::TaskGroup;
using namespace std::chrono_literals;

namespace {
Task<int> value_after(int v, std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  co_return v;
}
Task<int> fail_after(std::chrono::milliseconds d, const char* what) {
  co_await asyncio::sleep(d);
  throw std::runtime_error(what);
}
}  // namespace

TEST(TaskGroup, WaitsForAllTasks) {
  asyncio::run([]() -> Task<void> {
    Task<int> a, b;
    co_await asyncio::task_group([&](TaskGroup& tg) -> Task<void> {
      a = tg.create_task(value_after(1, 5ms));
      b = tg.create_task(value_after(2, 1ms));
      co_return;
    });
    EXPECT_TRUE(a.done());
    EXPECT_TRUE(b.done());
    EXPECT_EQ(a.result() + b.result(), 3);
  }());
}

TEST(TaskGroup, FirstFailureCancelsSiblingsAndReportsEveryError) {
  asyncio::run([]() -> Task<void> {
    Task<int> slow;
    bool body_cancelled = false;
    try {
      co_await asyncio::task_group([&](TaskGroup& tg) -> Task<void> {
        slow = tg.create_task(value_after(1, 10s));
        tg.create_task(fail_after(1ms, "one"));
        // Fails while being cancelled by the group: its error is reported too.
        tg.create_task([]() -> Task<void> {
          try {
            co_await asyncio::sleep(10s);
          } catch (const concur::CancelledError&) {
            throw std::runtime_error("two");
          }
        }());
        try {
          co_await asyncio::sleep(10s);
        } catch (const concur::CancelledError&) {
          body_cancelled = true;
          throw;
        }
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const asyncio::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 2u);
      EXPECT_NE(std::string(eg.what()).find("one"), std::string::npos);
      EXPECT_NE(std::string(eg.what()).find("two"), std::string::npos);
    }
    EXPECT_TRUE(body_cancelled);
    EXPECT_TRUE(slow.cancelled());
    // The enclosing task is not left cancelled.
    co_await asyncio::sleep(1ms);
  }());
}

TEST(TaskGroup, BodyErrorCancelsTasks) {
  asyncio::run([]() -> Task<void> {
    Task<int> slow;
    try {
      co_await asyncio::task_group([&](TaskGroup& tg) -> Task<void> {
        slow = tg.create_task(value_after(1, 10s));
        co_await asyncio::sleep(0);
        throw std::logic_error("body");
      });
    } catch (const asyncio::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
      EXPECT_THROW(std::rethrow_exception(eg.exceptions()[0]), std::logic_error);
    }
    EXPECT_TRUE(slow.cancelled());
  }());
}

TEST(TaskGroup, OuterCancellationPropagates) {
  asyncio::run([]() -> Task<void> {
    Task<int> child;
    auto outer = asyncio::create_task([](Task<int>* c) -> Task<void> {
      co_await asyncio::task_group([&](TaskGroup& tg) -> Task<void> {
        *c = tg.create_task(value_after(1, 10s));
        co_return;
      });
    }(&child));
    co_await asyncio::sleep(1ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, concur::CancelledError);
    EXPECT_TRUE(child.cancelled());
  }());
}

TEST(TaskGroup, CreateTaskAfterFailureIsRefused) {
  asyncio::run([]() -> Task<void> {
    try {
      co_await asyncio::task_group([&](TaskGroup& tg) -> Task<void> {
        tg.create_task(fail_after(0ms, "x"));
        try {
          co_await asyncio::sleep(1s);
        } catch (const concur::CancelledError&) {
        }
        EXPECT_THROW(tg.create_task(value_after(1, 1ms)), concur::RuntimeError);
      });
    } catch (const asyncio::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
    }
  }());
}
