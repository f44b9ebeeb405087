// concur/asyncio/task.hpp — asyncio.Task and the coroutine type of every `async def`.
//
//   Python                                   concur
//   async def f(x) -> int: ...               Task<int> f(int x) { ...; co_return 42; }
//   r = await f(1)                           int r = co_await f(1);      // runs inline, no task
//   t = asyncio.create_task(f(1))            Task<int> t = create_task(f(1));
//   t.cancel(); t.done(); t.result()         t.cancel(); t.done(); t.result();
//
// A Task<T> is a cheap copyable handle (reference-counted, like a Python reference) to one
// coroutine frame. Calling a coroutine function creates it *lazy*: nothing runs until it is
// awaited (then it runs inline in the awaiting task, with symmetric transfer, so arbitrarily long
// chains of synchronously completing awaits never grow the stack) or scheduled with create_task()
// (then it becomes an asyncio Task that the loop keeps alive until it ends — the "Task was
// destroyed but it is pending" trap of CPython cannot happen). Awaiting a scheduled task waits
// for it; many may await the same one. Exceptions propagate to the awaiter with their type.
//
// Cancellation (asyncio's model): cancel() throws concur::CancelledError into the task at its
// current suspension point (sleep, queue/lock/event waits, I/O waits, awaiting another task —
// which is cancelled too) or at the next one if it is running or about to run.
//
// An exception that nobody retrieved (by awaiting, result() or exception()) is reported to the
// loop's exception handler (default: stderr) when the task is destroyed. A coroutine that was
// never awaited nor scheduled is reported on stderr ("coroutine ... was never awaited").
//
// Thread-safety: a Task and its handles belong to the thread of the loop that runs it. Use
// EventLoop::call_soon_threadsafe or run_coroutine_threadsafe to reach it from other threads.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "concur/detail/small_alloc.hpp"
#include "concur/error.hpp"

namespace concur::asyncio {

class EventLoop;
template <class T = void>
class Task;

namespace detail {

class TaskBase;

/// The thread's running loop, or null. (Defined in src/asyncio.)
EventLoop* running_loop() noexcept;
/// The asyncio task being stepped on this thread, or null.
TaskBase* current_task() noexcept;
/// Queues a root task on the running loop's ready queue (its next step).
void schedule(TaskBase* t) noexcept;
/// Runs fn soon on the running loop (type-erased call_soon for headers that cannot see EventLoop).
void call_soon_erased(std::function<void()> fn);

/// A point where a task is suspended and may be cancelled: the base of every leaf awaiter
/// (sleep, FdWatch waits, queue/lock/event waits, awaiting another task).
///
/// Protocol for an awaiter: in await_suspend call begin(h) — false means a cancellation is
/// pending, so do not suspend; register with the event source; when the source fires call wake().
/// on_cancel() is called by Task::cancel() while this is the task's current suspension: either
/// unregister from the source and call wake_cancelled() (return true), or forward the cancel
/// (return true) or refuse (return false: the cancel is delivered at the next suspension).
/// await_resume must call finish(), which throws CancelledError when cancelled.
class Suspension {
 public:
  Suspension() = default;
  Suspension(const Suspension&) = delete;
  Suspension& operator=(const Suspension&) = delete;
  virtual bool on_cancel() noexcept = 0;

 protected:
  ~Suspension();
  /// Registers this as the current task's suspension. Throws RuntimeError outside a task.
  bool begin(std::coroutine_handle<> h);
  /// Makes the suspended task runnable (queued on the loop).
  void wake() noexcept;
  /// As wake(), and the task's resumption (finish()) throws CancelledError.
  void wake_cancelled() noexcept;
  /// Throws CancelledError if woken by a cancel or if a cancel arrived after the wake-up.
  void finish();
  /// True (once) if this suspension was woken by wake_cancelled(); for awaiters that do not
  /// call finish() on that path.
  bool take_cancelled() noexcept;

  TaskBase* task_ = nullptr;  // the task suspended here (set by begin())
  // (Whether the wake-up was a cancel is a bit in the task, not here: awaiters stay small.)
};

/// Notified when a scheduled task finishes (intrusive; unlinks itself if destroyed earlier).
class DoneWaiter {
 public:
  DoneWaiter() = default;
  DoneWaiter(const DoneWaiter&) = delete;
  DoneWaiter& operator=(const DoneWaiter&) = delete;
  virtual void on_done(TaskBase& t) noexcept = 0;
  /// A node standing for a shared waiter (see TaskBase::add_shared_waiter) returns it.
  virtual DoneWaiter* forwards_to() const noexcept { return nullptr; }

 protected:
  ~DoneWaiter();

 private:
  friend class TaskBase;
  DoneWaiter* next_waiter_ = nullptr;
  TaskBase* waited_ = nullptr;
};

/// What every Task<T> promise shares: state, cancellation, done-waiters, reference count.
class TaskBase {
 public:
  enum class State : std::uint8_t { lazy, running, pending, done };

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) self().destroy();
  }
  bool done() const noexcept { return state_ == State::done; }
  bool cancelled() const noexcept { return state_ == State::done && cancelled_; }
  bool is_root() const noexcept { return is_root_; }
  bool started() const noexcept { return started_; }
  State state() const noexcept { return state_; }

  /// Python's Task.cancel(): false if already done.
  bool cancel() noexcept {
    if (state_ == State::done) return false;
    ++cancel_requests_;
    if (waiter_ != nullptr && waiter_->on_cancel()) return true;
    must_cancel_ = true;
    return true;
  }
  /// Python 3.11's uncancel(): decrements the pending cancellation requests.
  int uncancel() noexcept {
    if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
    return cancel_requests_;
  }
  int cancelling() const noexcept { return cancel_requests_; }
  bool must_cancel() const noexcept { return must_cancel_; }
  bool take_must_cancel() noexcept {
    const bool m = must_cancel_;
    must_cancel_ = false;
    return m;
  }

  /// "Task-N" unless named.
  std::string name() const;
  void set_name(std::string name);
  std::uint32_t id() const noexcept { return id_; }

  void add_done_waiter(DoneWaiter* w);
  void remove_done_waiter(DoneWaiter* w) noexcept;
  /// Registers s as the task's only waiter without using s's list links, so one waiter (gather's)
  /// can watch many tasks with no node per task. False if the task has waiters already (then use
  /// add_done_waiter with a node). Undo with remove_done_waiter(s).
  bool add_shared_waiter(DoneWaiter* s) noexcept {
    if (done_waiters_ != nullptr) return false;
    done_waiters_ = reinterpret_cast<DoneWaiter*>(reinterpret_cast<std::uintptr_t>(s) | 1u);
    return true;
  }
  /// As add_shared_waiter when the task has waiters already: links a forwarding node.
  void add_shared_waiter_slow(DoneWaiter* s);

  /// The stored exception (null on success); marks it retrieved.
  std::exception_ptr error() noexcept {
    retrieved_ = true;
    return error_;
  }
  const std::exception_ptr& peek_error() const noexcept { return error_; }
  void mark_retrieved() noexcept { retrieved_ = true; }
  /// Suppresses the "never awaited" report (the coroutine was deliberately dropped).
  void close() noexcept { closed_ = true; }

  /// Runs this lazy coroutine inline for an awaiter; false if it completed synchronously.
  bool start_inline(std::coroutine_handle<> continuation) noexcept {
    next_ = continuation;
    state_ = State::running;
    started_ = true;
    inline_ = 1;
    self().resume();
    if (inline_ == 2) return false;
    inline_ = 3;
    return true;
  }
  /// Called at final suspend: where control goes next.
  std::coroutine_handle<> on_final() noexcept {
    state_ = State::done;
    if (is_root_) {
      finish_root();  // may destroy the frame
      return std::noop_coroutine();
    }
    if (inline_ == 1) {
      inline_ = 2;
      return std::noop_coroutine();
    }
    return next_;
  }
  void set_error(std::exception_ptr e) noexcept;

 protected:
  TaskBase() noexcept
      : is_root_(false), must_cancel_(false), cancelled_(false), retrieved_(false), closed_(false),
        started_(false), named_(false), woke_cancelled_(false) {}
  ~TaskBase();

  /// Records where the coroutine frame starts relative to this promise base (the frame handle is
  /// recomputed from it instead of stored: 8 bytes less per task). Called once, by the promise.
  void set_frame(std::coroutine_handle<> h) noexcept {
    frame_offset_ = static_cast<std::int16_t>(reinterpret_cast<std::intptr_t>(this) -
                                              reinterpret_cast<std::intptr_t>(h.address()));
  }
  /// This coroutine's frame.
  std::coroutine_handle<> self() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(
        reinterpret_cast<std::intptr_t>(this) - static_cast<std::intptr_t>(frame_offset_)));
  }

 private:
  friend class Suspension;
  friend class concur::asyncio::EventLoop;
  void finish_root() noexcept;

  std::coroutine_handle<> next_;       // child: continuation; root: innermost suspended frame
  Suspension* waiter_ = nullptr;       // root: the current cancellable suspension
  DoneWaiter* done_waiters_ = nullptr;  // root: notified when done
  TaskBase* prev_task_ = nullptr;      // root: the loop's list of live tasks
  TaskBase* next_task_ = nullptr;
  std::exception_ptr error_;
  std::uint32_t refs_ = 0;
  std::uint32_t id_ = 0;
  std::uint16_t cancel_requests_ = 0;
  std::int16_t frame_offset_ = 0;  // this - frame address (see set_frame)
  State state_ = State::lazy;
  std::uint8_t inline_ = 0;  // 1 running inside start_inline, 2 completed there, 3 suspended
  bool is_root_ : 1;
  bool must_cancel_ : 1;
  bool cancelled_ : 1;
  bool retrieved_ : 1;
  bool closed_ : 1;
  bool started_ : 1;
  bool named_ : 1;           // the name lives in a side table (names are rare; frames stay small)
  bool woke_cancelled_ : 1;  // the current suspension was woken by a cancel (Suspension)
};

inline Suspension::~Suspension() {
  if (task_ != nullptr && task_->waiter_ == this) task_->waiter_ = nullptr;
}
inline bool Suspension::begin(std::coroutine_handle<> h) {
  task_ = current_task();
  if (task_ == nullptr) throw RuntimeError("await outside of a running asyncio task");
  if (task_->must_cancel_) return false;
  task_->waiter_ = this;
  task_->next_ = h;
  return true;
}
inline void Suspension::wake() noexcept {
  task_->waiter_ = nullptr;
  schedule(task_);
}
inline void Suspension::wake_cancelled() noexcept {
  task_->woke_cancelled_ = true;
  wake();
}
inline bool Suspension::take_cancelled() noexcept {
  if (task_ == nullptr || !task_->woke_cancelled_) return false;
  task_->woke_cancelled_ = false;
  return true;
}
inline void Suspension::finish() {
  if (task_ == nullptr) return;
  if (take_cancelled()) throw CancelledError();
  if (task_->take_must_cancel()) throw CancelledError();
}
inline DoneWaiter::~DoneWaiter() {
  if (waited_ != nullptr) waited_->remove_done_waiter(this);
}

struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    return h.promise().on_final();
  }
  void await_resume() const noexcept {}
};

template <class T>
class PromiseResult {
 public:
  template <class U = T>
  void return_value(U&& v) {
    value_.emplace(std::forward<U>(v));
  }
  std::optional<T> value_;
};
template <>
class PromiseResult<void> {
 public:
  void return_void() noexcept {}
};

/// The promise of Task<T>: frames come from concur's small-block allocator (per-thread size-class
/// free lists carved from huge-page slabs: no malloc per task, few first-touch page faults).
template <class T>
class TaskPromise final : public TaskBase, public PromiseResult<T> {
 public:
  static void* operator new(std::size_t n) { return concur::detail::small_allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept {
    concur::detail::small_deallocate(p, n);
  }

  Task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { set_error(std::current_exception()); }

  /// The result (rethrows the exception); moves the value out when Move.
  template <bool Move>
  decltype(auto) get_result() {
    mark_retrieved();
    if (peek_error()) std::rethrow_exception(peek_error());
    if constexpr (!std::is_void_v<T>) {
      if constexpr (Move || !std::is_copy_constructible_v<T>) {
        return T(std::move(*this->value_));
      } else {
        return T(*this->value_);
      }
    }
  }
};

/// co_await on a Task: inline for a lazy one, wait-for-completion for a scheduled one.
template <class T, bool Move>
class TaskAwaiter final : public Suspension, public DoneWaiter {
 public:
  explicit TaskAwaiter(TaskPromise<T>* p) noexcept : p_(p) {}
  bool await_ready() const noexcept { return p_->done(); }
  bool await_suspend(std::coroutine_handle<> h) {
    if (p_->state() == TaskBase::State::lazy) return p_->start_inline(h);
    if (!begin(h)) return false;
    p_->add_done_waiter(this);
    return true;
  }
  T await_resume() {
    finish();
    return p_->template get_result<Move>();
  }
  bool on_cancel() noexcept override { return p_->cancel(); }  // cancels the awaited task too
  void on_done(TaskBase&) noexcept override { wake(); }

 private:
  TaskPromise<T>* p_;
};

}  // namespace detail

/// asyncio's coroutine object and Task in one handle; see the file comment.
template <class T>
class [[nodiscard]] Task {
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported; return a pointer");

 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  /// An empty handle (valid() is false).
  Task() noexcept = default;
  /// Adopts one reference to p (for the library).
  explicit Task(promise_type* p) noexcept : p_(p) {}
  Task(const Task& o) noexcept : p_(o.p_) {
    if (p_) p_->add_ref();
  }
  Task(Task&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Task& operator=(Task o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Task() {
    if (p_) p_->release();
  }

  bool valid() const noexcept { return p_ != nullptr; }
  /// True once finished (value, exception or cancelled).
  bool done() const noexcept { return p_->done(); }
  bool cancelled() const noexcept { return p_->cancelled(); }
  /// Requests cancellation (see file comment). False if already done.
  bool cancel() noexcept { return p_->cancel(); }
  int uncancel() noexcept { return p_->uncancel(); }
  int cancelling() const noexcept { return p_->cancelling(); }

  /// The result of a finished task. Throws InvalidStateError if not done, CancelledError if
  /// cancelled, or the task's exception.
  decltype(auto) result() const {
    if (!p_->done()) throw InvalidStateError("Result is not set.");
    p_->mark_retrieved();
    if (p_->peek_error()) std::rethrow_exception(p_->peek_error());
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*p_->value_);
  }
  /// The exception of a finished task (null on success). Throws InvalidStateError if not done,
  /// CancelledError if cancelled.
  std::exception_ptr exception() const {
    if (!p_->done()) throw InvalidStateError("Exception is not set.");
    if (p_->cancelled()) throw CancelledError();
    return p_->error();
  }
  std::string get_name() const { return p_->name(); }
  void set_name(std::string name) { p_->set_name(std::move(name)); }

  /// Calls fn(task) soon (on the loop) after the task finishes (at once-soon if it already has).
  template <class F>
  void add_done_callback(F fn) const;

  auto operator co_await() const& noexcept { return detail::TaskAwaiter<T, false>(p_); }
  auto operator co_await() && noexcept { return detail::TaskAwaiter<T, true>(p_); }

  /// The promise (for the library: gather, TaskGroup, the loop).
  promise_type* promise() const noexcept { return p_; }
  friend bool operator==(const Task& a, const Task& b) noexcept { return a.p_ == b.p_; }

 private:
  promise_type* p_ = nullptr;
};

/// What create_task() returns: a Task<T> that may be discarded (fire and forget — the loop keeps
/// the task alive), unlike a lazy Task, whose discarding is a compile-time warning.
template <class T>
class ScheduledTask : public Task<T> {
 public:
  ScheduledTask() noexcept = default;
  explicit ScheduledTask(Task<T> t) noexcept : Task<T>(std::move(t)) {}
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  set_frame(std::coroutine_handle<TaskPromise>::from_promise(*this));
  add_ref();
  return Task<T>(this);
}

template <class T, class F>
class CallbackDoneWaiter final : public DoneWaiter {
 public:
  CallbackDoneWaiter(Task<T> t, F fn) : task_(std::move(t)), fn_(std::move(fn)) {}
  void on_done(TaskBase&) noexcept override {
    try {
      call_soon_erased([t = std::move(task_), fn = std::move(fn_)]() mutable { fn(t); });
    } catch (...) {
    }
    delete this;
  }

 private:
  Task<T> task_;
  F fn_;
};
}  // namespace detail

template <class T>
template <class F>
void Task<T>::add_done_callback(F fn) const {
  if (p_->done() || !p_->is_root()) {
    // Done already (or never scheduled: nothing will complete it by itself): call soon.
    if (p_->done()) {
      detail::call_soon_erased([t = *this, fn = std::move(fn)]() mutable { fn(t); });
      return;
    }
  }
  p_->add_done_waiter(new detail::CallbackDoneWaiter<T, F>(*this, std::move(fn)));
}

}  // namespace concur::asyncio
