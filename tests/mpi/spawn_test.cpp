// concur::mpi::spawn_workers(): the opt-in MPI_Comm_spawn path. Run as `mpiexec -n 1` (one
// process): it spawns 2 copies of itself, whose Runtime serves on the merged communicator, and
// runs an executor over them (twice: the workers serve one executor after another), then
// releases them. Also: n < 1 is a ValueError. (Not tested: a program that cannot be started —
// Open MPI 4.1's mpiexec aborts the whole job itself then, before MPI_Comm_spawn returns.)
//
// --expect-spawn-failure: for an MPI that cannot spawn (MPICH 4.0 here, clusters with spawning
// disabled): spawn_workers(2) must throw RuntimeError naming the failure, and the job must go on.
// A plain MPI program run by CTest through mpiexec; non-zero exit on failure.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "concur/error.hpp"
#include "concur/mpi.hpp"
#include "mpi_check.hpp"

namespace {

long square(long x) { return x * x; }
CONCUR_TASK(square);

int pid_of_worker(int) { return static_cast<int>(getpid()); }
CONCUR_TASK(pid_of_worker);

int fails(int x) { throw std::invalid_argument("no " + std::to_string(x)); }
CONCUR_TASK(fails);

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

}  // namespace

int main(int argc, char** argv) {
  concur::mpi::Runtime mpi(argc, argv);  // in a spawned copy: serves the parent, then exits
  const bool expect_failure = argc > 1 && std::strcmp(argv[1], "--expect-spawn-failure") == 0;
  CHECK(mpi.size() == 1);

  try {
    (void)concur::mpi::spawn_workers(0);
    CHECK(!"spawn_workers(0) did not throw");
  } catch (const concur::ValueError&) {
  }

  if (expect_failure) {
    try {
      auto workers = concur::mpi::spawn_workers(2);
      CHECK(!"spawn_workers(2) succeeded where spawning was expected to fail");
    } catch (const concur::RuntimeError& e) {
      std::printf("spawn refused, as expected: %s\n", e.what());
      CHECK(contains(e.what(), "could not spawn 2 workers"));
    }
  } else {
    auto workers = concur::mpi::spawn_workers(2);
    CHECK(workers.size() == 2);
    int comm_size = 0;
    MPI_Comm_size(workers.comm(), &comm_size);
    CHECK(comm_size == 3);
    for (int round = 0; round < 2; ++round) {
      concur::mpi::MPIPoolExecutor pool({.comm = workers.comm()});
      pool.bootup();
      CHECK(pool.num_workers() == 2);
      std::vector<long> xs;
      for (long i = 0; i < 200; ++i) xs.push_back(i - 50);
      long i = 0;
      for (long r : pool.map(square, xs, {.chunksize = 7})) {
        CHECK(r == xs[static_cast<std::size_t>(i)] * xs[static_cast<std::size_t>(i)]);
        ++i;
      }
      CHECK(i == 200);
      const int pid = pool.submit(pid_of_worker, 0).result();
      CHECK(pid != static_cast<int>(getpid()));  // ran in a spawned process
      try {
        pool.submit(fails, 3).result();
        CHECK(!"the task's exception did not come back");
      } catch (const std::exception& e) {
        CHECK(contains(e.what(), "no 3"));
      }
    }
    // Moving the owner keeps one owner: the moved-from one releases nothing.
    concur::mpi::SpawnedWorkers moved = std::move(workers);
    CHECK(moved.size() == 2);
    CHECK(workers.comm() == MPI_COMM_NULL);  // NOLINT(bugprone-use-after-move): checked on purpose
  }

  std::printf("%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
  return failures ? 1 : 0;
}
