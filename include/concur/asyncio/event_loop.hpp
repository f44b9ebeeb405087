// concur/asyncio/event_loop.hpp — asyncio's event loop: epoll, timers, run(), create_task, sleep.
//
//   Python                                        concur
//   asyncio.run(main(), debug=True)               asyncio::run(main(), {.debug = true});
//   loop = asyncio.get_running_loop()             EventLoop& loop = asyncio::get_running_loop();
//   loop.call_soon(fn) / call_later(0.5, fn)      loop.call_soon(fn);  loop.call_later(500ms, fn);
//   loop.call_soon_threadsafe(fn)                 loop.call_soon_threadsafe(fn);   // any thread
//   asyncio.create_task(coro(), name="x")         asyncio::create_task(coro(), {.name = "x"});
//   await asyncio.sleep(0.1)                      co_await asyncio::sleep(100ms);
//
// One loop per thread; run() runs it on the caller's thread. Ready work is a ring buffer stepped
// in FIFO order; timers are a binary heap; cross-thread posts take a mutex and write the loop's
// eventfd only on the empty -> non-empty edge. Everything except call_soon_threadsafe and
// Handle::cancel of a threadsafe handle must be called on the loop's thread.
//
// ---------------------------------------------------------------------------------------------
// For I/O code (streams, subprocesses): FdWatch.
//   FdWatch watch(loop, fd);   // fd must be O_NONBLOCK; registered ONCE, edge-triggered
//                              // (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET), removed by ~FdWatch.
//   for (;;) {                 // always try the syscall first, wait only on EAGAIN:
//     ssize_t n = ::read(fd, buf, len);
//     if (n >= 0) break;
//     if (errno != EAGAIN && errno != EWOULDBLOCK) throw std::system_error(errno, ...);
//     co_await watch.readable();   // resumes once an edge arrived since the last wait (at once
//   }                              // if one already did); throws CancelledError on cancel.
// writable() is the same for EPOLLOUT (non-blocking connect: await writable, then SO_ERROR).
// EPOLLHUP/EPOLLERR wake both directions (the syscall then reports the condition).
// FdWatch is neither copyable nor movable (epoll keeps its address): hold it by value in a
// non-movable object or in a unique_ptr. Destroy it before closing the fd; at most one task may
// wait per direction. Precondition: constructed on the loop's thread (or while it is not running).
// ---------------------------------------------------------------------------------------------
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "concur/asyncio/task.hpp"
#include "concur/error.hpp"

namespace concur::asyncio {

class EventLoop;
class FdWatch;

namespace detail {

/// A callback queued by call_soon / call_later / call_soon_threadsafe. Reference-counted (the
/// loop holds one reference while it is queued, each Handle one).
class CallbackNode {
 public:
  CallbackNode() = default;
  CallbackNode(const CallbackNode&) = delete;
  CallbackNode& operator=(const CallbackNode&) = delete;
  virtual ~CallbackNode() = default;
  virtual void run() = 0;
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void cancel() noexcept { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> cancelled_{false};
};

template <class F>
class Callback final : public CallbackNode {
 public:
  explicit Callback(F fn) : fn_(std::move(fn)) {}
  void run() override { fn_(); }

 private:
  F fn_;
};

/// An entry of the loop's timer heap (intrusive: knows its heap index, so removal is exact).
class TimerNode {
 public:
  static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
  /// Called by the loop when due, after removal from the heap.
  virtual void fire() noexcept = 0;
  bool scheduled() const noexcept { return heap_index_ != npos; }
  std::chrono::steady_clock::time_point when_{};

 protected:
  TimerNode() = default;
  ~TimerNode() = default;

 private:
  friend class concur::asyncio::EventLoop;
  std::uint32_t seq_ = 0;  // FIFO among equal deadlines (serial-number arithmetic: wraps safely)
  std::uint32_t heap_index_ = npos;
};

/// call_later / call_at: a callback that is also a timer.
class TimerCallbackBase : public CallbackNode, public TimerNode {
 public:
  explicit TimerCallbackBase(EventLoop* loop) noexcept : loop_(loop) {}
  void fire() noexcept override;
  EventLoop* loop_;
};
template <class F>
class TimerCallback final : public TimerCallbackBase {
 public:
  TimerCallback(EventLoop* loop, F fn) : TimerCallbackBase(loop), fn_(std::move(fn)) {}
  void run() override { fn_(); }

 private:
  F fn_;
};

struct Remote;
/// Queues n (adopting its reference) on the loop behind r, from any thread; dropped if closed.
void post_remote(Remote& r, CallbackNode* n);
/// Runs fn() on the loop behind r (from any thread); a no-op once that loop is closed. Holding
/// the shared Remote, unlike the EventLoop&, stays valid after the loop is destroyed.
template <class F>
void post_threadsafe(const std::shared_ptr<Remote>& r, F fn) {
  post_remote(*r, new Callback<F>(std::move(fn)));
}

}  // namespace detail

/// Python's asyncio.Handle: returned by call_soon / call_soon_threadsafe; cancel() prevents the
/// callback from running if it has not yet.
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(detail::CallbackNode* adopt) noexcept : node_(adopt) {}
  Handle(const Handle& o) noexcept : node_(o.node_) {
    if (node_) node_->add_ref();
  }
  Handle(Handle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  Handle& operator=(Handle o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~Handle() {
    if (node_) node_->release();
  }
  /// Thread-safe for handles of call_soon_threadsafe; loop thread otherwise.
  void cancel() noexcept {
    if (node_) node_->cancel();
  }
  bool cancelled() const noexcept { return node_ && node_->cancelled(); }

 protected:
  detail::CallbackNode* node_ = nullptr;
};

/// Python's asyncio.TimerHandle: call_later / call_at. cancel() also removes the timer.
class TimerHandle : public Handle {
 public:
  TimerHandle() noexcept = default;
  explicit TimerHandle(detail::TimerCallbackBase* adopt) noexcept : Handle(adopt), timer_(adopt) {}
  /// Loop thread only.
  void cancel() noexcept;
  std::chrono::steady_clock::time_point when() const noexcept { return timer_->when_; }

 private:
  detail::TimerCallbackBase* timer_ = nullptr;
};

/// create_task()'s keywords.
struct TaskOptions {
  std::optional<std::string> name{};  ///< default "Task-N"
};

/// What the exception handler receives (Python's context dict: message, exception, task name).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::string task;  ///< "Task-3", or empty
};

/// Python's asyncio event loop (the selector loop, on epoll). Not copyable or movable.
class EventLoop {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// Creates the epoll instance and the wake-up eventfd. Throws std::system_error.
  EventLoop();
  /// Closes the loop (see close()).
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Schedules fn() to run on the next iteration, after what is already ready (FIFO).
  template <class F>
  Handle call_soon(F fn) {
    auto* n = new detail::Callback<F>(std::move(fn));
    n->add_ref();
    push_callback(n);
    return Handle(n);
  }
  /// As call_soon, from any thread: wakes the loop (one eventfd write when its cross-thread
  /// queue was empty). A callback posted to a closed loop is dropped.
  template <class F>
  Handle call_soon_threadsafe(F fn) {
    auto* n = new detail::Callback<F>(std::move(fn));
    n->add_ref();
    post_threadsafe(n);
    return Handle(n);
  }
  /// Runs fn() after delay (monotonic clock).
  template <class Rep, class Period, class F>
  TimerHandle call_later(std::chrono::duration<Rep, Period> delay, F fn) {
    return call_at(time() + std::chrono::ceil<clock::duration>(delay), std::move(fn));
  }
  /// Runs fn() at `when` (compare with time()).
  template <class F>
  TimerHandle call_at(time_point when, F fn) {
    auto* n = new detail::TimerCallback<F>(this, std::move(fn));
    n->when_ = when;
    n->add_ref();
    add_timer(n);
    return TimerHandle(n);
  }
  /// The loop's clock (Python returns float seconds; here a steady_clock time point).
  time_point time() const noexcept { return clock::now(); }

  /// Schedules a coroutine as a Task (or returns the task if it is one already). The loop keeps
  /// the task alive until it finishes. Throws RuntimeError if the coroutine is being awaited.
  template <class T>
  ScheduledTask<T> create_task(Task<T> coro, TaskOptions options = {}) {
    adopt(coro.promise(), std::move(options.name));
    return ScheduledTask<T>(std::move(coro));
  }

  /// Runs the loop until `task` finishes; returns its result or rethrows its exception.
  template <class T>
  T run_until_complete(Task<T> task) {
    Task<T> t = create_task(std::move(task));
    run_until_done(t.promise());
    return t.promise()->template get_result<true>();
  }
  /// Runs until stop() is called.
  void run_forever();
  /// Stops run_forever() after the current iteration.
  void stop() noexcept { stopping_ = true; }
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  /// Closes the loop: drops pending callbacks and timers, destroys the frames of tasks still
  /// alive (run() cancels them first), closes epoll and the eventfd. Must not be running.
  void close();

  bool get_debug() const noexcept { return debug_; }
  /// Debug mode: reports every step or callback longer than slow_callback_duration.
  void set_debug(bool enabled) noexcept { debug_ = enabled; }
  std::chrono::duration<double> slow_callback_duration{0.1};

  /// Python's set_exception_handler: receives unretrieved task exceptions and callback errors.
  /// Empty = default handler (prints to stderr).
  void set_exception_handler(std::function<void(EventLoop&, const ExceptionContext&)> handler) {
    handler_ = std::move(handler);
  }
  void call_exception_handler(const ExceptionContext& context) noexcept;

  /// Python's run_in_executor (defined in <concur/asyncio/threads.hpp>): runs fn(args...) on
  /// `executor` (nullptr: the loop's default ThreadPoolExecutor) and returns its
  /// futures::Future, which is awaitable.
  template <class Executor, class F, class... Args>
  auto run_in_executor(Executor* executor, F fn, Args... args);
  template <class F, class... Args>
  auto run_in_executor(std::nullptr_t, F fn, Args... args);

  // ---- for awaitables and I/O code (not Python API) -------------------------------------
  /// Cancels every live task (run()'s shutdown) and runs until they have all finished.
  void cancel_all_tasks();
  /// Number of tasks scheduled and not finished.
  std::size_t live_tasks() const noexcept { return live_tasks_; }
  void add_timer(detail::TimerNode* t);
  void remove_timer(detail::TimerNode* t) noexcept;
  void schedule(detail::TaskBase* t) noexcept {
    if (ring_tail_ - ring_head_ == ring_mask_ + 1) grow_ring();
    ring_[ring_tail_++ & ring_mask_] = reinterpret_cast<std::uintptr_t>(t);
  }
  detail::TaskBase* current_task() const noexcept { return current_; }
  int epoll_fd() const noexcept { return epfd_; }
  /// The loop's cross-thread endpoint (see detail::post_threadsafe).
  const std::shared_ptr<detail::Remote>& remote() const noexcept { return remote_; }
  /// The default executor's (type-erased) owner, created on first use.
  std::shared_ptr<void>& default_executor_slot() noexcept { return default_executor_; }

 private:
  friend class FdWatch;
  friend class detail::TaskBase;
  void push_callback(detail::CallbackNode* n) {
    if (ring_tail_ - ring_head_ == ring_mask_ + 1) grow_ring();
    ring_[ring_tail_++ & ring_mask_] = reinterpret_cast<std::uintptr_t>(n) | 1u;
  }
  friend class detail::TimerCallbackBase;
  void post_threadsafe(detail::CallbackNode* n);
  void adopt(detail::TaskBase* t, std::optional<std::string> name);
  void run_until_done(detail::TaskBase* t);
  void run_once();
  void step(detail::TaskBase* t);
  void grow_ring();
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  bool timer_less(const detail::TimerNode* a, const detail::TimerNode* b) const noexcept {
    return a->when_ < b->when_ ||
           (a->when_ == b->when_ && static_cast<std::int32_t>(a->seq_ - b->seq_) < 0);
  }
  void drain_remote();
  void report_slow(const char* what, double seconds);

  int epfd_ = -1;
  int efd_ = -1;
  std::uintptr_t* ring_ = nullptr;
  std::size_t ring_mask_ = 0;
  std::size_t ring_head_ = 0;
  std::size_t ring_tail_ = 0;
  std::vector<detail::TimerNode*> timers_;
  std::uint32_t timer_seq_ = 0;
  std::shared_ptr<detail::Remote> remote_;
  detail::TaskBase* current_ = nullptr;
  detail::TaskBase* tasks_head_ = nullptr;
  std::size_t live_tasks_ = 0;
  std::uint32_t next_task_id_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  bool closed_ = false;
  bool debug_ = false;
  std::function<void(EventLoop&, const ExceptionContext&)> handler_;
  std::shared_ptr<void> default_executor_;
};

/// The loop running on this thread. Throws RuntimeError("no running event loop") outside one.
EventLoop& get_running_loop();

/// Python's asyncio.create_task(coro, name=...), on the running loop.
template <class T>
ScheduledTask<T> create_task(Task<T> coro, TaskOptions options = {}) {
  return get_running_loop().create_task(std::move(coro), std::move(options));
}

/// run()'s keywords.
struct RunOptions {
  std::optional<bool> debug{};  ///< None: keep the loop's default (off)
};

namespace detail {
/// run()'s shutdown: cancels the remaining tasks, waits for them, shuts the default executor.
void shutdown_run(EventLoop& loop) noexcept;
void check_no_running_loop();
}  // namespace detail

/// Python's asyncio.run(main): a new loop on this thread runs main to completion, then cancels
/// what is left, shuts down the default executor and closes the loop. Returns main's result or
/// rethrows its exception. Throws RuntimeError if a loop is already running on this thread.
template <class T>
T run(Task<T> main, RunOptions options = {}) {
  detail::check_no_running_loop();
  EventLoop loop;
  if (options.debug) loop.set_debug(*options.debug);
  struct Shutdown {
    EventLoop& loop;
    ~Shutdown() { detail::shutdown_run(loop); }
  } shutdown{loop};
  return loop.run_until_complete(std::move(main));
}

/// Awaiter of sleep(): a timer in the loop's heap (no allocation), or one yield for a delay <= 0.
class [[nodiscard]] SleepAwaiter final : public detail::Suspension, public detail::TimerNode {
 public:
  explicit SleepAwaiter(EventLoop::clock::duration delay) noexcept {
    when_ = EventLoop::time_point(delay);  // the delay, until await_suspend makes it a deadline
  }
  SleepAwaiter(SleepAwaiter&& o) noexcept { when_ = o.when_; }
  ~SleepAwaiter() {
    if (scheduled()) detail::running_loop()->remove_timer(this);
  }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!begin(h)) return false;
    const auto delay = when_.time_since_epoch();
    if (delay <= EventLoop::clock::duration::zero()) {
      wake();  // sleep(0): yield once
    } else {
      when_ = EventLoop::clock::now() + delay;
      detail::running_loop()->add_timer(this);
    }
    return true;
  }
  void await_resume() { finish(); }
  bool on_cancel() noexcept override {
    if (!scheduled()) return false;  // a yield: deliver at the step
    detail::running_loop()->remove_timer(this);
    wake_cancelled();
    return true;
  }
  void fire() noexcept override { wake(); }
};

/// Python's asyncio.sleep(delay): suspends the current task for `delay` (<= 0: yields once).
/// Throws CancelledError if the task is cancelled meanwhile.
template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) noexcept {
  return SleepAwaiter(std::chrono::ceil<EventLoop::clock::duration>(delay));
}
/// sleep(seconds) as in Python: sleep(0), sleep(0.5). (The int overload also makes `sleep(0)`
/// pick this one over POSIX ::sleep under `using namespace concur::asyncio`.)
inline SleepAwaiter sleep(double seconds) noexcept {
  return SleepAwaiter(std::chrono::ceil<EventLoop::clock::duration>(
      std::chrono::duration<double>(seconds)));
}
inline SleepAwaiter sleep(int seconds) noexcept { return SleepAwaiter(std::chrono::seconds(seconds)); }

/// Readiness of one non-blocking fd on a loop: see the file comment.
class FdWatch {
 public:
  /// Registers fd with the loop's epoll (edge-triggered, both directions). Throws system_error.
  FdWatch(EventLoop& loop, int fd);
  /// On the running loop.
  explicit FdWatch(int fd) : FdWatch(get_running_loop(), fd) {}
  /// Unregisters the fd (a task still waiting is woken with CancelledError).
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  int fd() const noexcept { return fd_; }
  EventLoop& loop() const noexcept { return *loop_; }
  /// True once epoll reported the peer's close (RDHUP/HUP/ERR); stays set. Lets readers wait
  /// for the next edge after a short read without missing a FIN folded into the same edge.
  bool read_closed() const noexcept { return read_closed_; }

  /// co_await watch.readable() / writable(): see the file comment.
  class Awaiter final : public detail::Suspension {
   public:
    Awaiter(FdWatch* w, bool write) noexcept : w_(w), write_(write) {}
    ~Awaiter() {
      if (slot() == this) slot() = nullptr;
    }
    bool await_ready() noexcept {
      bool& f = write_ ? w_->write_ready_ : w_->read_ready_;
      if (!f) return false;
      f = false;
      return true;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (!begin(h)) return false;
      slot() = this;
      return true;
    }
    void await_resume() { finish(); }
    bool on_cancel() noexcept override {
      slot() = nullptr;
      wake_cancelled();
      return true;
    }

   private:
    friend class FdWatch;
    Awaiter*& slot() noexcept { return write_ ? w_->writer_ : w_->reader_; }
    FdWatch* w_;
    bool write_;
  };
  [[nodiscard]] Awaiter readable() noexcept { return Awaiter(this, false); }
  [[nodiscard]] Awaiter writable() noexcept { return Awaiter(this, true); }

  /// Called by the loop with the epoll events of this fd.
  void on_events(std::uint32_t events) noexcept;

 private:
  EventLoop* loop_;
  int fd_;
  bool read_ready_ = false;
  bool write_ready_ = false;
  bool read_closed_ = false;
  Awaiter* reader_ = nullptr;
  Awaiter* writer_ = nullptr;
};

}  // namespace concur::asyncio
