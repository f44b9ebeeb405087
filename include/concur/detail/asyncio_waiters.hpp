// concur/detail/asyncio_waiters.hpp — the FIFO of suspended tasks behind asyncio's Lock, Event,
// Condition, Semaphore and Queue. Nodes live in the awaiting coroutine's frame (no allocation);
// a cancelled waiter unlinks itself, so a wake-up always goes to a task still waiting.
#pragma once

#include <coroutine>
#include <cstddef>

#include "concur/asyncio/task.hpp"

namespace concur::asyncio::detail {

class WaitQueue;

/// One waiting task. co_await it to wait until woken (throws CancelledError if cancelled; also
/// if cancelled after the wake-up but before running — check woken() to pass a wake-up on).
class Waiter : public Suspension {
 public:
  explicit Waiter(WaitQueue& q) noexcept : q_(&q) {}
  Waiter(Waiter&& o) noexcept : q_(o.q_) {}
  ~Waiter() { unlink(); }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume() { finish(); }
  bool on_cancel() noexcept override {
    unlink();
    wake_cancelled();
    return true;
  }
  /// True if a notify woke this waiter (as opposed to a cancel).
  bool woken() const noexcept { return woken_; }

 private:
  friend class WaitQueue;
  inline void unlink() noexcept;
  WaitQueue* q_;
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  bool linked_ = false;
  bool woken_ = false;
};

/// Intrusive FIFO of Waiters. Loop thread only.
class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;
  ~WaitQueue() {
    while (head_) wake_one();  // never leave a task suspended on a dead object
  }
  bool empty() const noexcept { return head_ == nullptr; }
  void push(Waiter* w) noexcept {
    w->prev_ = tail_;
    w->next_ = nullptr;
    if (tail_) {
      tail_->next_ = w;
    } else {
      head_ = w;
    }
    tail_ = w;
    w->linked_ = true;
  }
  void remove(Waiter* w) noexcept {
    if (!w->linked_) return;
    if (w->prev_) {
      w->prev_->next_ = w->next_;
    } else {
      head_ = w->next_;
    }
    if (w->next_) {
      w->next_->prev_ = w->prev_;
    } else {
      tail_ = w->prev_;
    }
    w->prev_ = w->next_ = nullptr;
    w->linked_ = false;
  }
  /// Wakes the first waiter; false if there is none.
  bool wake_one() noexcept {
    Waiter* w = head_;
    if (!w) return false;
    remove(w);
    w->woken_ = true;
    w->wake();
    return true;
  }
  /// Wakes every waiter; returns how many.
  std::size_t wake_all() noexcept {
    std::size_t n = 0;
    while (wake_one()) ++n;
    return n;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

inline bool Waiter::await_suspend(std::coroutine_handle<> h) {
  if (!begin(h)) return false;
  q_->push(this);
  return true;
}
inline void Waiter::unlink() noexcept { q_->remove(this); }

}  // namespace concur::asyncio::detail
