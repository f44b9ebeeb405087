// TaskBase's out-of-line parts: names, error bookkeeping, reports at destruction.
#include "concur/asyncio/task.hpp"

#include <cstdio>

#include "concur/asyncio/event_loop.hpp"

namespace concur::asyncio::detail {

std::string describe_exception(const std::exception_ptr& e);

std::string TaskBase::name() const {
  if (name_) return *name_;
  return "Task-" + std::to_string(id_);
}

void TaskBase::set_name(std::string name) {
  if (name_) {
    *name_ = std::move(name);
  } else {
    name_ = new std::string(std::move(name));
  }
}

void TaskBase::remove_done_waiter(DoneWaiter* w) noexcept {
  for (DoneWaiter** p = &done_waiters_; *p; p = &(*p)->next_waiter_) {
    if (*p == w) {
      *p = w->next_waiter_;
      w->next_waiter_ = nullptr;
      w->waited_ = nullptr;
      return;
    }
  }
}

void TaskBase::set_error(std::exception_ptr e) noexcept {
  error_ = std::move(e);
  try {
    std::rethrow_exception(error_);
  } catch (const CancelledError&) {
    cancelled_ = true;
  } catch (...) {
  }
}

TaskBase::~TaskBase() {
  if (error_ && !retrieved_ && !cancelled_) {
    ExceptionContext ctx{"Task exception was never retrieved", error_, is_root_ ? name() : "coroutine"};
    if (EventLoop* loop = running_loop()) {
      loop->call_exception_handler(ctx);
    } else {
      std::fprintf(stderr, "Task exception was never retrieved\nfuture: <Task finished name='%s' exception=%s>\n",
                   ctx.task.c_str(), describe_exception(error_).c_str());
    }
  }
  if (!started_ && !closed_) {
    std::fprintf(stderr, "RuntimeWarning: coroutine %s was never awaited\n",
                 is_root_ ? name().c_str() : "(lazy Task)");
  }
  delete name_;
}

}  // namespace concur::asyncio::detail
