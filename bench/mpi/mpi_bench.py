"""mpi4py.futures twin of mpi_bench.cpp: map(inc, range(N)) at chunksize 1 and 100, medians.

    mpiexec -n 3 python3 -m mpi4py.futures bench/mpi/mpi_bench.py [--tasks N] [--runs R] [--warmup W]
(chunksize 100 runs 10 N tasks; W unmeasured runs first, as mpi_bench.cpp)
"""
import argparse
import statistics
import time

from mpi4py.futures import MPIPoolExecutor


def inc(x):
    return x + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=0)
    a = ap.parse_args()
    with MPIPoolExecutor() as pool:
        pool.bootup()
        for chunksize in (1, 100):
            n = a.tasks if chunksize == 1 else 10 * a.tasks
            rates = []
            for r in range(-a.warmup, a.runs):
                t0 = time.perf_counter()
                total = sum(pool.map(inc, range(n), chunksize=chunksize))
                s = time.perf_counter() - t0
                assert total == n * (n + 1) // 2
                if r >= 0:
                    rates.append(n / s)
            print(f"chunksize{chunksize} {statistics.median(rates):.0f}", flush=True)
        print(f"# {a.tasks} tasks (x10 at chunksize 100), median of {a.runs} runs after {a.warmup} warm-up")


if __name__ == "__main__":
    main()
