// concur/futures/future.hpp — concurrent.futures.Future, as a cheap copyable handle.
//
//   Python                                  concur
//   fut.result(timeout=5)                   fut.result(5s)
//   fut.exception()                         fut.exception()        -> std::exception_ptr
//   fut.add_done_callback(fn)               fut.add_done_callback(fn)   // fn(Future<T>)
//
// Differences forced by C++: result() returns a const reference to the one stored value (Python
// returns the same object each time); exception() returns std::exception_ptr (null for success).
// Thread-safety: every method may be called from any thread, on any copy of the handle.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "concur/detail/future_state.hpp"
#include "concur/error.hpp"

namespace concur::futures {

template <class T>
class Future;
template <class T>
class Promise;

/// A Promise was destroyed without setting a result: its future fails with this error.
class BrokenPromise : public Error {
 public:
  BrokenPromise() : Error("the promise was destroyed before a result was set") {}
};

/// A type-erased future handle: any Future<T> converts to it. wait() and as_completed() use it
/// to mix futures of different result types; as<T>() recovers the typed handle.
class AnyFuture {
 public:
  AnyFuture() noexcept = default;
  template <class T>
  AnyFuture(const Future<T>& f) noexcept : state_(f.state_) {}  // NOLINT(implicit)

  bool valid() const noexcept { return static_cast<bool>(state_); }
  bool done() const noexcept { return state_->done(); }
  bool running() const noexcept { return state_->running(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  bool cancel() noexcept { return state_->cancel(); }
  /// Blocks until done; throws CancelledError if cancelled; returns the stored exception or null.
  std::exception_ptr exception() const {
    state_->wait();
    if (state_->cancelled()) throw CancelledError();
    return state_->stored_exception();
  }
  /// The typed handle. Precondition: T is the future's result type (unchecked).
  template <class T>
  Future<T> as() const noexcept {
    auto* s = static_cast<concur::detail::FutureState<T>*>(state_.get());
    s->add_ref();
    return Future<T>(concur::detail::StateRef<concur::detail::FutureState<T>>(s));
  }
  concur::detail::FutureStateBase* state() const noexcept { return state_.get(); }
  friend bool operator==(const AnyFuture& a, const AnyFuture& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  template <class T>
  friend class Future;
  concur::detail::StateRef<concur::detail::FutureStateBase> state_;
};

namespace detail_future {
template <class T>
struct CallbackListener;
}

/// Python's concurrent.futures.Future: the eventual result of an asynchronous call.
/// A copyable handle to one shared state; copies compare equal.
/// Precondition for every member but valid() and operator==: valid().
template <class T>
class Future {
 public:
  using value_type = T;

  /// An empty handle (valid() is false).
  Future() noexcept = default;

  bool valid() const noexcept { return static_cast<bool>(state_); }

  /// True if cancelled or finished (with a result or an exception). Never blocks.
  bool done() const noexcept { return state_->done(); }
  /// True while the call runs (it can no longer be cancelled). Never blocks.
  bool running() const noexcept { return state_->running(); }
  /// True if cancel() succeeded. Never blocks.
  bool cancelled() const noexcept { return state_->cancelled(); }
  /// Cancels the call if it has not started: returns true then (or if already cancelled).
  /// A running call cannot be cancelled (returns false), but a task that takes a
  /// std::stop_token sees stop requested.
  bool cancel() noexcept { return state_->cancel(); }

  /// Blocks until done; returns the value or rethrows the call's exception with its type intact.
  /// Throws CancelledError if cancelled. On a pool worker, runs queued pool work while waiting.
  std::add_lvalue_reference_t<const T> result() const {
    state_->wait();
    return get_done();
  }
  /// As result(), but throws concur::TimeoutError if not done within the timeout (negative: poll).
  template <class Rep, class Period>
  std::add_lvalue_reference_t<const T> result(std::chrono::duration<Rep, Period> timeout) const {
    if (!state_->wait_until(concur::detail::deadline_after(timeout))) throw TimeoutError();
    return get_done();
  }

  /// Blocks until done; the call's exception, or null on success. Throws CancelledError if
  /// cancelled.
  std::exception_ptr exception() const {
    state_->wait();
    return exception_done();
  }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout) const {
    if (!state_->wait_until(concur::detail::deadline_after(timeout))) throw TimeoutError();
    return exception_done();
  }

  /// Blocks until done, without throwing. Returns done() (false on timeout).
  void wait() const noexcept { state_->wait(); }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const noexcept {
    return state_->wait_until(concur::detail::deadline_after(timeout));
  }

  /// Calls fn(future) when the future is done, or at once (on this thread) if it already is.
  /// Callbacks run in the order added, on the thread that completes the future. An exception
  /// thrown by fn is reported on stderr and swallowed, as Python logs it: it never reaches the
  /// thread that completed the future.
  template <class F>
    requires std::invocable<F&, const Future<T>&>
  void add_done_callback(F fn) const;

  /// Consumes the value (requires done() and a value): moves it out of the shared state.
  /// For move-only results read exactly once; other copies then see a moved-from value.
  T take() requires(!std::is_void_v<T>) {
    state_->wait();
    state_->rethrow_if_failed();
    return std::move(state_->value());
  }

  friend bool operator==(const Future& a, const Future& b) noexcept {
    return a.state_ == b.state_;
  }

  /// For executors and awaiters: the shared state behind the handle.
  concur::detail::FutureState<T>* state() const noexcept { return state_.get(); }
  /// Wraps an existing state (adopting the reference). For executors.
  explicit Future(concur::detail::StateRef<concur::detail::FutureState<T>> s) noexcept : state_(std::move(s)) {}

 private:
  friend class AnyFuture;

  std::add_lvalue_reference_t<const T> get_done() const {
    state_->rethrow_if_failed();
    if constexpr (!std::is_void_v<T>) return state_->value();
  }
  std::exception_ptr exception_done() const {
    if (state_->cancelled()) throw CancelledError();
    return state_->stored_exception();
  }

  concur::detail::StateRef<concur::detail::FutureState<T>> state_;
};

namespace detail_future {
template <class T>
struct CallbackListener final : concur::detail::Listener {
  template <class F>
  CallbackListener(concur::detail::StateRef<concur::detail::FutureState<T>> s, F&& f)
      : future(std::move(s)), fn(std::forward<F>(f)) {
    internal = false;
  }
  void on_done(concur::detail::FutureStateBase&) noexcept override {
    try {
      fn(future);
    } catch (...) {
      concur::detail::report_callback_exception(std::current_exception());
    }
    delete this;
  }
  Future<T> future;
  std::function<void(const Future<T>&)> fn;
};
}  // namespace detail_future

template <class T>
template <class F>
  requires std::invocable<F&, const Future<T>&>
void Future<T>::add_done_callback(F fn) const {
  auto* l = new detail_future::CallbackListener<T>(state_, std::move(fn));
  if (!state_->add_listener(l)) l->on_done(*state_);  // already done: run now, here
}

/// The producer side of a Future: for code that completes futures itself (Python's executors call
/// Future.set_result; C++ separates the two ends). Move-only. Destroying a Promise whose future
/// is not done fails the future with BrokenPromise, so no waiter hangs forever.
template <class T>
class Promise {
 public:
  Promise() : state_(new concur::detail::FutureState<T>()) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& o) noexcept {
    abandon();
    state_ = std::move(o.state_);
    return *this;
  }
  ~Promise() { abandon(); }

  /// Another handle to the future this promise completes (any number may be taken).
  Future<T> get_future() const { return Future<T>(state_); }

  /// Python's set_running_or_notify_cancel(): false if the future was cancelled.
  bool set_running_or_notify_cancel() { return state_->set_running_or_notify_cancel(); }

  /// Completes with a value. Throws InvalidStateError if already done or cancelled.
  template <class... A>
  void set_result(A&&... v) {
    state_->set_value(std::forward<A>(v)...);
  }
  /// Completes with an exception. Throws InvalidStateError if already done or cancelled.
  void set_exception(std::exception_ptr e) { state_->set_exception(std::move(e)); }

 private:
  void abandon() noexcept {
    if (state_ && !state_->done()) state_->try_set_exception(std::make_exception_ptr(BrokenPromise()));
  }
  concur::detail::StateRef<concur::detail::FutureState<T>> state_;
};

}  // namespace concur::futures
