// concur/mpi/runtime.hpp — the one line at the top of main() that turns `mpiexec -n N+1 ./program`
// into "rank 0 runs the program, ranks 1..N serve tasks" (mpi4py's `python -m mpi4py.futures`
// and MPICommExecutor model; no MPI_Comm_spawn anywhere).
//
//   int main(int argc, char** argv) {
//     concur::mpi::Runtime mpi(argc, argv);   // on ranks != 0: serves tasks, then exits
//     concur::mpi::MPIPoolExecutor pool;      // rank 0 only from here on
//     ...
//   }
//
// On the root rank the constructor returns at once; on every other rank of MPI_COMM_WORLD it
// serves the executors the root creates (one after another, each with its own handshake and
// initializer) until the root's Runtime is destroyed, then finalizes MPI and exits the process
// with status 0 (it never returns). The root's destructor releases the workers and calls
// MPI_Finalize if this Runtime initialized MPI.
//
// To run executors over another communicator, pass {.serve = false}, build the communicator on
// every rank, then call concur::mpi::serve(comm, root) on the non-root ranks (it returns when the
// root's executor over `comm` has shut down).
//
// Threading: MPI is initialized with MPI_THREAD_SERIALIZED; concur calls MPI only from one
// thread at a time (a process-wide lock; in practice each executor's manager thread). Code of your
// own that calls MPI while an executor lives must take mpi_lock() around its calls, or initialize
// MPI itself with MPI_THREAD_MULTIPLE.
#pragma once

#include <mpi.h>

#include <mutex>

namespace concur::mpi {

/// Runtime's keywords.
struct RuntimeOptions {
  int root = 0;        ///< the rank of MPI_COMM_WORLD that runs the program
  bool serve = true;   ///< non-root ranks serve MPIPoolExecutor calls and exit (false: return)
};

/// RAII guard for MPI and the worker ranks; see the file comment. Not copyable or movable.
class Runtime {
 public:
  /// Initializes MPI (MPI_THREAD_SERIALIZED) unless it already is. Throws concur::RuntimeError if
  /// MPI offers less than MPI_THREAD_SERIALIZED. On a non-root rank with .serve, never returns.
  Runtime(int& argc, char**& argv, RuntimeOptions options = {});
  /// Root: releases the worker ranks (if .serve), then MPI_Finalize if this guard initialized MPI.
  /// Destroy every MPIPoolExecutor first (declare the Runtime first in main()).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// This process's rank in MPI_COMM_WORLD, and the world's size.
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

 private:
  RuntimeOptions options_;
  bool owns_mpi_ = false;
  int rank_ = 0;
  int size_ = 1;
};

/// Serves one MPIPoolExecutor created by rank `root` of `comm`: runs its handshake and calls, and
/// returns when that executor shuts down. Call it on every rank of `comm` except `root`. Blocks
/// (polling with a backoff that grows to ~1 ms, so an idle worker does not spin a core).
void serve(MPI_Comm comm, int root = 0);

/// The process-wide lock concur holds around each MPI call (MPI_THREAD_SERIALIZED discipline).
std::mutex& mpi_lock() noexcept;

}  // namespace concur::mpi
