// concur/asyncio/taskgroups.hpp — asyncio.TaskGroup: structured concurrency.
//
//   Python                                        concur
//   async with asyncio.TaskGroup() as tg:         co_await asyncio::task_group([&](TaskGroup& tg) -> Task<void> {
//       t1 = tg.create_task(a())                      t1 = tg.create_task(a());
//       t2 = tg.create_task(b())                      t2 = tg.create_task(b());
//                                                     co_return;
//                                                 });
//
// C++ has no `async with`, so the block is a coroutine (usually a lambda) run inline by
// task_group(); the lambda object is kept alive for the whole block. When the block ends,
// task_group() waits for every task of the group. The first task to fail (with anything but
// CancelledError) cancels the others and the block's own task; once all have finished, every
// error is raised together as ExceptionGroup (an error thrown by the block itself included).
// Nothing outlives the group. A cancellation of the enclosing task propagates as CancelledError
// after the group's tasks are cancelled and finished.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "concur/asyncio/event_loop.hpp"
#include "concur/asyncio/task.hpp"
#include "concur/error.hpp"

namespace concur::asyncio {

/// Python's ExceptionGroup: several errors raised together (TaskGroup).
class ExceptionGroup : public Error {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
  /// The message given ("unhandled errors in a TaskGroup").
  const std::string& message() const noexcept { return message_; }
  /// The errors, in the order they happened.
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

/// Python's asyncio.TaskGroup. Create it only through task_group(). Loop thread only.
class TaskGroup {
 public:
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  /// Schedules coro as a task of the group. Throws RuntimeError if the group has finished or
  /// is shutting down after a failure (the coroutine is then dropped without running).
  template <class T>
  ScheduledTask<T> create_task(Task<T> coro, TaskOptions options = {}) {
    check_open(coro.promise());
    ScheduledTask<T> t = get_running_loop().create_task(std::move(coro), std::move(options));
    add(t.promise());
    return t;
  }

 private:
  template <class F>
  friend Task<void> task_group(F body);
  TaskGroup();
  class Member;
  class ExitWait;
  void check_open(detail::TaskBase* t);
  void add(detail::TaskBase* t);
  void on_member_done(Member* m, detail::TaskBase& t) noexcept;
  void abort() noexcept;
  /// __aexit__: waits for every task, then raises as Python does.
  Task<void> exit(std::exception_ptr body_error);

  detail::TaskBase* parent_;
  Member* members_ = nullptr;
  std::size_t count_ = 0;
  ExitWait* exit_waiter_ = nullptr;
  std::vector<std::exception_ptr> errors_;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

/// Runs body(tg) as the block of `async with TaskGroup() as tg`, then waits for the group's
/// tasks. Throws ExceptionGroup if any failed, CancelledError if the enclosing task was cancelled.
template <class F>
Task<void> task_group(F body) {
  TaskGroup tg;
  std::exception_ptr body_error;
  try {
    co_await body(tg);
  } catch (...) {
    body_error = std::current_exception();
  }
  co_await tg.exit(std::move(body_error));
}

}  // namespace concur::asyncio
