#!/usr/bin/env bash
# MPIPoolExecutor benchmark, one run: concur vs mpi4py.futures on trivial tasks (2 worker ranks,
# chunksize 1 and 100), and the seeds' gcd with 1 vs 2 worker ranks beside ProcessPoolExecutor's
# 1 vs 2 workers. Prints medians and ratios. Usage (repository root, release preset built with
# -DCONCUR_WITH_MPI=ON and the futures+process modules):
#   bench/mpi/run.sh [build-dir]          (default build/release)
# Env: RUNS (medians, default 3; the C++ and Python runs alternate so both see the same load),
#      WARMUP (unmeasured runs at the start of each process, default 1, for both: a first run
#      also pays for faulting in fresh memory), TASKS (trivial tasks per C++ run, default 20000; mpi4py runs
#      TASKS/4 since it is slower), ROUNDS (gcd repetitions per item, default 20),
#      PYTHON (an interpreter with mpi4py, default /usr/bin/python3 — Debian's python3-mpi4py),
#      MPIEXEC (default mpiexec).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
runs=${RUNS:-3}
warmup=${WARMUP:-1}
tasks=${TASKS:-20000}
rounds=${ROUNDS:-20}
py=${PYTHON:-/usr/bin/python3}
mpiexec=${MPIEXEC:-mpiexec}
# Single-node Open MPI settings (ignored by MPICH): root allowed, oversubscription, shared memory.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_pml=ob1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== trivial tasks, 2 worker ranks (mpiexec -n 3), tasks/s; concur and mpi4py runs alternate; $warmup warm-up run(s) each =="
for r in $(seq "$runs"); do
  "$mpiexec" -n 3 "$build/bench/mpi/mpi_bench" --tasks "$tasks" --runs 1 --warmup "$warmup" | sed 's/^/concur /' | tee -a "$out/concur.txt"
  "$mpiexec" -n 3 "$py" -m mpi4py.futures "$here/mpi_bench.py" --tasks $((tasks / 4)) --runs 1 --warmup "$warmup" |
    sed 's/^/mpi4py /' | tee -a "$out/mpi4py.txt"
done

echo "== gcd (--rounds $rounds), seconds, medians of $runs runs =="
for r in $(seq "$runs"); do
  for w in 1 2; do
    echo "mpi $w $("$mpiexec" -n $((w + 1)) "$build/examples/mpi/mpi_gcd" --rounds "$rounds" --seconds)"
    if [[ -x "$build/examples/process/process_gcd" ]]; then
      "$build/examples/process/process_gcd" --workers $w --rounds "$rounds" |
        awk -v w=$w '/ProcessPoolExecutor/ {print "process", w, $(NF-1)}'
    fi
  done
done | tee "$out/gcd.txt"

"$py" - "$out" <<'PY'
import os, statistics, sys
d = sys.argv[1]
def rates(name):
    r = {}
    for line in open(os.path.join(d, name)):
        _, k, v, *_ = line.split()
        if k != "#":
            r.setdefault(k, []).append(float(v))
    return {k: statistics.median(v) for k, v in r.items()}
c, p = rates("concur.txt"), rates("mpi4py.txt")
print("\n== summary ==")
for k in ("chunksize1", "chunksize100"):
    print(f"{k:13s} concur {c[k]:>12,.0f} tasks/s   mpi4py.futures {p[k]:>10,.0f} tasks/s   ratio {c[k] / p[k]:6.1f}x")
g = {}
for line in open(os.path.join(d, "gcd.txt")):
    kind, w, s = line.split()
    g.setdefault((kind, int(w)), []).append(float(s))
for kind in ("mpi", "process"):
    if (kind, 1) in g and (kind, 2) in g:
        one, two = statistics.median(g[(kind, 1)]), statistics.median(g[(kind, 2)])
        label = "MPIPoolExecutor" if kind == "mpi" else "ProcessPoolExecutor"
        print(f"gcd {label:20s} 1 worker {one:.3f} s   2 workers {two:.3f} s   speedup {one / two:.2f}x")
PY
