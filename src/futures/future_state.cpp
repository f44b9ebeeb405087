// The compiled core of the future state: status transitions, futex sleeping, listeners.
#include "concur/detail/future_state.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include <sched.h>

namespace concur::detail {

namespace {

constexpr std::uint32_t status_bits(Status s) { return static_cast<std::uint32_t>(s); }

bool is_done(std::uint32_t w) {
  const auto s = static_cast<Status>(w & FutureStateBase::kStatusMask);
  return s == Status::finished || s == Status::cancelled;
}

// Bounded number of nested help_one() calls on one thread: helping runs other tasks on this
// stack, so an unbounded nesting could overflow it. Past the bound the worker simply sleeps.
constexpr int kMaxHelpDepth = 128;
thread_local int tl_help_depth = 0;

}  // namespace

WaitHelper*& current_wait_helper() noexcept {
  thread_local WaitHelper* helper = nullptr;
  return helper;
}

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::optional<Clock::time_point> deadline) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  timespec ts{};
  timespec* tsp = nullptr;
  if (deadline) {
    const auto now = Clock::now();
    if (*deadline <= now) return false;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - now);
    ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
    tsp = &ts;
  }
  const long rc = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE,
                          expected, tsp, nullptr, 0);
  return !(rc == -1 && errno == ETIMEDOUT);
}

void futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr,
          nullptr, 0);
}

bool FutureStateBase::cancel() noexcept {
  std::uint32_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    const auto s = static_cast<Status>(w & kStatusMask);
    if (s == Status::cancelled) return true;
    if (s != Status::pending) {
      if (s == Status::running) request_stop();
      return false;
    }
    const std::uint32_t claimed = (w & ~kStatusMask) | status_bits(Status::completing);
    if (word_.compare_exchange_weak(w, claimed, std::memory_order_acq_rel)) break;
  }
  complete_as(Status::cancelled);
  return true;
}

bool FutureStateBase::set_running_or_notify_cancel() {
  std::uint32_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    const auto s = static_cast<Status>(w & kStatusMask);
    if (s == Status::cancelled) return false;
    if (s != Status::pending) throw InvalidStateError("the future is already running or done");
    const std::uint32_t next = (w & ~kStatusMask) | status_bits(Status::running);
    if (word_.compare_exchange_weak(w, next, std::memory_order_acq_rel)) return true;
  }
}

bool FutureStateBase::try_start() noexcept {
  std::uint32_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    if (static_cast<Status>(w & kStatusMask) != Status::pending) return false;
    const std::uint32_t next = (w & ~kStatusMask) | status_bits(Status::running);
    if (word_.compare_exchange_weak(w, next, std::memory_order_acquire, std::memory_order_relaxed))
      return true;
  }
}

bool FutureStateBase::try_claim() noexcept {
  std::uint32_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    const auto s = static_cast<Status>(w & kStatusMask);
    if (s != Status::pending && s != Status::running) return false;
    const std::uint32_t next = (w & ~kStatusMask) | status_bits(Status::completing);
    if (word_.compare_exchange_weak(w, next, std::memory_order_acquire,
                                    std::memory_order_relaxed))
      return true;
  }
}

void FutureStateBase::complete_as(Status s) noexcept {
  // Only the claimer reaches here; other threads may only flip the LISTENERS/SLEEPERS/LOCKED
  // bits. LOCKED is preserved: a listener may be being linked right now.
  std::uint32_t old = word_.load(std::memory_order_relaxed);
  while (!word_.compare_exchange_weak(old, status_bits(s) | (old & kLocked),
                                      std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
  if (old & kSleepers) futex_wake(word_, INT_MAX);
  if (old & kListeners) notify_listeners();
}

void FutureStateBase::lock_listeners() noexcept {
  std::uint32_t w = word_.load(std::memory_order_relaxed);
  for (int spins = 0;; ++spins) {
    if (!(w & kLocked) &&
        word_.compare_exchange_weak(w, w | kLocked, std::memory_order_acquire,
                                    std::memory_order_relaxed))
      return;
    if (spins > 64) sched_yield();
    w = word_.load(std::memory_order_relaxed);
  }
}

void FutureStateBase::unlock_listeners() noexcept {
  word_.fetch_and(~kLocked, std::memory_order_release);
}

void FutureStateBase::notify_listeners() noexcept {
  Listener* user = nullptr;  // user callbacks, collected in registration order, run unlocked
  lock_listeners();
  Listener* l = head_;
  head_ = nullptr;
  while (l) {  // the list is newest first: prepending each user callback restores their order
    Listener* next = l->next;
    l->prev = l->next = nullptr;
    l->linked = false;
    if (l->internal) {
      l->on_done(*this);
    } else {
      l->next = user;
      user = l;
    }
    l = next;
  }
  unlock_listeners();
  while (user) {
    Listener* next = user->next;
    user->next = nullptr;
    user->on_done(*this);  // deletes itself
    user = next;
  }
}

bool FutureStateBase::add_listener(Listener* l) {
  lock_listeners();
  const std::uint32_t old = word_.fetch_or(kListeners, std::memory_order_acq_rel);
  if (is_done(old)) {
    unlock_listeners();
    return false;
  }
  l->prev = nullptr;
  l->next = head_;
  if (head_) head_->prev = l;
  head_ = l;
  l->linked = true;
  unlock_listeners();
  return true;
}

void FutureStateBase::remove_listener(Listener* l) noexcept {
  lock_listeners();
  if (l->linked) {
    if (l->prev) l->prev->next = l->next;
    else head_ = l->next;
    if (l->next) l->next->prev = l->prev;
    l->prev = l->next = nullptr;
    l->linked = false;
  }
  unlock_listeners();
}

bool FutureStateBase::wait_until(std::optional<Clock::time_point> deadline) const noexcept {
  std::uint32_t w = word_.load(std::memory_order_acquire);
  if (is_done(w)) return true;

  // A pool worker runs queued pool work instead of sleeping, so a task that waits on its own
  // children cannot starve the pool (bounded nesting, see kMaxHelpDepth).
  if (WaitHelper* helper = current_wait_helper(); helper && tl_help_depth < kMaxHelpDepth) {
    ++tl_help_depth;
    while (!is_done(word_.load(std::memory_order_acquire))) {
      if (deadline && Clock::now() >= *deadline) break;
      if (!helper->help_one()) break;
    }
    --tl_help_depth;
    w = word_.load(std::memory_order_acquire);
    if (is_done(w)) return true;
  }

  // Short spin: completions often arrive within a microsecond or two.
  for (int i = 0; i < 64 && !is_done(w); ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    w = word_.load(std::memory_order_acquire);
  }
  while (!is_done(w)) {
    if (!(w & kSleepers)) {
      if (!word_.compare_exchange_weak(w, w | kSleepers, std::memory_order_acquire)) continue;
      w |= kSleepers;
    }
    if (!futex_wait(word_, w, deadline)) {
      return is_done(word_.load(std::memory_order_acquire));
    }
    w = word_.load(std::memory_order_acquire);
  }
  return true;
}

void FutureStateBase::set_exception(std::exception_ptr e) {
  if (!try_set_exception(std::move(e)))
    throw InvalidStateError("the future is already done or cancelled");
}

bool FutureStateBase::try_set_exception(std::exception_ptr e) noexcept {
  if (!try_claim()) return false;
  exception_ = std::move(e);
  publish_finished();
  return true;
}

void FutureStateAccess::finish_with_exception(FutureStateBase& s, std::exception_ptr e) noexcept {
  s.exception_ = std::move(e);
  s.publish_finished();
}

}  // namespace concur::detail
