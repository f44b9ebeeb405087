#!/usr/bin/env bash
# ProcessPoolExecutor benchmark, one run: concur vs CPython's concurrent.futures on the same
# workloads, medians and ratios. Usage (from the repository root, after building the release
# preset with the process module):
#   bench/process/run.sh [build-dir]          (default build/release)
# Env: RUNS (overhead medians, default 5), SPEED_RUNS (speedup medians, default 3),
#      CPYTHON_SEEDS=0 to skip the (slow, ~1 min) CPython runs of the seeds' programs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
runs=${RUNS:-5}
speed_runs=${SPEED_RUNS:-3}
bench=$build/bench/process/process_bench
ex=$build/examples/process
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== overheads (medians of $runs runs) =="
"$bench" --runs "$runs" | tee "$out/concur.txt"
python3 "$here/process_bench.py" --runs "$runs" | tee "$out/cpython.txt"

echo "== 2 workers vs 1 (medians of $speed_runs runs; --rounds scales the C++ work to ~1 s) =="
for w in 1 2; do
  for r in $(seq "$speed_runs"); do
    "$ex/process_gcd" --workers $w --rounds 30 | awk -v w=$w '/ProcessPoolExecutor/ {print "gcd", w, $NF=="s" ? $(NF-1) : $NF}'
    "$ex/process_rc4" --workers $w --rounds 10 | awk -v w=$w '{print "rc4", w, $(NF-2)}'
    "$ex/process_sha256" --workers $w --rounds 20 | awk -v w=$w '{print "sha", w, $(NF-4)}'
  done
done | tee "$out/speed.txt"

if [[ "${CPYTHON_SEEDS:-1}" != 0 ]]; then
  echo "== CPython running the seeds' programs (one run each) =="
  for w in 1 2; do
    python3 "$here/seeds_gcd.py" $w
    python3 "$here/seeds_rc4.py" $w
    python3 "$here/seeds_sha.py" $w
  done | tee "$out/seeds.txt"
else
  : > "$out/seeds.txt"
fi

python3 - "$out" <<'PY'
import statistics, sys, os
d = sys.argv[1]
def kv(name):
    r = {}
    for line in open(os.path.join(d, name)):
        k, v, *_ = line.split()
        r[k] = float(v)
    return r
c, p = kv("concur.txt"), kv("cpython.txt")
print("\n| measure | concur | CPython | ratio | goal |")
print("|---|---|---|---|---|")
for k, unit, goal in [("roundtrip_serial", "us/task", "<= 0.20"), ("roundtrip_inflight", "us/task", "<= 0.20")]:
    print(f"| {k} ({unit}) | {c[k]:.1f} | {p[k]:.1f} | {c[k]/p[k]:.3f} | {goal} |")
k = "map_chunk256"
print(f"| {k} (items/s) | {c[k]:,.0f} | {p[k]:,.0f} | {c[k]/p[k]:.2f}x | >= 2x |")
speed = {}
for line in open(os.path.join(d, "speed.txt")):
    n, w, t = line.split()
    speed.setdefault((n, int(w)), []).append(float(t))
seeds = {}
for line in open(os.path.join(d, "seeds.txt")):
    n, w, t = line.split()
    seeds[(n, int(w))] = float(t)
print("\n| workload | concur 1 worker (s) | concur 2 workers (s) | speedup (goal >= 1.85) | CPython seeds 1 w (s) | CPython 2 w (s) |")
print("|---|---|---|---|---|---|")
rounds = {"gcd": 30, "rc4": 10, "sha": 20}
for n in ("gcd", "rc4", "sha"):
    t1 = statistics.median(speed[(n, 1)]); t2 = statistics.median(speed[(n, 2)])
    s1 = seeds.get((n, 1)); s2 = seeds.get((n, 2))
    fmt = lambda x: f"{x:.3f}" if x is not None else "-"
    print(f"| {n} (x{rounds[n]} rounds) | {t1:.3f} | {t2:.3f} | {t1/t2:.2f}x | {fmt(s1)} | {fmt(s2)} |")
PY
