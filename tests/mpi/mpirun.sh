#!/bin/sh
# Runs an MPI test program: tests/mpi/mpirun.sh <np> <program> [args...]
# Brings the loopback interface up when a sandbox left it down (Open MPI needs it even on one
# node), then execs mpiexec ($MPIEXEC, default mpiexec). The Open MPI settings (run as root,
# oversubscribe, shared-memory transport only) come from OMPI_* variables set by CTest.
np=$1
shift
if command -v ip >/dev/null 2>&1 && ! ip link show lo 2>/dev/null | grep -q 'UP'; then
  ip link set lo up 2>/dev/null || echo "mpirun.sh: the loopback interface is down and cannot be raised" >&2
fi
exec "${MPIEXEC:-mpiexec}" -n "$np" "$@"
