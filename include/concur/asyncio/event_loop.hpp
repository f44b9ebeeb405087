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
// One loop per thread; run() runs it on the caller's thread. Ready work is a chunked FIFO stepped
// in order; timers are a binary heap; cross-thread posts take a mutex and write the loop's
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
#include "concur/detail/small_alloc.hpp"
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

/// The loop's ready queue: a FIFO of tagged words (a TaskBase* to step, or a CallbackNode* | 1
/// to run), stored in a chain of 1 KiB chunks from the small-block allocator. Loop thread only,
/// no atomics. Unlike a ring it never copies on growth and needs no large allocation (a burst of
/// a million ready tasks costs 8 bytes each, on huge-page slabs), and unlike an intrusive list it
/// adds nothing to a task's frame and lets the loop prefetch the frames it is about to step.
class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const ReadyQueue&) = delete;
  ReadyQueue& operator=(const ReadyQueue&) = delete;
  ~ReadyQueue();

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  /// Appends e. Throws std::bad_alloc only when a new chunk is needed and memory is exhausted.
  void push(std::uintptr_t e) {
    if (tail_pos_ == kChunkItems) add_chunk();
    tail_->items[tail_pos_++] = e;
    ++size_;
  }
  /// Removes the oldest entry. Precondition: !empty().
  std::uintptr_t pop() noexcept {
    if (head_pos_ == kChunkItems) next_chunk();
    --size_;
    return head_->items[head_pos_++];
  }
  /// The entry `ahead` places behind the oldest if it is queued and in the same chunk, else 0
  /// (for prefetching).
  std::uintptr_t peek_ahead(std::size_t ahead) const noexcept {
    const std::size_t i = head_pos_ + ahead;
    return i < kChunkItems && ahead < size_ ? head_->items[i] : 0;
  }

 private:
  static constexpr std::size_t kChunkBytes = 1024;
  static constexpr std::size_t kChunkItems = (kChunkBytes - sizeof(void*)) / sizeof(std::uintptr_t);
  struct Chunk {
    Chunk* next;
    std::uintptr_t items[kChunkItems];
  };
  static_assert(sizeof(Chunk) == kChunkBytes);
  void add_chunk();
  void next_chunk() noexcept;

  Chunk* head_ = nullptr;  // oldest chunk (null until the first push)
  Chunk* tail_ = nullptr;  // newest chunk
  Chunk* spare_ = nullptr;  // one emptied chunk kept to avoid churn at a chunk boundary
  std::size_t size_ = 0;
  std::uint32_t head_pos_ = kChunkItems;
  std::uint32_t tail_pos_ = kChunkItems;
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
  /// create_task() without a name or a handle, for combinators (gather, wait): schedules a lazy
  /// coroutine as a task; a task already scheduled is left as it is. Throws ValueError for an
  /// empty handle, RuntimeError if the coroutine is being awaited or the loop is closed.
  void ensure_task(detail::TaskBase* t) {
    if (t != nullptr && t->state_ == detail::TaskBase::State::lazy && !closed_) [[likely]] {
      ready_.push(reinterpret_cast<std::uintptr_t>(t));  // first: may throw std::bad_alloc
      t->is_root_ = true;
      t->state_ = detail::TaskBase::State::pending;
      t->id_ = ++next_task_id_;
      t->next_ = t->self();
      t->add_ref();  // the loop's reference, dropped when the task finishes
      t->next_task_ = tasks_head_;
      if (tasks_head_) tasks_head_->prev_task_ = t;
      tasks_head_ = t;
      ++live_tasks_;
    } else {
      adopt(t, std::nullopt);
    }
  }
  void add_timer(detail::TimerNode* t);
  void remove_timer(detail::TimerNode* t) noexcept;
  /// Queues a root task's next step. Aborts if memory for the queue is exhausted (a task that
  /// could not be queued would be lost).
  void schedule(detail::TaskBase* t) noexcept { ready_.push(reinterpret_cast<std::uintptr_t>(t)); }
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
    ready_.push(reinterpret_cast<std::uintptr_t>(n) | 1u);
  }
  friend class detail::TimerCallbackBase;
  void post_threadsafe(detail::CallbackNode* n);
  void adopt(detail::TaskBase* t, std::optional<std::string> name);
  void run_until_done(detail::TaskBase* t);
  void run_once();
  void step(detail::TaskBase* t);
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
  detail::ReadyQueue ready_;
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

class SleepAwaiter;
namespace detail {
/// The timer of a running sleep(delay > 0), from the small-block allocator; a yield (delay <= 0)
/// needs none, so the awaiter in every coroutine frame that sleeps stays at three words.
class SleepTimer final : public TimerNode, public concur::detail::SmallAllocated {
 public:
  explicit SleepTimer(SleepAwaiter* owner) noexcept : owner_(owner) {}
  void fire() noexcept override;

 private:
  SleepAwaiter* owner_;
};
}  // namespace detail

/// Awaiter of sleep(): one yield to the loop for a delay <= 0, else a timer in the loop's heap.
class [[nodiscard]] SleepAwaiter final : public detail::Suspension {
 public:
  explicit SleepAwaiter(EventLoop::clock::duration delay) noexcept
      : word_(delay > EventLoop::clock::duration::zero() ? static_cast<std::uintptr_t>(delay.count())
                                                         : 0) {}
  /// Only before it is awaited (sleep() returns it by value).
  SleepAwaiter(SleepAwaiter&& o) noexcept : word_(o.task_ == nullptr ? o.word_ : 0) {}
  ~SleepAwaiter() {
    if (task_ != nullptr) drop_timer();
  }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    const auto delay = EventLoop::clock::duration(static_cast<EventLoop::clock::rep>(word_));
    word_ = 0;  // from here on: the timer, if any
    if (delay == EventLoop::clock::duration::zero()) {
      if (!begin(h)) return false;
      wake();  // sleep(0): yield once
      return true;
    }
    auto timer = std::make_unique<detail::SleepTimer>(this);
    if (!begin(h)) return false;
    timer->when_ = EventLoop::clock::now() + delay;
    detail::running_loop()->add_timer(timer.get());
    word_ = reinterpret_cast<std::uintptr_t>(timer.release());
    return true;
  }
  void await_resume() {
    drop_timer();
    finish();
  }
  bool on_cancel() noexcept override {
    auto* timer = reinterpret_cast<detail::SleepTimer*>(word_);
    if (timer == nullptr || !timer->scheduled()) return false;  // a yield: deliver at the step
    detail::running_loop()->remove_timer(timer);
    wake_cancelled();
    return true;
  }

 private:
  friend class detail::SleepTimer;
  void on_timer() noexcept { wake(); }
  void drop_timer() noexcept {
    if (auto* timer = reinterpret_cast<detail::SleepTimer*>(std::exchange(word_, 0))) {
      if (timer->scheduled()) detail::running_loop()->remove_timer(timer);
      delete timer;
    }
  }
  // Before await_suspend: the delay in clock ticks (0 for a yield). After: the SleepTimer or 0.
  std::uintptr_t word_;
};
inline void detail::SleepTimer::fire() noexcept { owner_->on_timer(); }

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
