"""mpi4py.futures twin of mpi_bench.cpp: map(inc, range(N)) at chunksize 1 and 100, medians.

    mpiexec -n 3 python3 -m mpi4py.futures bench/mpi/mpi_bench.py [--tasks N] [--runs R]
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
    a = ap.parse_args()
    with MPIPoolExecutor() as pool:
        pool.bootup()
        for chunksize in (1, 100):
            rates = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                total = sum(pool.map(inc, range(a.tasks), chunksize=chunksize))
                s = time.perf_counter() - t0
                assert total == a.tasks * (a.tasks + 1) // 2
                rates.append(a.tasks / s)
            print(f"chunksize{chunksize} {statistics.median(rates):.0f}", flush=True)
        print(f"# {pool._pool.size if hasattr(pool, '_pool') and pool._pool else '?'} workers, "
              f"{a.tasks} tasks, median of {a.runs} runs")


if __name__ == "__main__":
    main()
