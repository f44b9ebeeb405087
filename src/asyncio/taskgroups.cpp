// TaskGroup (concur/asyncio/taskgroups.hpp): the port of CPython 3.12's taskgroups.py.
#include "concur/asyncio/taskgroups.hpp"

namespace concur::asyncio {

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : Error([&] {
        std::string what = message + " (" + std::to_string(exceptions.size()) + " sub-exception" +
                           (exceptions.size() == 1 ? "" : "s") + ")";
        for (const auto& e : exceptions) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            what.append("; ").append(x.what());
          } catch (...) {
            what.append("; unknown exception");
          }
        }
        return what;
      }()),
      message_(std::move(message)),
      exceptions_(std::move(exceptions)) {}

/// A task of the group: holds a reference and is told when it finishes.
class TaskGroup::Member final : public detail::DoneWaiter {
 public:
  Member(TaskGroup* g, detail::TaskBase* t) : g_(g), t_(t) { t_->add_ref(); }
  ~Member() { t_->release(); }
  void on_done(detail::TaskBase& t) noexcept override { g_->on_member_done(this, t); }
  TaskGroup* g_;
  detail::TaskBase* t_;
  Member* prev_ = nullptr;
  Member* next_ = nullptr;
};

/// __aexit__'s wait for "no tasks left".
class TaskGroup::ExitWait final : public detail::Suspension {
 public:
  explicit ExitWait(TaskGroup* g) : g_(g) {}
  ~ExitWait() {
    if (g_->exit_waiter_ == this) g_->exit_waiter_ = nullptr;
  }
  bool await_ready() const noexcept { return g_->count_ == 0; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!begin(h)) return false;
    g_->exit_waiter_ = this;
    return true;
  }
  void await_resume() { finish(); }
  bool on_cancel() noexcept override {
    g_->exit_waiter_ = nullptr;
    wake_cancelled();
    return true;
  }
  void done() noexcept {
    g_->exit_waiter_ = nullptr;
    wake();
  }

 private:
  TaskGroup* g_;
};

TaskGroup::TaskGroup() : parent_(detail::current_task()) {
  if (parent_ == nullptr) throw RuntimeError("TaskGroup used outside of a task");
}

TaskGroup::~TaskGroup() {
  // Only reached with members left if the enclosing frame is destroyed mid-block (loop close).
  while (Member* m = members_) {
    members_ = m->next_;
    detail::TaskBase* t = m->t_;
    t->add_ref();
    delete m;  // unlinks its waiter
    t->cancel();
    t->release();
  }
}

void TaskGroup::check_open(detail::TaskBase* t) {
  if (exiting_ && count_ == 0) {
    if (t) t->close();
    throw RuntimeError("TaskGroup is finished");
  }
  if (aborting_) {
    if (t) t->close();
    throw RuntimeError("TaskGroup is shutting down");
  }
}

void TaskGroup::add(detail::TaskBase* t) {
  if (t->done()) {  // cannot happen for a fresh task; kept for symmetry with Python
    return;
  }
  auto* m = new Member(this, t);
  m->next_ = members_;
  if (members_) members_->prev_ = m;
  members_ = m;
  ++count_;
  t->add_done_waiter(m);
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for (Member* m = members_; m; m = m->next_) {
    if (!m->t_->done()) m->t_->cancel();
  }
}

void TaskGroup::on_member_done(Member* m, detail::TaskBase& t) noexcept {
  if (m->prev_) {
    m->prev_->next_ = m->next_;
  } else {
    members_ = m->next_;
  }
  if (m->next_) m->next_->prev_ = m->prev_;
  --count_;
  std::exception_ptr error;
  if (!t.cancelled()) error = t.error();
  delete m;  // the task stays alive through the loop's reference until on_done returns
  if (exiting_ && count_ == 0 && exit_waiter_) exit_waiter_->done();
  if (!error) return;
  errors_.push_back(error);
  if (!aborting_) abort();
  if (!parent_cancel_requested_) {
    // The block is still running (or waiting in exit): interrupt it.
    parent_cancel_requested_ = true;
    parent_->cancel();
  }
}

Task<void> TaskGroup::exit(std::exception_ptr body_error) {
  exiting_ = true;
  bool propagate_cancel = false;
  if (body_error) {
    try {
      std::rethrow_exception(body_error);
    } catch (const CancelledError&) {
      propagate_cancel = true;
    } catch (...) {
    }
    if (!aborting_) abort();
  }
  while (count_ > 0) {
    try {
      co_await ExitWait(this);
    } catch (const CancelledError&) {
      if (!aborting_) {
        propagate_cancel = true;
        abort();
      }
    }
  }
  if (parent_cancel_requested_ && parent_->uncancel() == 0) propagate_cancel = false;
  if (propagate_cancel && errors_.empty()) {
    if (body_error) std::rethrow_exception(body_error);
    throw CancelledError();
  }
  std::vector<std::exception_ptr> all = std::move(errors_);
  if (body_error && !propagate_cancel) {
    bool is_cancel = false;
    try {
      std::rethrow_exception(body_error);
    } catch (const CancelledError&) {
      is_cancel = true;
    } catch (...) {
    }
    if (!is_cancel) all.push_back(body_error);
  }
  if (!all.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(all));
}

}  // namespace concur::asyncio
