// concur::mpi::Runtime with {.serve = false} and concur::mpi::serve(): an MPIPoolExecutor over a
// communicator the program builds itself (here: world rank 0 with the last world rank; any rank
// in between takes no part). A plain MPI program run by CTest through mpiexec; non-zero exit on
// failure.
#include "concur/mpi/runtime.hpp"

#include <cstdio>
#include <vector>

#include "concur/mpi/pool_executor.hpp"
#include "mpi_check.hpp"

namespace {

int world_rank(int offset) {
  int r = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);  // tasks run on the worker's MPI thread: MPI calls are fine
  return r + offset;
}
CONCUR_TASK(world_rank);


}  // namespace

int main(int argc, char** argv) {
  concur::mpi::Runtime mpi(argc, argv, {.serve = false});  // every rank returns
  const int last = mpi.size() - 1;
  const bool member = mpi.rank() == 0 || mpi.rank() == last;
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, member ? 0 : MPI_UNDEFINED, mpi.rank(), &comm);
  if (mpi.rank() == 0) {
    {
      concur::mpi::MPIPoolExecutor pool({.comm = comm, .root = 0});
      CHECK(pool.num_workers() == 1);
      CHECK(pool.submit(world_rank, 1000).result() == 1000 + last);
      std::vector<int> offsets{1, 2, 3};
      int i = 0;
      for (int r : pool.map(world_rank, offsets, {.chunksize = 2})) CHECK(r == offsets[i++] + last);
    }
    std::printf("%s (%d failures, %d ranks)\n", failures ? "FAILED" : "OK", failures, mpi.size());
  } else if (member) {
    concur::mpi::serve(comm, 0);  // returns when the root's executor shuts down
  }
  if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  int ok = failures == 0;
  int all = 0;
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all ? 0 : 1;
}
