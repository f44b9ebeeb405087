// The compiled core of concur::queue's waiting: futex sleep and wake.
#include "concur/detail/queue_sync.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace concur::detail {

bool queue_futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      const std::optional<std::chrono::steady_clock::time_point>& deadline) noexcept {
  timespec abs{};
  timespec* abs_ptr = nullptr;
  if (deadline) {
    if (*deadline == std::chrono::steady_clock::time_point::max()) {
      abs_ptr = nullptr;  // effectively forever
    } else {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline->time_since_epoch()).count();
      if (ns <= 0) return false;
      abs.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      abs.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      abs_ptr = &abs;
    }
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, which is steady_clock's clock
  // on Linux, so spurious wake-ups never stretch the total wait.
  const long rc = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET_PRIVATE,
                          expected, abs_ptr, nullptr, FUTEX_BITSET_MATCH_ANY);
  if (rc == -1 && errno == ETIMEDOUT) return false;
  return true;  // woken, value changed (EAGAIN), or interrupted (EINTR): the caller re-checks
}

void queue_futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

void queue_yield() noexcept { sched_yield(); }

void QueueLock::lock_contended() noexcept {
  // Spin while the holder is (probably) running: a queue operation holds the lock for
  // nanoseconds. The budget is small so that a preempted holder costs little.
  for (int i = 0; i < 64; ++i) {
    std::uint32_t expected = 0;
    if (state_.load(std::memory_order_relaxed) == 0 &&
        state_.compare_exchange_weak(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
      return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  // Sleep: mark the lock contended (2) so that unlock() wakes one sleeper.
  while (state_.exchange(2, std::memory_order_acquire) != 0) {
    (void)queue_futex_wait(state_, 2, std::nullopt);
  }
}

}  // namespace concur::detail
