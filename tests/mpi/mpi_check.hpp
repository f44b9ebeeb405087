// The check the MPI tests use: they run under mpiexec, one process per rank, so each rank counts
// its failed checks and its exit status reports them (GoogleTest's runner is not MPI-aware).
#pragma once

#include <cstdio>

namespace {
int failures = 0;  // per test program: failed CHECKs on this rank
}  // namespace

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)
