// concur/asyncio/locks.hpp — asyncio's synchronization primitives: Lock, Event, Condition,
// Semaphore, BoundedSemaphore. For tasks of ONE loop (not thread-safe: use concur's thread
// primitives across threads, as in Python).
//
//   Python                                   concur
//   async with lock: ...                     { auto held = co_await lock.scoped(); ... }
//   await lock.acquire(); lock.release()     co_await lock.acquire(); lock.release();
//   await event.wait(); event.set()          co_await event.wait(); event.set();
//   async with cond: await cond.wait_for(p)  { auto held = co_await cond.scoped(); co_await cond.wait_for(p); }
//   async with sem: ...                      { auto held = co_await sem.scoped(); ... }
//
// Waiters are served first-in first-out; a release hands the lock (or the semaphore unit)
// directly to the first waiter, so no newcomer can barge in, and a waiter cancelled after being
// handed the lock passes it on (no lost wake-up). Every wait throws CancelledError if its task is
// cancelled.
#pragma once

#include <cstddef>
#include <utility>

#include "concur/asyncio/task.hpp"
#include "concur/detail/asyncio_waiters.hpp"
#include "concur/error.hpp"

namespace concur::asyncio {

/// RAII ownership of an acquired Lock/Semaphore/Condition (the `async with` block): releases on
/// destruction. Movable.
template <class L>
class [[nodiscard]] Held {
 public:
  explicit Held(L& l) noexcept : l_(&l) {}
  Held(Held&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  Held& operator=(Held&&) = delete;
  ~Held() {
    if (l_) l_->release();
  }
  /// Releases early.
  void release() {
    if (L* l = std::exchange(l_, nullptr)) l->release();
  }

 private:
  L* l_;
};

namespace detail {
/// Acquire of a handoff primitive P (P::try_take() / P::release()): returns true, or Held<P>.
template <class P, bool Scoped>
class [[nodiscard]] HandoffAcquire final : public Waiter {
 public:
  explicit HandoffAcquire(P& p) noexcept : Waiter(p.waiters_), p_(&p) {}
  bool await_ready() noexcept { return p_->waiters_.empty() && p_->try_take(); }
  auto await_resume() {
    if (woken()) {  // handed to us: give it back if the task was cancelled meanwhile
      try {
        finish();
      } catch (...) {
        p_->release();
        throw;
      }
    } else {
      finish();
    }
    if constexpr (Scoped) {
      return Held<P>(*p_);
    } else {
      return true;
    }
  }

 private:
  P* p_;
};
}  // namespace detail

/// Python's asyncio.Lock: a mutex for tasks (not reentrant).
class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  /// co_await acquire(): waits for the lock; returns true. Throws CancelledError.
  detail::HandoffAcquire<Lock, false> acquire() noexcept { return detail::HandoffAcquire<Lock, false>(*this); }
  /// co_await scoped(): acquires and returns a Held<Lock> that releases it (`async with lock`).
  detail::HandoffAcquire<Lock, true> scoped() noexcept { return detail::HandoffAcquire<Lock, true>(*this); }
  /// Releases; hands the lock to the first waiter. Throws RuntimeError if not locked.
  void release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    if (!waiters_.wake_one()) locked_ = false;
  }
  bool locked() const noexcept { return locked_; }

 private:
  template <class, bool>
  friend class detail::HandoffAcquire;
  bool try_take() noexcept {
    if (locked_) return false;
    locked_ = true;
    return true;
  }
  detail::WaitQueue waiters_;
  bool locked_ = false;
};

/// Python's asyncio.Event.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  class [[nodiscard]] WaitAwaiter final : public detail::Waiter {
   public:
    explicit WaitAwaiter(Event& e) noexcept : Waiter(e.waiters_), e_(&e) {}
    bool await_ready() const noexcept { return e_->set_; }
    bool await_resume() {
      finish();
      return true;
    }

   private:
    Event* e_;
  };
  /// co_await wait(): until set (at once if set); returns true. Throws CancelledError.
  WaitAwaiter wait() noexcept { return WaitAwaiter(*this); }
  /// Sets the flag and wakes every waiter.
  void set() noexcept {
    if (set_) return;
    set_ = true;
    waiters_.wake_all();
  }
  void clear() noexcept { set_ = false; }
  bool is_set() const noexcept { return set_; }

 private:
  detail::WaitQueue waiters_;
  bool set_ = false;
};

/// Python's asyncio.Condition, over its own Lock or a shared one.
class Condition {
 public:
  /// Python's Condition(lock=None).
  explicit Condition(Lock* lock = nullptr) : lock_(lock ? lock : &own_) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  auto acquire() noexcept { return lock_->acquire(); }
  /// co_await scoped(): `async with cond` — Held<Lock>.
  auto scoped() noexcept { return lock_->scoped(); }
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }

  /// Releases the lock, waits for a notify, re-acquires the lock (even when cancelled, as
  /// Python does, then raises CancelledError). Throws RuntimeError if the lock is not held.
  Task<bool> wait();
  /// Waits until pred() is true; returns its last value.
  template <class Pred>
  Task<bool> wait_for(Pred pred) {
    bool r = pred();
    while (!r) {
      co_await wait();
      r = pred();
    }
    co_return r;
  }
  /// Wakes up to n waiters. Throws RuntimeError if the lock is not held.
  void notify(std::size_t n = 1) {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    for (std::size_t i = 0; i < n && waiters_.wake_one(); ++i) {
    }
  }
  void notify_all() {
    if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
    waiters_.wake_all();
  }

 private:
  Lock own_;
  Lock* lock_;
  detail::WaitQueue waiters_;
};

/// Python's asyncio.Semaphore(value=1).
class Semaphore {
 public:
  explicit Semaphore(std::size_t value = 1) noexcept : value_(value) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  /// co_await acquire(): takes a unit, waiting if none; returns true. Throws CancelledError.
  detail::HandoffAcquire<Semaphore, false> acquire() noexcept {
    return detail::HandoffAcquire<Semaphore, false>(*this);
  }
  /// co_await scoped(): `async with sem` — Held<Semaphore>.
  detail::HandoffAcquire<Semaphore, true> scoped() noexcept {
    return detail::HandoffAcquire<Semaphore, true>(*this);
  }
  /// Returns a unit (to the first waiter if any).
  void release() {
    if (!waiters_.wake_one()) ++value_;
  }
  /// True if acquire() would wait.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }
  std::size_t value() const noexcept { return value_; }

 protected:
  template <class, bool>
  friend class detail::HandoffAcquire;
  bool try_take() noexcept {
    if (value_ == 0) return false;
    --value_;
    return true;
  }
  detail::WaitQueue waiters_;
  std::size_t value_;
};

/// Python's asyncio.BoundedSemaphore: release() beyond the initial value raises ValueError.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::size_t value = 1) noexcept : Semaphore(value), bound_(value) {}
  detail::HandoffAcquire<BoundedSemaphore, false> acquire() noexcept {
    return detail::HandoffAcquire<BoundedSemaphore, false>(*this);
  }
  detail::HandoffAcquire<BoundedSemaphore, true> scoped() noexcept {
    return detail::HandoffAcquire<BoundedSemaphore, true>(*this);
  }
  /// Throws ValueError("BoundedSemaphore released too many times").
  void release() {
    if (waiters_.empty() && value_ >= bound_) throw ValueError("BoundedSemaphore released too many times");
    Semaphore::release();
  }

 private:
  template <class, bool>
  friend class detail::HandoffAcquire;
  std::size_t bound_;
};

}  // namespace concur::asyncio
