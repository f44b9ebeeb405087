// concur/futures/process_pool.hpp — concurrent.futures.ProcessPoolExecutor: registered functions
// run in worker processes, isolated from the caller and from each other.
//
//   Python                                        concur
//   def gcd(pair): ...                            int gcd(std::pair<int, int> pair) { ... }
//                                                 CONCUR_TASK(gcd);          // namespace scope
//   if __name__ == "__main__":                    int main(int argc, char** argv) {
//                                                   concur::futures::process_worker_main(argc, argv);
//     with ProcessPoolExecutor(2) as pool:          ProcessPoolExecutor pool({.max_workers = 2});
//       f = pool.submit(gcd, (a, b))                auto f = pool.submit(gcd, std::pair{a, b});
//       rs = list(pool.map(gcd, pairs, chunksize=8))  for (int r : pool.map(gcd, pairs, {.chunksize = 8}))
//
// What main() must do (the twin of `if __name__ == "__main__":`): workers are this same program
// re-executed through /proc/self/exe (posix_spawn; never fork() of a threaded process), so main()
// must call process_worker_main(argc, argv) as its FIRST statement. In the parent it returns at
// once; in a worker it serves tasks and exits the process. Forgetting it is reported, not hung:
// the pool fails with BrokenProcessPool whose message says to add that line.
//
// Differences from Python, all deliberate:
// - Only registered functions run (C++ cannot pickle code): see concur/process/registry.hpp for
//   CONCUR_TASK, CONCUR_EXCEPTION and which argument types travel (cereal). A type that cannot be
//   serialized does not compile.
// - A worker that dies (signal, exit(), OOM kill, resource limit) fails ONLY the call it was
//   running, with BrokenProcessPool naming the signal or exit status; the worker is replaced and
//   the pool keeps working (Python breaks the whole pool). Calls queued behind it are re-sent.
//   A chunk (map's chunksize) is one call in that sense: it fails as a whole.
// - An exception thrown by a task comes back with its type when the type is registered
//   (CONCUR_EXCEPTION; the standard and concur exceptions are), else as concur::RemoteError.
// - map() takes one range of single arguments; buffersize counts items, not chunks.
// - shutdown(cancel_futures=true) also kills workers still running after `shutdown_grace`; their
//   futures fail with BrokenProcessPool (Python would wait for them forever).
// - mp_context accepts only "spawn" (the only safe start method for a threaded C++ program).
//
// Thread-safety: submit(), map() and shutdown() may be called from any thread. Futures complete on
// the pool's manager thread (done callbacks run there, without any pool lock held: they may
// submit(); keep them short). Iterating a map() result is for one thread.
//
// Performance notes: arguments are serialized in the submitting thread; a submit() that finds a
// worker idle writes the call to it directly; each worker holds at most two calls (one running,
// one ready) while work is plentiful and one near the end of the queue, so long calls do not
// hold short ones hostage. A worker that has just sent a result keeps checking its channel for
// 15 us before it sleeps (a caller submitting one call at a time sends the next one within that
// time; waking a sleeping worker costs more than the whole round trip on a VM). Workers are
// started on demand: each costs an exec of this program (~7-15 ms on the 2-vCPU bench VM), so
// keep a pool alive rather than building one per batch. Use map(..., {.chunksize = N}) for many
// tiny calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/error.hpp"
#include "concur/futures/executor.hpp"
#include "concur/futures/future.hpp"
#include "concur/process/registry.hpp"
#include "concur/timeout.hpp"

namespace concur::futures {

/// ProcessPoolExecutor's keywords, in Python's order; concur's extras last.
struct ProcessPoolOptions {
  /// Worker processes; default: the CPU count (std::thread::hardware_concurrency()).
  std::optional<std::size_t> max_workers = std::nullopt;
  /// Python's mp_context: only "spawn" (the default) is accepted; others throw ValueError.
  std::optional<std::string> mp_context = std::nullopt;
  /// A registered (CONCUR_TASK) function run once at the start of every worker. If it throws,
  /// the pool is broken (BrokenProcessPool), as in Python.
  void (*initializer)() = nullptr;
  /// Replace a worker after it has run this many tasks (a chunk counts as one); default: never.
  std::optional<std::size_t> max_tasks_per_child = std::nullopt;
  // ---- concur extras ----
  /// RLIMIT_AS of each worker, in bytes. A worker hitting it (std::bad_alloc) fails its task with
  /// BrokenProcessPool and is replaced.
  std::optional<std::size_t> memory_limit = std::nullopt;
  /// RLIMIT_CPU of each worker (counted over the worker's lifetime): the kernel's SIGXCPU then
  /// fails the running task with BrokenProcessPool. Combine with max_tasks_per_child.
  std::optional<std::chrono::seconds> cpu_time_limit = std::nullopt;
  /// How long shutdown(cancel_futures=true) lets running tasks finish before killing workers.
  std::chrono::duration<double> shutdown_grace = std::chrono::seconds(2);
  /// A worker that has not said hello within this time is killed and the pool is broken (the
  /// usual cause: main() does not call process_worker_main first).
  std::chrono::duration<double> handshake_timeout = std::chrono::seconds(60);
};

/// Call first in main(). Returns at once in an ordinary process; in a process spawned as a pool
/// worker it serves tasks until the pool lets it go, then exits the process (never returns).
void process_worker_main(int argc, char** argv);

namespace detail {

/// One call's promise, type-erased, as the pool's manager completes it.
struct ProcessCallSink {
  virtual ~ProcessCallSink() = default;
  virtual bool set_running() = 0;                         ///< false if the future was cancelled
  virtual void set_value(std::string_view bytes) = 0;     ///< decodes the result (never throws)
  virtual void set_exception(std::exception_ptr e) = 0;   ///< never throws
  virtual void cancel() = 0;
};

template <class R>
struct ProcessCallSinkImpl final : ProcessCallSink {
  Promise<R> promise;
  bool set_running() override { return promise.set_running_or_notify_cancel(); }
  void set_value(std::string_view bytes) override {
    try {
      if constexpr (std::is_void_v<R>) {
        promise.set_result();
      } else {
        R r{};
        process::deserialize_from(bytes, r);
        promise.set_result(std::move(r));
      }
    } catch (...) {
      set_exception(std::current_exception());
    }
  }
  void set_exception(std::exception_ptr e) override {
    try {
      promise.set_exception(std::move(e));
    } catch (...) {  // already done/cancelled: nothing to report to
    }
  }
  void cancel() override { promise.get_future().cancel(); }
};

using ProcessSinks = std::vector<std::unique_ptr<ProcessCallSink>>;

/// The compiled core (src/process/process_pool.cpp): workers, the manager thread, the protocol.
class ProcessPoolCore;

/// The argument as the parameter type (no copy when it already is one).
template <class T, class U>
decltype(auto) as_param(U&& u) {
  if constexpr (std::is_same_v<std::remove_cvref_t<U>, T>) {
    return static_cast<const T&>(u);
  } else {
    return T(std::forward<U>(u));
  }
}

}  // namespace detail

/// Python's concurrent.futures.ProcessPoolExecutor; see the file comment.
class ProcessPoolExecutor final : public Executor {
 public:
  /// Starts the manager thread; workers are spawned as work arrives. Throws ValueError for a bad
  /// option (max_workers == 0, an unregistered initializer, an mp_context other than "spawn").
  explicit ProcessPoolExecutor(ProcessPoolOptions options = {});
  /// shutdown(wait=true).
  ~ProcessPoolExecutor() override;
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;

  /// Schedules fn(args...) in a worker. fn must be registered (CONCUR_TASK), else ValueError.
  /// Arguments are converted to fn's parameter types and serialized now, in the calling thread.
  /// Throws RuntimeError after shutdown(), BrokenProcessPool if the pool is broken. Never blocks.
  template <class R, class... P, class... A>
  Future<R> submit(R (*fn)(P...), A&&... args) {
    process::detail::check_task_signature<R, P...>();
    static_assert(sizeof...(A) == sizeof...(P), "submit(): wrong number of arguments for the task");
    static_assert((std::is_constructible_v<std::decay_t<P>, A&&> && ...),
                  "submit(): an argument does not convert to the task's parameter type");
    const std::string& name = process::task_name(process::detail::fn_address(fn));
    std::vector<std::string> encoded(1);
    if constexpr (sizeof...(P) > 0) {
      process::serialize_into(encoded[0], detail::as_param<std::decay_t<P>>(std::forward<A>(args))...);
    }
    auto sink = std::make_unique<detail::ProcessCallSinkImpl<R>>();
    Future<R> f = sink->promise.get_future();
    detail::ProcessSinks sinks;
    sinks.push_back(std::move(sink));
    submit_calls(name, std::move(encoded), std::move(sinks));
    return f;
  }

  /// Python's map(fn, iterable, timeout=, chunksize=, buffersize=): fn(x) for each x of `range`,
  /// `chunksize` calls per message to a worker, results yielded lazily in input order. Without
  /// buffersize every call is submitted now; with it, at most that many items run ahead of the
  /// consumer. Throws ValueError for chunksize or buffersize 0.
  template <class R, class P, class Range>
  MapResults<R> map(R (*fn)(P), Range&& range, MapOptions options = {}) {
    using Arg = std::decay_t<P>;
    process::detail::check_task_signature<R, P>();
    if (options.chunksize < 1) throw ValueError("chunksize must be >= 1");
    if (options.buffersize && *options.buffersize == 0) throw ValueError("buffersize must be positive");
    const std::string& name = process::task_name(process::detail::fn_address(fn));
    const auto deadline = deadline_from(options.timeout);

    using View = std::views::all_t<Range>;
    struct Cursor {
      View view;
      std::ranges::iterator_t<View> it;
      std::deque<Future<R>> ready;  // futures of the chunk submitted last, not yet handed out
      explicit Cursor(View v) : view(std::move(v)), it(std::ranges::begin(view)) {}
    };
    auto cursor = std::make_shared<Cursor>(std::views::all(std::forward<Range>(range)));
    const std::size_t chunksize = options.chunksize;
    const std::string* task = &name;  // the registry's entries live as long as the program
    auto refill = [this, cursor, chunksize, task]() -> std::optional<Future<R>> {
      if (cursor->ready.empty()) {
        std::vector<std::string> args;
        detail::ProcessSinks sinks;
        for (; args.size() < chunksize && cursor->it != std::ranges::end(cursor->view); ++cursor->it) {
          args.emplace_back();
          process::serialize_into(args.back(), detail::as_param<Arg>(*cursor->it));
          auto sink = std::make_unique<detail::ProcessCallSinkImpl<R>>();
          cursor->ready.push_back(sink->promise.get_future());
          sinks.push_back(std::move(sink));
        }
        if (args.empty()) return std::nullopt;
        submit_calls(*task, std::move(args), std::move(sinks));
      }
      Future<R> f = std::move(cursor->ready.front());
      cursor->ready.pop_front();
      return f;
    };
    std::deque<Future<R>> pending;
    const std::size_t ahead = options.buffersize.value_or(SIZE_MAX);
    while (pending.size() < ahead) {
      auto f = refill();
      if (!f) return MapResults<R>(std::move(pending), nullptr, deadline);
      pending.push_back(std::move(*f));
    }
    return MapResults<R>(std::move(pending), std::move(refill), deadline);
  }

  /// Python's shutdown(wait=True, cancel_futures=False). No new calls are accepted; with
  /// cancel_futures, queued calls are cancelled and workers still running after shutdown_grace are
  /// killed. With wait, blocks until every call is done and every worker has exited and been
  /// reaped (no zombie). Idempotent; callable from any thread except the pool's manager (a done
  /// callback), where it does not wait.
  void shutdown(ShutdownOptions options = {}) override;

  /// The number of worker processes the pool runs at most.
  std::size_t max_workers() const noexcept;
  /// The pids of the live workers (a snapshot, for tests and monitoring).
  std::vector<int> worker_pids() const;

 private:
  void submit_calls(const std::string& name, std::vector<std::string> args, detail::ProcessSinks sinks);

  std::unique_ptr<detail::ProcessPoolCore> core_;
};

}  // namespace concur::futures
