// concur/asyncio/threads.hpp — mixing coroutines and threads: run_in_executor, to_thread,
// run_coroutine_threadsafe, and co_await on any concur::futures::Future.
//
//   Python                                          concur
//   await loop.run_in_executor(None, fn, a)         co_await loop.run_in_executor(nullptr, fn, a);
//   await loop.run_in_executor(pool, fn, a)         co_await loop.run_in_executor(&pool, fn, a);
//   await asyncio.to_thread(fn, a)                  co_await asyncio::to_thread(fn, a);
//   await asyncio.wrap_future(cf)                   co_await cf;      // any futures::Future<T>
//   cf = run_coroutine_threadsafe(coro(), loop)     auto cf = asyncio::run_coroutine_threadsafe(coro(), loop);
//   cf.result(timeout=5)                            cf.result(5s);    // from another thread
//
// Top-down migration: a coroutine calls blocking code through run_in_executor/to_thread.
// Bottom-up migration: threads submit coroutines to a loop running elsewhere with
// run_coroutine_threadsafe. The default executor is a futures::ThreadPoolExecutor created on
// first use and shut down (waiting) when run() finishes.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "concur/asyncio/event_loop.hpp"
#include "concur/asyncio/task.hpp"
#include "concur/futures/future.hpp"
#include "concur/futures/thread_pool.hpp"

namespace concur::asyncio::detail {

/// co_await on a futures::Future<T>: the future's done callback (any thread) posts the wake-up
/// to the loop. Cancelling the awaiting task cancels the future (a running call keeps running).
template <class T>
class [[nodiscard]] FutureAwaiter final : public Suspension {
 public:
  explicit FutureAwaiter(futures::Future<T> f) noexcept : f_(std::move(f)) {}
  FutureAwaiter(FutureAwaiter&& o) noexcept : f_(std::move(o.f_)) {}
  ~FutureAwaiter() {
    if (bridge_) bridge_->awaiter = nullptr;
  }
  bool await_ready() const noexcept { return f_.done(); }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!begin(h)) return false;
    bridge_ = std::make_shared<Bridge>();
    bridge_->awaiter = this;
    f_.add_done_callback(
        [b = bridge_, r = running_loop()->remote()](const futures::Future<T>&) {
          post_threadsafe(r, [b] {
            if (FutureAwaiter* a = b->awaiter) {
              b->awaiter = nullptr;
              a->wake();
            }
          });
        });
    return true;
  }
  auto await_resume() {
    finish();
    if (f_.cancelled()) throw CancelledError();
    if constexpr (std::is_void_v<T>) {
      f_.result();
    } else if constexpr (std::is_copy_constructible_v<T>) {
      return T(f_.result());
    } else {
      return f_.take();
    }
  }
  bool on_cancel() noexcept override {
    f_.cancel();
    bridge_->awaiter = nullptr;
    wake_cancelled();
    return true;
  }

 private:
  struct Bridge {
    FutureAwaiter* awaiter = nullptr;  // loop thread only
  };
  futures::Future<T> f_;
  std::shared_ptr<Bridge> bridge_;
};

/// The loop's default executor, created on first use.
inline futures::ThreadPoolExecutor& default_executor(EventLoop& loop) {
  auto& slot = loop.default_executor_slot();
  if (!slot) slot = std::make_shared<futures::ThreadPoolExecutor>();
  return *static_cast<futures::ThreadPoolExecutor*>(slot.get());
}

template <class T>
Task<void> complete_promise(Task<T> coro, futures::Promise<T> promise) {
  futures::Future<T> f = promise.get_future();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(coro);
      promise.set_result();
    } else {
      promise.set_result(co_await std::move(coro));
    }
  } catch (const CancelledError&) {
    f.cancel();
  } catch (...) {
    try {
      promise.set_exception(std::current_exception());
    } catch (...) {  // the future was cancelled meanwhile
    }
  }
}

}  // namespace concur::asyncio::detail

namespace concur::futures {
/// Any futures::Future is awaitable inside an asyncio task (Python's wrap_future).
template <class T>
asyncio::detail::FutureAwaiter<T> operator co_await(Future<T> f) noexcept {
  return asyncio::detail::FutureAwaiter<T>(std::move(f));
}
}  // namespace concur::futures

namespace concur::asyncio {

namespace detail {
/// fn(args...) as one nullary callable (the executor sees no arguments).
template <class F, class... Args>
auto bind_call(F fn, Args... args) {
  return [fn = std::move(fn), args...]() mutable { return std::invoke(fn, std::move(args)...); };
}
}  // namespace detail

template <class Executor, class F, class... Args>
auto EventLoop::run_in_executor(Executor* executor, F fn, Args... args) {
  auto call = detail::bind_call(std::move(fn), std::move(args)...);
  if (executor == nullptr) return detail::default_executor(*this).submit(std::move(call));
  return executor->submit(std::move(call));
}
template <class F, class... Args>
auto EventLoop::run_in_executor(std::nullptr_t, F fn, Args... args) {
  return detail::default_executor(*this).submit(detail::bind_call(std::move(fn), std::move(args)...));
}

/// Python's asyncio.to_thread(fn, *args): runs fn(args...) on the default executor; the task
/// awaits the result (exceptions propagate with their type).
template <class F, class... Args>
auto to_thread(F fn, Args... args) -> Task<std::invoke_result_t<F&, Args&...>> {
  co_return co_await get_running_loop().run_in_executor(nullptr, std::move(fn), std::move(args)...);
}

/// Python's run_coroutine_threadsafe(coro, loop): from any thread, schedules coro on `loop`
/// (running on another thread) and returns a futures::Future for its result. Cancelling the
/// future cancels the task. If the loop closes first, the future fails with BrokenPromise.
template <class T>
futures::Future<T> run_coroutine_threadsafe(Task<T> coro, EventLoop& loop) {
  futures::Promise<T> promise;
  futures::Future<T> fut = promise.get_future();
  struct Link {
    std::shared_ptr<detail::Remote> remote;
    Task<void> task;  // loop thread only
    ~Link() {
      // The last reference may be dropped on any thread (the future's callbacks run where it
      // completes): a task's reference count belongs to its loop's thread, so release it there.
      if (task.valid()) {
        try {
          detail::post_threadsafe(remote, [t = std::move(task)] {});
        } catch (...) {
        }
      }
    }
  };
  auto remote = loop.remote();
  auto link = std::make_shared<Link>();
  link->remote = remote;
  detail::post_threadsafe(remote, [coro = std::move(coro), p = std::move(promise), link]() mutable {
    link->task = get_running_loop().create_task(detail::complete_promise<T>(std::move(coro), std::move(p)));
  });
  fut.add_done_callback([remote, link](const futures::Future<T>& f) {
    if (f.cancelled()) {
      detail::post_threadsafe(remote, [link] {
        if (link->task.valid()) link->task.cancel();
      });
    }
  });
  return fut;
}

}  // namespace concur::asyncio
