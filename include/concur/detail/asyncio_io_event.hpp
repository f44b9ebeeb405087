// concur/detail/asyncio_io_event.hpp — two small loop-thread awaitables the stream and subprocess
// code needs, built on the Suspension protocol of concur/asyncio/task.hpp:
//   IoEvent      a level flag with any number of cancellable waiters (drain, wait_closed, exits)
//   run_blocking runs a blocking function on a helper thread and resumes the awaiting task on
//                its loop through call_soon_threadsafe (name resolution)
// Loop-thread only, except run_blocking's helper thread, which only touches its shared state and
// posts one callback.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "concur/asyncio/event_loop.hpp"
#include "concur/asyncio/task.hpp"

namespace concur::asyncio::detail {

/// asyncio.Event without the public surface: set() wakes every waiter; wait() returns at once
/// when set. A cancelled waiter unlinks itself.
class IoEvent {
 public:
  IoEvent() = default;
  IoEvent(const IoEvent&) = delete;
  IoEvent& operator=(const IoEvent&) = delete;
  ~IoEvent() {
    // Waiters outliving the event are woken as cancelled (only at loop teardown).
    while (head_) {
      Waiter* w = head_;
      unlink(w);
      w->wake_cancelled_();
    }
  }

  bool is_set() const noexcept { return set_; }
  void clear() noexcept { set_ = false; }
  void set() noexcept {
    if (set_) return;
    set_ = true;
    while (head_) {
      Waiter* w = head_;
      unlink(w);
      w->wake_();
    }
  }

  class Waiter final : public Suspension {
   public:
    explicit Waiter(IoEvent* e) noexcept : e_(e) {}
    Waiter(const Waiter&) = delete;
    ~Waiter() {
      if (linked_) e_->unlink(this);
    }
    bool await_ready() const noexcept { return e_->set_; }
    bool await_suspend(std::coroutine_handle<> h) {
      if (!begin(h)) return false;
      e_->link(this);
      return true;
    }
    void await_resume() { finish(); }
    bool on_cancel() noexcept override {
      if (linked_) e_->unlink(this);
      wake_cancelled();
      return true;
    }

   private:
    friend class IoEvent;
    void wake_() noexcept { wake(); }
    void wake_cancelled_() noexcept { wake_cancelled(); }
    IoEvent* e_;
    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    bool linked_ = false;
  };

  /// co_await ev.wait(): suspends until set(); throws CancelledError on cancel.
  [[nodiscard]] Waiter wait() noexcept { return Waiter(this); }

 private:
  void link(Waiter* w) noexcept {
    w->next_ = head_;
    if (head_) head_->prev_ = w;
    head_ = w;
    w->linked_ = true;
  }
  void unlink(Waiter* w) noexcept {
    if (w->prev_) w->prev_->next_ = w->next_;
    else head_ = w->next_;
    if (w->next_) w->next_->prev_ = w->prev_;
    w->prev_ = w->next_ = nullptr;
    w->linked_ = false;
  }
  Waiter* head_ = nullptr;
  bool set_ = false;
};

/// Shared between the awaiting task (loop thread) and the helper thread.
template <class R>
struct BlockingCall {
  std::optional<R> value;
  std::exception_ptr error;
  Suspension* waiter = nullptr;  // loop thread only
  std::mutex m;                  // guards `loop`: null once nobody waits (the loop may be gone)
  EventLoop* loop = nullptr;
  void abandon() noexcept {
    waiter = nullptr;
    std::lock_guard<std::mutex> g(m);
    loop = nullptr;
  }
};

template <class R>
class BlockingAwaiter final : public Suspension {
 public:
  template <class F>
  explicit BlockingAwaiter(F&& fn) : fn_(std::forward<F>(fn)), st_(std::make_shared<BlockingCall<R>>()) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!begin(h)) return false;
    st_->loop = &get_running_loop();
    st_->waiter = this;
    std::thread([st = st_, fn = std::move(fn_)]() mutable {
      try {
        st->value.emplace(fn());
      } catch (...) {
        st->error = std::current_exception();
      }
      // Post the wake-up only while the task still waits: once it was cancelled or destroyed
      // (abandon()), the loop may already be closed and freed.
      std::lock_guard<std::mutex> g(st->m);
      if (st->loop == nullptr) return;
      st->loop->call_soon_threadsafe([st] {
        if (st->waiter) {
          auto* w = static_cast<BlockingAwaiter*>(st->waiter);
          st->waiter = nullptr;
          w->wake_();
        }
      });
    }).detach();
    return true;
  }
  ~BlockingAwaiter() { st_->abandon(); }
  R await_resume() {
    st_->abandon();
    finish();
    if (st_->error) std::rethrow_exception(st_->error);
    return std::move(*st_->value);
  }
  bool on_cancel() noexcept override {
    st_->abandon();
    wake_cancelled();
    return true;
  }

 private:
  void wake_() noexcept { wake(); }
  std::function<R()> fn_;
  std::shared_ptr<BlockingCall<R>> st_;
};

/// co_await run_blocking<R>(fn): fn() on a new thread; the task resumes on its loop.
template <class R, class F>
BlockingAwaiter<R> run_blocking(F&& fn) {
  return BlockingAwaiter<R>(std::forward<F>(fn));
}

}  // namespace concur::asyncio::detail
