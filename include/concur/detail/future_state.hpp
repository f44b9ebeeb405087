// concur/detail/future_state.hpp — the shared state behind Future<T>, Promise<T> and pool tasks.
//
// One atomic 32-bit word holds the status plus three flags:
//   LISTENERS — someone registered a callback or a multi-future waiter (lock the list on completion)
//   SLEEPERS  — some thread sleeps in futex_wait on the word (issue a futex wake on completion)
//   LOCKED    — a spin lock bit guarding the listener list (held for a few instructions only)
// Completing a future nobody waits on is therefore one atomic exchange: no lock, no system call.
// Memory ordering: the completer writes the value/exception, then publishes FINISHED with release;
// every reader observes a terminal status with acquire before reading the value.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "concur/error.hpp"

namespace concur::detail {

using Clock = std::chrono::steady_clock;

/// Sleeps while *word == expected, until woken or the deadline passes (nullopt: no deadline).
/// Returns false on timeout. Spurious returns are allowed; callers loop.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::optional<Clock::time_point> deadline) noexcept;
/// Wakes up to n threads sleeping on the word.
void futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept;

/// Reports an exception escaping a done-callback on stderr (type and what()), as Python's
/// logger does; the thread that completed the future never sees it.
void report_callback_exception(std::exception_ptr e) noexcept;

/// Converts a relative timeout into a steady_clock deadline; negative timeouts poll.
template <class Rep, class Period>
Clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) noexcept {
  if (timeout <= timeout.zero()) return Clock::now();
  const auto max_left = Clock::time_point::max() - Clock::now();
  if (timeout >= max_left) return Clock::time_point::max();
  return Clock::now() + std::chrono::ceil<Clock::duration>(timeout);
}

enum class Status : std::uint32_t {
  pending = 0,     // created, not started (only this state can be cancelled)
  running = 1,     // set_running_or_notify_cancel() succeeded
  completing = 2,  // a result is being stored (claimed by exactly one completer)
  finished = 3,    // result or exception available
  cancelled = 4,   // cancelled while pending
};

class FutureStateBase;

/// Something notified when a future completes. Internal listeners (multi-future waiters) are
/// notified under the state's mutex so that remove_listener() guarantees no later call; user
/// callbacks are run after the mutex is released so they may touch the future again.
class Listener {
 public:
  virtual void on_done(FutureStateBase& state) noexcept = 0;
  /// True: notified under the lock and never deleted by the state. False: heap-allocated user
  /// callback, run outside the lock and deleted afterwards.
  bool internal = true;
  Listener* prev = nullptr;
  Listener* next = nullptr;
  bool linked = false;

 protected:
  ~Listener() = default;
};

/// Lets a pool worker run queued work while it waits on a future (installed per worker thread).
class WaitHelper {
 public:
  /// Runs one queued task if there is one; returns false when there was nothing to run.
  virtual bool help_one() = 0;

 protected:
  ~WaitHelper() = default;
};
/// The helper of the calling thread, or nullptr outside pool workers.
WaitHelper*& current_wait_helper() noexcept;

class FutureStateBase {
 public:
  static constexpr std::uint32_t kStatusMask = 7;
  static constexpr std::uint32_t kListeners = 8;
  static constexpr std::uint32_t kSleepers = 16;
  static constexpr std::uint32_t kLocked = 32;

  FutureStateBase() noexcept = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  Status status(std::memory_order order = std::memory_order_acquire) const noexcept {
    return static_cast<Status>(word_.load(order) & kStatusMask);
  }
  bool done() const noexcept {
    const Status s = status();
    return s == Status::finished || s == Status::cancelled;
  }
  bool running() const noexcept {
    const Status s = status();
    return s == Status::running || s == Status::completing;
  }
  bool cancelled() const noexcept { return status() == Status::cancelled; }

  /// Python's Future.cancel(): succeeds only while pending (or if already cancelled).
  /// On a running task it asks the task to stop (see request_stop) and returns false.
  bool cancel() noexcept;

  /// Python's Future.set_running_or_notify_cancel(): pending→running (true); cancelled→false.
  /// Throws InvalidStateError if the future already runs or is done.
  bool set_running_or_notify_cancel();

  /// Executors' non-throwing start: pending→running (true); false when cancelled (or started).
  bool try_start() noexcept;

  /// Blocks until done. On a pool worker it runs queued pool work meanwhile.
  void wait() const noexcept { (void)wait_until(std::nullopt); }
  /// Blocks until done or the deadline; returns done().
  bool wait_until(std::optional<Clock::time_point> deadline) const noexcept;

  /// Registers a listener. Returns false, without registering, when the future is already done.
  bool add_listener(Listener* l);
  /// Unregisters a listener; after it returns the listener is never called. No-op if not linked.
  void remove_listener(Listener* l) noexcept;

  /// The stored exception (null when the future holds a value). Valid once finished.
  const std::exception_ptr& stored_exception() const noexcept { return exception_; }

  /// Stores an exception and completes. Throws InvalidStateError if already done/cancelled.
  void set_exception(std::exception_ptr e);
  /// Non-throwing set_exception: false when the future was already done or cancelled.
  bool try_set_exception(std::exception_ptr e) noexcept;

  /// Throws CancelledError / the stored exception if there is one (requires done()).
  void rethrow_if_failed() const {
    if (status() == Status::cancelled) throw CancelledError();
    if (exception_) std::rethrow_exception(exception_);
  }

 protected:
  virtual ~FutureStateBase() = default;
  virtual void destroy() noexcept { delete this; }
  /// Called by cancel() on a running future: stop-aware tasks forward it to their stop_source.
  virtual void request_stop() noexcept {}

  /// Claims the right to complete: pending/running → completing. False if done or cancelled.
  bool try_claim() noexcept;
  /// Publishes FINISHED after a successful try_claim() and notifies waiters and listeners.
  void publish_finished() noexcept { complete_as(Status::finished); }

 private:
  friend class FutureStateAccess;
  void complete_as(Status s) noexcept;
  void notify_listeners() noexcept;
  void lock_listeners() noexcept;
  void unlock_listeners() noexcept;

  // 32 bytes in all (with the vtable pointer): a pending future is cheap to keep around.
  std::atomic<std::uint32_t> refs_{1};
  mutable std::atomic<std::uint32_t> word_{0};
  std::exception_ptr exception_;
  Listener* head_ = nullptr;  // newest first; notified in registration order
};

/// Typed storage for a result of type T (no storage for void).
template <class T>
class FutureState : public FutureStateBase {
 public:
  FutureState() noexcept {}
  ~FutureState() override {
    // A value exists exactly when the future finished without an exception.
    if (status(std::memory_order_relaxed) == Status::finished && !stored_exception()) value_.~T();
  }

  /// Stores the value and completes. Throws InvalidStateError if already done/cancelled.
  template <class... A>
  void set_value(A&&... args) {
    if (!try_set_value(std::forward<A>(args)...))
      throw InvalidStateError("the future is already done or cancelled");
  }
  template <class... A>
  bool try_set_value(A&&... args) {
    if (!try_claim()) return false;
    try {
      ::new (static_cast<void*>(&value_)) T(std::forward<A>(args)...);
    } catch (...) {
      // The result type's constructor threw: that becomes the future's exception.
      set_claimed_exception(std::current_exception());
      return true;
    }
    publish_finished();
    return true;
  }
  /// The stored value (requires finished without exception).
  T& value() noexcept { return value_; }

 protected:
  void set_claimed_exception(std::exception_ptr e) noexcept;

 private:
  union {
    T value_;
  };
};

template <>
class FutureState<void> : public FutureStateBase {
 public:
  void set_value() {
    if (!try_set_value()) throw InvalidStateError("the future is already done or cancelled");
  }
  bool try_set_value() noexcept {
    if (!try_claim()) return false;
    publish_finished();
    return true;
  }
};

/// Intrusive reference to a state: the only owner type the public handles use.
template <class S>
class StateRef {
 public:
  StateRef() noexcept = default;
  /// Adopts one reference (does not add one).
  explicit StateRef(S* s) noexcept : s_(s) {}
  StateRef(const StateRef& o) noexcept : s_(o.s_) {
    if (s_) s_->add_ref();
  }
  StateRef(StateRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, S*>>>
  StateRef(const StateRef<U>& o) noexcept : s_(o.get()) {
    if (s_) s_->add_ref();
  }
  StateRef& operator=(StateRef o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~StateRef() {
    if (s_) s_->release();
  }
  S* get() const noexcept { return s_; }
  S* operator->() const noexcept { return s_; }
  S& operator*() const noexcept { return *s_; }
  explicit operator bool() const noexcept { return s_ != nullptr; }
  S* detach() noexcept { return std::exchange(s_, nullptr); }
  friend bool operator==(const StateRef& a, const StateRef& b) noexcept { return a.s_ == b.s_; }

 private:
  S* s_ = nullptr;
};

// Lets FutureState<T>::set_claimed_exception reach the base's private completion path.
class FutureStateAccess {
 public:
  static void finish_with_exception(FutureStateBase& s, std::exception_ptr e) noexcept;
};

template <class T>
void FutureState<T>::set_claimed_exception(std::exception_ptr e) noexcept {
  FutureStateAccess::finish_with_exception(*this, std::move(e));
}

}  // namespace concur::detail
