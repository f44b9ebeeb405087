// TaskBase's out-of-line parts: names, error bookkeeping, reports at destruction.
#include "concur/asyncio/task.hpp"

#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "concur/asyncio/event_loop.hpp"

namespace concur::asyncio::detail {

std::string describe_exception(const std::exception_ptr& e);

namespace {
std::mutex g_names_mutex;
std::unordered_map<const TaskBase*, std::string>& names() {
  static auto* m = new std::unordered_map<const TaskBase*, std::string>();  // never destroyed
  return *m;
}
bool is_shared(const DoneWaiter* p) noexcept { return (reinterpret_cast<std::uintptr_t>(p) & 1u) != 0; }
DoneWaiter* untag(DoneWaiter* p) noexcept {
  return reinterpret_cast<DoneWaiter*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{1});
}
/// Stands in a task's waiter list for a shared waiter once a second waiter arrives.
class ForwardWaiter final : public DoneWaiter {
 public:
  explicit ForwardWaiter(DoneWaiter* target) noexcept : target_(target) {}
  void on_done(TaskBase& t) noexcept override {
    DoneWaiter* target = target_;
    delete this;
    target->on_done(t);
  }
  DoneWaiter* forwards_to() const noexcept override { return target_; }

 private:
  DoneWaiter* target_;
};
}  // namespace

std::string TaskBase::name() const {
  if (named_) {
    std::lock_guard lk(g_names_mutex);
    return names()[this];
  }
  return "Task-" + std::to_string(id_);
}

void TaskBase::set_name(std::string name) {
  std::lock_guard lk(g_names_mutex);
  names()[this] = std::move(name);
  named_ = true;
}

void TaskBase::add_done_waiter(DoneWaiter* w) {
  if (is_shared(done_waiters_)) {  // make the shared waiter a (forwarding) node first
    auto* f = new ForwardWaiter(untag(done_waiters_));
    f->waited_ = this;
    f->next_waiter_ = nullptr;
    done_waiters_ = f;
  }
  w->waited_ = this;
  w->next_waiter_ = done_waiters_;
  done_waiters_ = w;
}

void TaskBase::add_shared_waiter_slow(DoneWaiter* s) {
  if (!add_shared_waiter(s)) add_done_waiter(new ForwardWaiter(s));
}

void TaskBase::remove_done_waiter(DoneWaiter* w) noexcept {
  if (is_shared(done_waiters_)) {
    if (untag(done_waiters_) == w) done_waiters_ = nullptr;
    return;
  }
  for (DoneWaiter** p = &done_waiters_; *p; p = &(*p)->next_waiter_) {
    DoneWaiter* node = *p;
    if (node == w || node->forwards_to() == w) {
      *p = node->next_waiter_;
      node->next_waiter_ = nullptr;
      node->waited_ = nullptr;
      if (node != w) delete static_cast<ForwardWaiter*>(node);
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
  if (named_) {
    std::lock_guard lk(g_names_mutex);
    names().erase(this);
  }
}

}  // namespace concur::asyncio::detail
