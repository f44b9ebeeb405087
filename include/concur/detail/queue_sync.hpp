// concur/detail/queue_sync.hpp — the waiting machinery under concur::queue (not public API).
//
// QueueCondition is a condition variable built on one futex word, kept beside the queue's
// std::mutex. Unlike std::condition_variable it
//   * counts its sleepers, so a notify when nobody sleeps is a plain branch (no system call);
//   * counts wake-ups already in flight, so a second notify does not wake a second thread for
//     a sleeper that is already waking (no thundering herd, no redundant futex_wake);
//   * lets the caller issue the futex wake after unlocking the mutex, so the woken thread does
//     not immediately block on the mutex the notifier still holds;
//   * can be interrupted without the mutex (interrupt()), which is what a std::stop_callback
//     needs to cancel a blocked put()/get().
// QueueEvent is the lock-free counterpart for the bounded ring (queue_ring.hpp): an event count
// whose waiters register with an atomic read-modify-write instead of under a mutex.
// Memory ordering (QueueCondition): every queue field is guarded by the mutex; the futex word
// only carries "something changed", so spurious wake-ups are possible and every wait re-checks
// its predicate under the mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>

namespace concur::detail {

/// Sleeps on `word` while it equals `expected`, until a wake or the steady_clock deadline (none =
/// forever). Returns false when the deadline passed. Spurious returns are possible.
bool queue_futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      const std::optional<std::chrono::steady_clock::time_point>& deadline) noexcept;
/// Wakes up to n sleepers of `word`.
void queue_futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept;

/// The queue's mutex: a futex lock (Drepper's three-state mutex) that spins briefly before
/// sleeping. Queue critical sections last tens of nanoseconds, so a contended lock is usually
/// free again within a few spins; glibc's default mutex instead sleeps in the kernel at once,
/// which on a busy queue costs a system call per operation. Satisfies Lockable (works with
/// std::unique_lock / std::scoped_lock). Acquire on lock, release on unlock.
class QueueLock {
 public:
  void lock() noexcept {
    std::uint32_t expected = 0;
    if (!state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
      lock_contended();
  }
  bool try_lock() noexcept {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) queue_futex_wake(state_, 1);
  }

 private:
  void lock_contended() noexcept;  // src/queue/queue_sync.cpp
  std::atomic<std::uint32_t> state_{0};  // 0 free, 1 locked, 2 locked and someone may sleep
};

/// A futex-based condition variable paired with an external QueueLock (see file comment).
/// wait(), arm_one(), arm_all() and sleepers() require the mutex; wake_*() and interrupt() do not.
class QueueCondition {
 public:
  using Clock = std::chrono::steady_clock;

  /// Sleeps until notified, interrupted, or past `deadline`; `lock` is released while sleeping and
  /// held again on return. Returns false if the deadline passed. May return spuriously.
  bool wait(std::unique_lock<QueueLock>& lock, const std::optional<Clock::time_point>& deadline) noexcept {
    ++sleepers_;
    const std::uint32_t seen = word_.load(std::memory_order_relaxed);
    lock.unlock();
    const bool in_time = queue_futex_wait(word_, seen, deadline);
    lock.lock();
    --sleepers_;
    if (pending_ > 0) --pending_;
    return in_time;
  }

  /// notify_one, first half (mutex held): returns true when a wake must follow (wake_one()).
  bool arm_one() noexcept {
    if (pending_ >= sleepers_) return false;  // nobody sleeps, or every sleeper is already waking
    ++pending_;
    word_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  /// notify_all, first half (mutex held): returns true when a wake must follow (wake_all()).
  bool arm_all() noexcept {
    if (pending_ >= sleepers_) return false;
    pending_ = sleepers_;
    word_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  /// Second half of a notify; may run after the mutex is released.
  void wake_one() noexcept { queue_futex_wake(word_, 1); }
  void wake_all() noexcept { queue_futex_wake(word_, INT_MAX); }
  /// Wakes every sleeper without the mutex (each re-checks its predicate and its stop token).
  void interrupt() noexcept {
    word_.fetch_add(1, std::memory_order_relaxed);
    queue_futex_wake(word_, INT_MAX);
  }
  /// Threads currently inside wait() (mutex held).
  std::uint32_t sleepers() const noexcept { return sleepers_; }

 private:
  std::atomic<std::uint32_t> word_{0};
  std::uint32_t sleepers_ = 0;  // guarded by the queue mutex
  std::uint32_t pending_ = 0;   // wakes issued whose sleeper has not yet returned (mutex)
};

/// One CPU "relax" hint for spin loops (pause on x86, yield on ARM).
inline void queue_cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Gives the CPU away (sched_yield); used only while another thread is known to be in the
/// middle of a few-instruction step (it was preempted there).
void queue_yield() noexcept;

/// How long a thread that is about to sleep first polls for the state it waits for. A hand-off
/// between two running threads takes well under a microsecond, while a futex sleep + wake costs
/// tens of microseconds on a VM whose idle vCPU halts; the budget is short so that a spinner
/// steals little from a peer that shares its core on a loaded machine.
inline constexpr std::chrono::nanoseconds kQueueSpinBudget{4000};

/// Polls `ready()` for up to kQueueSpinBudget, without holding any lock and without being
/// registered as a sleeper (so notifiers make no system call for a spinner). Returns ready()'s
/// last value.
template <class Ready>
bool queue_spin_until(Ready&& ready) noexcept(noexcept(ready())) {
  if (ready()) return true;
  const auto end = std::chrono::steady_clock::now() + kQueueSpinBudget;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      queue_cpu_relax();
      if (ready()) return true;
    }
    if (std::chrono::steady_clock::now() >= end) return ready();
  }
}

/// An event count: lets a thread sleep until "something changed" without a mutex. Protocol:
///   waiter:   e = prepare_wait(); if (!predicate()) wait(e, deadline); finish_wait();
///   notifier: make the predicate true with a seq_cst atomic operation, then notify_*().
/// prepare_wait() is a seq_cst read-modify-write and notify_*() begins with a seq_cst load, so
/// either the waiter's re-check sees the notifier's change or the notifier sees the waiter and
/// wakes it (no lost wake-up). Like QueueCondition it counts wakes in flight: a notify when
/// nobody is registered, or when every registered waiter is already being woken, is one load
/// and no system call (woken threads on a busy 2-core box may wait a while for a CPU, and
/// without this count every operation in that window would issue a futex_wake). Spurious
/// wake-ups are possible; waiters re-check their predicate in a loop.
class QueueEvent {
 public:
  [[nodiscard]] std::uint32_t prepare_wait() noexcept {
    state_.fetch_add(kOneWaiter, std::memory_order_seq_cst);
    return word_.load(std::memory_order_seq_cst);
  }
  /// Sleeps unless notified since prepare_wait() returned `epoch`; false when past `deadline`.
  bool wait(std::uint32_t epoch, const std::optional<std::chrono::steady_clock::time_point>& deadline) noexcept {
    return queue_futex_wait(word_, epoch, deadline);
  }
  /// Unregisters (after wait() or instead of it), absorbing one wake in flight if there is one.
  void finish_wait() noexcept {
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    while (!state_.compare_exchange_weak(s, s - kOneWaiter - ((s & kPendingMask) != 0 ? 1 : 0),
                                         std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
  }
  /// Wakes one registered waiter not already being woken, if any.
  void notify_one() noexcept {
    std::uint64_t s = state_.load(std::memory_order_seq_cst);
    for (;;) {
      if ((s >> 32) <= (s & kPendingMask)) return;  // nobody waits, or all are being woken
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_seq_cst, std::memory_order_seq_cst)) break;
    }
    word_.fetch_add(1, std::memory_order_seq_cst);
    queue_futex_wake(word_, 1);
  }
  /// Wakes every registered waiter, if any is not already being woken.
  void notify_all() noexcept {
    std::uint64_t s = state_.load(std::memory_order_seq_cst);
    for (;;) {
      if ((s >> 32) <= (s & kPendingMask)) return;
      if (state_.compare_exchange_weak(s, (s & ~kPendingMask) | (s >> 32), std::memory_order_seq_cst,
                                       std::memory_order_seq_cst))
        break;
    }
    word_.fetch_add(1, std::memory_order_seq_cst);
    queue_futex_wake(word_, INT_MAX);
  }
  /// Wakes every waiter unconditionally (for a stop request, whose flag is not one of ours).
  void interrupt() noexcept {
    word_.fetch_add(1, std::memory_order_seq_cst);
    queue_futex_wake(word_, INT_MAX);
  }

 private:
  static constexpr std::uint64_t kOneWaiter = std::uint64_t{1} << 32;
  static constexpr std::uint64_t kPendingMask = kOneWaiter - 1;
  std::atomic<std::uint32_t> word_{0};
  std::atomic<std::uint64_t> state_{0};  // registered waiters << 32 | wakes in flight
};

/// std::stop_callback body: wakes every waiter of an event (each re-checks its stop token).
struct QueueEventInterrupt {
  QueueEvent* event;
  void operator()() const noexcept { event->interrupt(); }
};

/// std::stop_callback body: interrupts one condition.
struct QueueInterrupt {
  QueueCondition* cond;
  void operator()() const noexcept { cond->interrupt(); }
};

}  // namespace concur::detail
