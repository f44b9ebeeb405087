// concur/mpi/runtime.hpp — the one line at the top of main() that turns `mpiexec -n N+1 ./program`
// into "rank 0 runs the program, ranks 1..N serve tasks" (mpi4py's `python -m mpi4py.futures`
// and MPICommExecutor model). Spawning workers (MPI_Comm_spawn) is an opt-in: spawn_workers() below.
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
// Spawned workers (opt-in, where the MPI supports it): spawn_workers(n) starts n more copies of
// this program with MPI_Comm_spawn and returns a communicator (root 0 = this process) to pass as
// MPIPoolExecutor's .comm. In those copies the same Runtime line sees MPI_Comm_get_parent() !=
// MPI_COMM_NULL, serves the parent's executors on the merged communicator, and exits with status
// 0 when the parent destroys its SpawnedWorkers (before its own Runtime: declare it after).
//
//   concur::mpi::Runtime mpi(argc, argv);                 // spawned copies serve here, then exit
//   auto workers = concur::mpi::spawn_workers(2);          // throws RuntimeError if MPI cannot
//   concur::mpi::MPIPoolExecutor pool({.comm = workers.comm()});
//
// Nothing in concur needs spawning: many clusters disable it, and an MPI may not offer it at all
// (MPICH 4.0 may refuse). Whether it works is detected at run time, by the error MPI_Comm_spawn
// returns: spawn_workers() then throws concur::RuntimeError naming MPI's error (and
// MPI_UNIVERSE_SIZE) instead of aborting (MPI_ERRORS_RETURN on MPI_COMM_SELF around the call).
// What it cannot catch are failures the MPI handles by itself: Open MPI 4.1's mpiexec aborts the
// whole job when the program cannot be started, or when the spawned processes cannot reach the
// parent — Open MPI needs free or oversubscribable slots, and a BTL that connects two jobs (tcp;
// with the shared-memory BTL alone, OMPI_MCA_btl=self,vader, they fail "Unreachable" in MPI_Init).
// Launching with `mpiexec -n N+1` needs none of it.
//
// Threading: MPI is initialized with MPI_THREAD_SERIALIZED; concur calls MPI only from one
// thread at a time (a process-wide lock; in practice each executor's manager thread). Code of your
// own that calls MPI while an executor lives must take mpi_lock() around its calls, or initialize
// MPI itself with MPI_THREAD_MULTIPLE.
#pragma once

#include <mpi.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace concur::mpi {

/// Runtime's keywords.
struct RuntimeOptions {
  int root = 0;        ///< the rank of MPI_COMM_WORLD that runs the program
  bool serve = true;   ///< non-root ranks serve MPIPoolExecutor calls and exit (false: return)
};

/// RAII guard for MPI and the worker ranks; see the file comment. Not copyable or movable.
/// In a process started by spawn_workers() (MPI_Comm_get_parent() is not MPI_COMM_NULL) and with
/// .serve, the constructor serves the parent's executors and exits the process (status 0) when
/// the parent's SpawnedWorkers is destroyed; without .serve it returns like on any rank.
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

/// spawn_workers()' keywords (mpi4py's MPIPoolExecutor spawns with python_exe, python_args and
/// mpi_info; these are the same for a C++ program).
struct SpawnOptions {
  /// The program to start; default: this program's executable (/proc/self/exe, else the argv[0]
  /// the Runtime saw). It must be the same build and run a Runtime first thing in main().
  std::string command = {};
  /// Its arguments; default: the arguments this Runtime saw (after MPI_Init took its own).
  std::optional<std::vector<std::string>> args = std::nullopt;
  /// Passed to MPI_Comm_spawn (e.g. "host", "wdir"); not freed.
  MPI_Info info = MPI_INFO_NULL;
};

/// Workers started by spawn_workers(): owns the communicator made of this process (rank 0) and
/// the spawned ones (ranks 1..size()), and the intercommunicator under it. Movable, not copyable.
/// Destruction releases the workers (they leave their serve loop and exit), frees the merged
/// communicator and disconnects from them (MPI_Comm_disconnect, which waits for every worker to
/// disconnect too). Destroy every executor over comm() first, and this before the Runtime.
class SpawnedWorkers {
 public:
  SpawnedWorkers(SpawnedWorkers&& other) noexcept;
  SpawnedWorkers& operator=(SpawnedWorkers&& other) noexcept;
  SpawnedWorkers(const SpawnedWorkers&) = delete;
  SpawnedWorkers& operator=(const SpawnedWorkers&) = delete;
  ~SpawnedWorkers();

  /// The merged communicator (this process is rank 0): MPIPoolExecutor's .comm (.root = 0).
  MPI_Comm comm() const noexcept { return merged_; }
  /// The number of spawned workers.
  int size() const noexcept { return size_; }

 private:
  friend SpawnedWorkers spawn_workers(int, SpawnOptions);
  SpawnedWorkers(MPI_Comm inter, MPI_Comm merged, int size) noexcept
      : inter_(inter), merged_(merged), size_(size) {}
  void release() noexcept;

  MPI_Comm inter_ = MPI_COMM_NULL;
  MPI_Comm merged_ = MPI_COMM_NULL;
  int size_ = 0;
};

/// Opt-in: starts `n` workers with MPI_Comm_spawn (from this process alone, MPI_COMM_SELF) and
/// returns them merged with this process into one communicator. Blocks until they have started
/// (MPI_Init in each) — seconds, not milliseconds. Throws ValueError if n < 1, RuntimeError if MPI
/// is not initialized, or if the MPI cannot spawn them here (the message names MPI's error and
/// MPI_UNIVERSE_SIZE); the job goes on either way. Thread-safe (takes mpi_lock()).
SpawnedWorkers spawn_workers(int n, SpawnOptions options = {});

/// The process-wide lock concur holds around each MPI call (MPI_THREAD_SERIALIZED discipline).
std::mutex& mpi_lock() noexcept;

}  // namespace concur::mpi
