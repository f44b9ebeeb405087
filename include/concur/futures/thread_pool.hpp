// concur/futures/thread_pool.hpp — concurrent.futures.ThreadPoolExecutor, without the GIL.
//
//   Python                                             concur
//   ThreadPoolExecutor(max_workers=2,                  ThreadPoolExecutor pool({.max_workers = 2,
//                      thread_name_prefix="w",                             .thread_name_prefix = "w",
//                      initializer=init)                                   .initializer = init});
//   fut = pool.submit(gcd, pair)                       auto fut = pool.submit(gcd, pair);
//   pool.shutdown(wait=True)  / `with` block           pool.shutdown({.wait = true}) / destructor
//
// Behaviour as Python's, plus:
// - A task that waits on another future (result(), exception(), wait(), as_completed) from a
//   worker of this pool runs queued work of this pool while it waits, so a recursive fan-out
//   that waits on its children cannot deadlock the pool. Nesting of such help is bounded (128
//   levels); past it the worker sleeps. A thread outside the pool never runs pool tasks, so every
//   task runs on a thread whose initializer has run. Caveat: a helping worker returns to its own
//   task only after the helped task finishes.
// - A task may take a std::stop_token as its first parameter: stop is requested by
//   shutdown({.cancel_futures = true}) and by Future::cancel() while it runs.
// - initializer's arguments: bind them in a lambda (initargs= has no C++ counterpart).
// - C++ forces: initargs are captured by a lambda; submit() after shutdown throws
//   concur::RuntimeError (Python: RuntimeError "cannot schedule new futures after shutdown").
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "concur/detail/future_state.hpp"
#include "concur/detail/small_alloc.hpp"
#include "concur/detail/thread_pool_core.hpp"
#include "concur/futures/executor.hpp"
#include "concur/futures/future.hpp"

namespace concur::futures {

/// ThreadPoolExecutor's keywords, in Python's order, with Python's defaults.
struct ThreadPoolOptions {
  /// Default (nullopt): min(32, CPU count + 4), as Python 3.8+. Must be > 0.
  std::optional<std::size_t> max_workers{};
  /// Thread names "<prefix>_<n>" (truncated to Linux's 15 characters).
  /// Default: "ThreadPoolExecutor-<pool number>".
  std::string thread_name_prefix{};
  /// Runs once at the start of each worker thread. If it throws, the pool is broken: pending
  /// and later calls fail with BrokenThreadPool, as in Python.
  std::function<void()> initializer{};
};

namespace detail_pool {

/// A queued call and its future in one allocation (from the small-block allocator).
template <class R, class Fn, bool StopAware>
class PoolTask final : public concur::detail::FutureState<R>,
                       public concur::detail::PoolWork,
                       public concur::detail::SmallAllocated {
 public:
  explicit PoolTask(Fn fn) : fn_(std::move(fn)) {}

  void run(const std::stop_token& pool_stop) noexcept override {
    if (this->try_start()) {
      try {
        if constexpr (StopAware) {
          std::stop_callback forward(pool_stop, [this]() noexcept { stop_.request_stop(); });
          complete([&] { return fn_(stop_.get_token()); });
        } else {
          complete(fn_);
        }
      } catch (...) {
        this->try_set_exception(std::current_exception());
      }
    }
    this->release();
  }
  void cancel_work() noexcept override {
    this->cancel();
    this->release();
  }
  void fail_work(std::exception_ptr e) noexcept override {
    this->try_set_exception(std::move(e));
    this->release();
  }

 protected:
  void request_stop() noexcept override {
    if constexpr (StopAware) stop_.request_stop();
  }

 private:
  template <class Call>
  void complete(Call&& call) {
    if constexpr (std::is_void_v<R>) {
      call();
      this->try_set_value();
    } else {
      this->try_set_value(call());
    }
  }

  Fn fn_;
  struct NoStop {};
  [[no_unique_address]] std::conditional_t<StopAware, std::stop_source, NoStop> stop_;
};

}  // namespace detail_pool

/// Python's ThreadPoolExecutor. Thread-safe: submit/map/shutdown may be called from any thread,
/// including pool tasks. The destructor is shutdown({.wait = true}).
class ThreadPoolExecutor : public Executor {
 public:
  explicit ThreadPoolExecutor(ThreadPoolOptions options = {});
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  ~ThreadPoolExecutor() override;

  /// Schedules fn(args...) and returns its Future. Arguments are decay-copied (use std::ref to
  /// pass by reference). If fn is invocable as fn(std::stop_token, args...), it gets a token.
  /// Throws concur::RuntimeError after shutdown, futures::BrokenThreadPool if broken.
  template <class F, class... A>
  auto submit(F&& fn, A&&... args) {
    using Fn = std::decay_t<F>;
    constexpr bool stop_aware = std::is_invocable_v<Fn, std::stop_token, std::decay_t<A>...>;
    if constexpr (stop_aware) {
      using R = std::decay_t<std::invoke_result_t<Fn, std::stop_token, std::decay_t<A>...>>;
      auto call = [f = std::forward<F>(fn), ... a = std::forward<A>(args)](std::stop_token st) mutable {
        return std::invoke(std::move(f), std::move(st), std::move(a)...);
      };
      return enqueue<R, decltype(call), true>(std::move(call));
    } else {
      static_assert(std::is_invocable_v<Fn, std::decay_t<A>...>,
                    "submit(fn, args...): fn cannot be called with these arguments");
      using R = std::decay_t<std::invoke_result_t<Fn, std::decay_t<A>...>>;
      auto call = [f = std::forward<F>(fn), ... a = std::forward<A>(args)]() mutable {
        return std::invoke(std::move(f), std::move(a)...);
      };
      return enqueue<R, decltype(call), false>(std::move(call));
    }
  }

  /// Python's Executor.map over one range: fn(x) for each x, results lazily in input order.
  /// All calls are submitted now, unless options.buffersize bounds how many run ahead (then the
  /// range must outlive the results, as Python's iterable does). chunksize is ignored (threads).
  template <class F, std::ranges::input_range Range>
  auto map(F&& fn, Range&& range, MapOptions options = {}) {
    using X = std::ranges::range_reference_t<Range>;
    using R = std::decay_t<std::invoke_result_t<std::decay_t<F>&, std::decay_t<X>>>;
    return detail_map::map_range<R>(std::forward<Range>(range), options,
                                [this, f = std::forward<F>(fn)](auto&& x) {
                                  return submit(f, std::forward<decltype(x)>(x));
                                });
  }

  /// See ShutdownOptions. With cancel_futures, calls not started are cancelled and running
  /// stop-aware calls see stop requested. Idempotent; calling it from a pool task with
  /// wait=true does not wait for that task's own thread.
  void shutdown(ShutdownOptions options = {}) override;

  /// The bound on threads (Python's _max_workers).
  std::size_t max_workers() const noexcept { return max_workers_; }
  /// Threads started so far (started lazily, as in Python).
  std::size_t thread_count() const noexcept;

 private:
  template <class R, class Fn, bool StopAware>
  Future<R> enqueue(Fn&& call) {
    auto* task = new detail_pool::PoolTask<R, std::decay_t<Fn>, StopAware>(std::forward<Fn>(call));
    task->add_ref();  // one reference for the queue, one for the returned Future
    Future<R> future{concur::detail::StateRef<concur::detail::FutureState<R>>(task)};
    try {
      concur::detail::thread_pool_submit(core_, task);
    } catch (...) {
      task->release();  // the queue's reference
      throw;
    }
    return future;
  }

  concur::detail::ThreadPoolCore* core_;
  std::size_t max_workers_;
};

}  // namespace concur::futures
