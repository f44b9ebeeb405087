// The non-template engines of gather / wait / timeout / as_completed (concur/asyncio/tasks.hpp).
#include "concur/asyncio/tasks.hpp"

namespace concur::asyncio::detail {

namespace {
/// Heap waiter that marks a finished task's exception retrieved, then deletes itself.
struct Silencer final : DoneWaiter {
  void on_done(TaskBase& t) noexcept override {
    t.mark_retrieved();
    delete this;
  }
};
}  // namespace

void silence_when_done(TaskBase* t) {
  if (t->done()) {
    t->mark_retrieved();
  } else if (t->is_root()) {
    t->add_done_waiter(new Silencer);
  }
}

// ---- MultiWait --------------------------------------------------------------------------------

MultiWait::MultiWait(const void* items, TaskAt at, std::size_t n, Mode mode, bool forward_cancel,
                     std::optional<std::chrono::steady_clock::time_point> deadline, bool schedule)
    : items_(items), at_(at), n_(n), remaining_(n), mode_(mode), forward_cancel_(forward_cancel) {
  EventLoop* loop = schedule ? &get_running_loop() : nullptr;
  std::size_t i = 0;
  try {
    for (; i < n; ++i) {
      TaskBase* t = at(items, i);
      if (loop != nullptr) loop->ensure_task(t);
      watch(t);
    }
  } catch (...) {
    unwatch(i);
    throw;
  }
  if (remaining_ == 0 || (first_failed_ != nullptr && mode_ != Mode::all &&
                          mode_ != Mode::first_completed))
    satisfied_ = true;
  if (!satisfied_ && deadline) {
    loop_ = running_loop();
    if (*deadline <= std::chrono::steady_clock::now()) {
      satisfied_ = true;  // timeout 0: poll
    } else {
      when_ = *deadline;
      loop_->add_timer(this);
    }
  }
}

void MultiWait::watch(TaskBase* t) {
  if (t->done()) {
    --remaining_;
    if (first_failed_ == nullptr && failed(*t)) first_failed_ = t;
    if (mode_ == Mode::first_completed) satisfied_ = true;
  } else if (!t->add_shared_waiter(this)) {
    // The task has waiters already: a forwarding node stands for this waiter.
    t->add_shared_waiter_slow(this);
  }
}

void MultiWait::unwatch(std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    TaskBase* t = task(i);
    if (!t->done()) t->remove_done_waiter(this);
  }
}

MultiWait::~MultiWait() {
  if (scheduled()) loop_->remove_timer(this);
  if (remaining_ > 0) unwatch(n_);  // else every registration was consumed: no pass over the tasks
}

bool MultiWait::failed(const TaskBase& t) const noexcept {
  if (!t.peek_error()) return false;
  return mode_ == Mode::first_failure || !t.cancelled();
}

bool MultiWait::await_suspend(std::coroutine_handle<> h) {
  if (!begin(h)) return false;
  suspended_ = true;
  return true;
}

void MultiWait::await_resume() {
  suspended_ = false;
  if (scheduled()) loop_->remove_timer(this);
  if (cancelling_) {
    (void)(task_ && task_->take_must_cancel());
    throw CancelledError();
  }
  finish();
}

void MultiWait::child_done(TaskBase& t) noexcept {
  --remaining_;
  if (first_failed_ == nullptr && failed(t)) first_failed_ = &t;
  if (satisfied_) return;
  bool now = remaining_ == 0;
  if (!cancelling_) {
    if (mode_ == Mode::first_completed) now = true;
    if (first_failed_ != nullptr && (mode_ == Mode::first_exception || mode_ == Mode::first_failure))
      now = true;
  }
  if (!now) return;
  satisfied_ = true;
  if (suspended_) wake();
}

bool MultiWait::on_cancel() noexcept {
  if (!forward_cancel_) {
    if (scheduled()) loop_->remove_timer(this);
    satisfied_ = true;
    wake_cancelled();
    return true;
  }
  // gather: cancel the children and wait for all of them, then raise CancelledError.
  bool any = false;
  for (std::size_t i = 0; i < n_; ++i) {
    TaskBase* t = task(i);
    if (!t->done() && t->cancel()) any = true;
  }
  if (!any) return false;
  cancelling_ = true;
  return true;
}

void MultiWait::fire() noexcept {
  if (satisfied_) return;
  satisfied_ = true;
  if (suspended_) wake();
}

// ---- TimeoutScope -----------------------------------------------------------------------------

TimeoutScope::TimeoutScope(std::optional<std::chrono::steady_clock::time_point> when)
    : task_(current_task()), loop_(running_loop()) {
  if (task_ == nullptr) throw RuntimeError("Timeout should be used inside a task");
  cancelling_ = task_->cancelling();
  if (when) {
    when_ = *when;
    loop_->add_timer(this);
  }
}

TimeoutScope::~TimeoutScope() {
  if (scheduled()) loop_->remove_timer(this);
}

void TimeoutScope::fire() noexcept {
  expired_ = true;
  task_->cancel();
}

void TimeoutScope::on_success() noexcept {
  if (scheduled()) loop_->remove_timer(this);
  if (expired_) task_->uncancel();
}

bool TimeoutScope::on_cancelled() noexcept {
  if (scheduled()) loop_->remove_timer(this);
  if (!expired_) return false;
  return task_->uncancel() <= cancelling_;
}

// ---- CompletionQueue --------------------------------------------------------------------------

CompletionQueue::CompletionQueue(std::vector<TaskBase*> tasks,
                                 std::optional<std::chrono::steady_clock::time_point> deadline)
    : tasks_(std::move(tasks)), yielded_left_(tasks_.size()) {
  children_ = std::make_unique<Child[]>(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    if (tasks_[i]->done()) {
      done_.push_back(tasks_[i]);
    } else {
      children_[i].q = this;
      tasks_[i]->add_done_waiter(&children_[i]);
    }
  }
  if (deadline && done_.size() < tasks_.size()) {
    loop_ = running_loop();
    when_ = *deadline;
    loop_->add_timer(this);
  }
}

CompletionQueue::~CompletionQueue() {
  if (scheduled()) loop_->remove_timer(this);
}

bool CompletionQueue::suspend(std::coroutine_handle<> h) {
  if (yielded_left_ == 0) return false;  // pop() throws
  if (!begin(h)) return false;
  waiting_ = true;
  resumed_from_wait_ = true;
  return true;
}

TaskBase* CompletionQueue::pop() {
  if (resumed_from_wait_) {
    resumed_from_wait_ = false;
    if (take_cancelled()) throw CancelledError();
    finish();
  }
  if (yielded_left_ == 0) throw RuntimeError("as_completed: no more tasks");
  if (head_ < done_.size()) {
    --yielded_left_;
    return done_[head_++];
  }
  throw TimeoutError();
}

void CompletionQueue::child_done(TaskBase& t) noexcept {
  done_.push_back(&t);
  if (waiting_) {
    waiting_ = false;
    wake();
  }
}

bool CompletionQueue::on_cancel() noexcept {
  waiting_ = false;
  wake_cancelled();
  return true;
}

void CompletionQueue::fire() noexcept {
  timed_out_ = true;
  if (waiting_) {
    waiting_ = false;
    wake();
  }
}

}  // namespace concur::asyncio::detail
