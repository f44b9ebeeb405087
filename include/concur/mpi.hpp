// concur/mpi.hpp — mpi4py.futures for C++: MPIPoolExecutor and the Runtime guard (target
// concur::mpi, built with -DCONCUR_WITH_MPI=ON).
#pragma once

#include "concur/mpi/pool_executor.hpp"
#include "concur/mpi/runtime.hpp"
