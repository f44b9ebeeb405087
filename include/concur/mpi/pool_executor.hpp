// concur/mpi/pool_executor.hpp — mpi4py.futures.MPIPoolExecutor: the futures::Executor interface
// over MPI ranks, for when one machine is not enough. Change the executor's type, launch with
// `mpiexec -n N+1 ./program`, and the same registered tasks run across machines.
//
//   Python (mpi4py.futures)                       concur
//   def gcd(pair): ...                            long gcd(std::pair<long, long> p) { ... }
//                                                 CONCUR_TASK(gcd);          // namespace scope
//   # mpiexec -n 3 python -m mpi4py.futures x.py  int main(int argc, char** argv) {
//                                                   concur::mpi::Runtime mpi(argc, argv);
//   with MPIPoolExecutor() as pool:                 concur::mpi::MPIPoolExecutor pool;
//       f = pool.submit(gcd, (a, b))                auto f = pool.submit(gcd, std::pair{a, b});
//       rs = list(pool.map(gcd, xs, chunksize=8))   for (long r : pool.map(gcd, xs, {.chunksize = 8}))
//
// Tasks are the very registered functions and serialized arguments of ProcessPoolExecutor
// (concur/process/registry.hpp: CONCUR_TASK, CONCUR_EXCEPTION, cereal); a task's exception comes
// back with its type when registered, else as concur::RemoteError. Futures are ordinary
// futures::Future<R>, so futures::wait / as_completed work unchanged.
//
// How it works: the root rank holds the executor; one manager thread owns every MPI call it makes.
// submit() only serializes and enqueues. Each worker has at most 2 messages in flight (one running,
// one queued next to it, so a worker never idles for a round trip); a map chunk (chunksize calls)
// is one message, and its futures share one allocation (a chunk's memory is freed when the last
// of its futures is released). Waits poll (MPI_Iprobe / MPI_Test) with a backoff growing to
// ~1 ms instead of blocking in MPI (Open MPI's blocking calls spin a core, which on an oversubscribed node halves
// the workers' speed). Messages above 1 GiB are sent as several MPI messages (MPI counts are int).
//
// Start-up handshake: the manager greets every worker with the protocol version, the data model
// (byte order, sizes of long, pointers and long double: cereal writes them raw), the sorted
// names of the registered tasks (process::registered_task_names(), with a hash of all of it)
// and the initializer's name; each worker compares them with its own, runs the initializer and
// answers. A worker whose build registers other tasks (the message names the tasks only one side
// has), speaks another protocol or data model, a failing or unregistered initializer, or a worker
// that does not answer within handshake_timeout breaks the executor: every future fails with
// futures::BrokenExecutor carrying the reason, and submit() then throws it. bootup() waits for
// the handshake and throws that error at once. (Two builds with the same task names but
// different argument types are not detected: keep the ranks on one build.)
//
// When a rank dies (crash, signal, OOM kill), MPI aborts the whole job — the root program
// included: MPI offers no recovery from a lost rank. Use futures::ProcessPoolExecutor when tasks
// may crash: it isolates each worker process and fails only the call that was running.
//
// Differences from mpi4py, deliberate: the executor never spawns workers itself; it uses the
// non-root ranks of an existing communicator (MPI_COMM_WORLD by default, or any communicator you
// pass with .comm, whose other ranks call concur::mpi::serve()). Spawning is an opt-in, detected
// at run time and never required: concur::mpi::spawn_workers(n) (concur/mpi/runtime.hpp) returns
// a communicator of n spawned copies of the program to pass as .comm, or throws RuntimeError
// where the MPI cannot spawn (MPICH 4.0 may refuse; clusters often disable it). One
// executor at a time per communicator. map() takes one range; buffersize counts items.
//
// Thread-safety: submit(), map() and shutdown() may be called from any thread. Futures complete
// on the manager thread (done callbacks run there: keep them short).
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/mpi_batch.hpp"
#include "concur/error.hpp"
#include "concur/futures/executor.hpp"
#include "concur/futures/future.hpp"
// wait.hpp before process_pool.hpp: wait.hpp names concur::detail types as `detail::...` from
// inside concur::futures, which process_pool.hpp's concur::futures::detail would shadow.
#include "concur/futures/wait.hpp"
#include "concur/futures/process_pool.hpp"  // futures::detail::as_param
#include "concur/process/registry.hpp"
#include "concur/timeout.hpp"

namespace concur::mpi {

/// MPIPoolExecutor's keywords, in mpi4py's order; concur's extras last.
struct MPIPoolOptions {
  /// Worker ranks to use; default: every rank of `comm` but the root.
  std::optional<std::size_t> max_workers = std::nullopt;
  /// A registered (CONCUR_TASK) function each worker runs once at start-up. If it throws on any
  /// worker, the executor is broken (BrokenExecutor naming the rank and the exception).
  void (*initializer)() = nullptr;
  // ---- concur extras ----
  /// The communicator whose non-root ranks serve (they run Runtime or serve(comm, root)).
  MPI_Comm comm = MPI_COMM_WORLD;
  /// The rank of `comm` that holds the executor (this process).
  int root = 0;
  /// A worker that has not answered the handshake within this time breaks the executor.
  std::chrono::duration<double> handshake_timeout = std::chrono::seconds(60);
};

namespace detail {
class MPIPoolCore;  // src/mpi/pool_executor.cpp
}

/// mpi4py.futures.MPIPoolExecutor over the ranks of a communicator; see the file comment.
class MPIPoolExecutor final : public futures::Executor {
 public:
  /// Starts the manager thread, which runs the handshake. Throws RuntimeError if MPI is not
  /// initialized with at least MPI_THREAD_SERIALIZED (use concur::mpi::Runtime) or if this rank
  /// is not the root; ValueError if there is no worker rank, max_workers is 0 or too large, or the
  /// initializer is not registered. Never blocks on the workers.
  explicit MPIPoolExecutor(MPIPoolOptions options = {});
  /// shutdown(wait=true).
  ~MPIPoolExecutor() override;
  MPIPoolExecutor(const MPIPoolExecutor&) = delete;
  MPIPoolExecutor& operator=(const MPIPoolExecutor&) = delete;

  /// Schedules fn(args...) on a worker rank. fn must be registered (CONCUR_TASK), else ValueError.
  /// Arguments are converted and serialized now, in the calling thread. Throws RuntimeError after
  /// shutdown(), futures::BrokenExecutor if the executor is broken. Never blocks.
  template <class R, class... P, class... A>
  futures::Future<R> submit(R (*fn)(P...), A&&... args) {
    process::detail::check_task_signature<R, P...>();
    static_assert(sizeof...(A) == sizeof...(P), "submit(): wrong number of arguments for the task");
    static_assert((std::is_constructible_v<std::decay_t<P>, A&&> && ...),
                  "submit(): an argument does not convert to the task's parameter type");
    const std::string& name = process::task_name(process::detail::fn_address(fn));
    const std::uint64_t id = next_call_id();
    std::string frame;
    detail::CallFrameWriter writer(frame, id, name, 1, 16);
    writer.add(futures::detail::as_param<std::decay_t<P>>(std::forward<A>(args))...);
    writer.finish();
    auto batch = std::make_unique<detail::TypedBatch<R>>(1);
    futures::Future<R> f = batch->future(0);
    submit_batch(id, std::move(frame), std::move(batch));
    return f;
  }

  /// Python's map(fn, iterable, timeout=, chunksize=, buffersize=): fn(x) for each x of `range`,
  /// `chunksize` calls per message, results yielded lazily in input order. Without buffersize
  /// every call is submitted now; with it, at most that many items run ahead of the consumer.
  /// Throws ValueError for chunksize or buffersize 0.
  template <class R, class P, class Range>
  futures::MapResults<R> map(R (*fn)(P), Range&& range, futures::MapOptions options = {}) {
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
      std::vector<futures::Future<R>> ready;  // the last chunk's futures, handed out from `next`
      std::size_t next = 0;
      explicit Cursor(View v) : view(std::move(v)), it(std::ranges::begin(view)) {}
    };
    auto cursor = std::make_shared<Cursor>(std::views::all(std::forward<Range>(range)));
    const std::size_t chunksize = options.chunksize;
    constexpr std::size_t kArgBytes = std::is_arithmetic_v<Arg> ? sizeof(Arg) : 16;
    auto refill = [this, cursor, chunksize, &name]() -> std::optional<futures::Future<R>> {
      if (cursor->next == cursor->ready.size()) {
        if (cursor->it == std::ranges::end(cursor->view)) return std::nullopt;
        // One message per chunk: encode the calls straight into the frame, then one batch of
        // futures for them (one allocation for the chunk's shared states).
        const std::uint64_t id = next_call_id();
        std::string frame;
        detail::CallFrameWriter writer(frame, id, name, chunksize, kArgBytes);
        for (; writer.calls() < chunksize && cursor->it != std::ranges::end(cursor->view); ++cursor->it) {
          writer.add(futures::detail::as_param<Arg>(*cursor->it));
        }
        writer.finish();
        auto batch = std::make_unique<detail::TypedBatch<R>>(writer.calls());
        cursor->ready.clear();
        cursor->next = 0;
        for (std::size_t i = 0; i < batch->size(); ++i) cursor->ready.push_back(batch->future(i));
        submit_batch(id, std::move(frame), std::move(batch));
      }
      return std::move(cursor->ready[cursor->next++]);
    };
    std::deque<futures::Future<R>> pending;
    const std::size_t ahead = options.buffersize.value_or(SIZE_MAX);
    while (pending.size() < ahead) {
      auto f = refill();
      if (!f) return futures::MapResults<R>(std::move(pending), nullptr, deadline);
      pending.push_back(std::move(*f));
    }
    return futures::MapResults<R>(std::move(pending), std::move(refill), deadline);
  }

  /// Python's shutdown(wait=True, cancel_futures=False). No new calls are accepted; with
  /// cancel_futures, calls not yet sent to a worker are cancelled (calls already sent finish).
  /// With wait, blocks until every call is done and the workers are released (they go back to
  /// serving the next executor). Idempotent; from a done callback it does not wait.
  void shutdown(futures::ShutdownOptions options = {}) override;

  /// mpi4py's bootup(): waits for the start-up handshake. Throws futures::BrokenExecutor with
  /// the reason if it failed.
  void bootup();

  /// The number of worker ranks.
  std::size_t num_workers() const noexcept;

 private:
  /// A fresh correlation id for a Call message.
  std::uint64_t next_call_id() noexcept;
  /// Queues one Call message (its bytes, with correlation id `id`) and its futures. Throws
  /// RuntimeError after shutdown(), futures::BrokenExecutor when broken (the batch's futures
  /// then fail too, but nobody holds them).
  void submit_batch(std::uint64_t id, std::string frame, std::unique_ptr<detail::CallBatch> batch);

  std::unique_ptr<detail::MPIPoolCore> core_;
};

}  // namespace concur::mpi
