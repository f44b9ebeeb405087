"""CPython's concurrent.futures.ProcessPoolExecutor on process_bench.cpp's workloads.

Prints `name value unit` lines (medians of --runs runs), as the C++ driver does.
"""
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def trivial(x):
    return x + 1


def median(v):
    return sorted(v)[len(v) // 2]


def main():
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    serial_n = int(sys.argv[sys.argv.index("--serial") + 1]) if "--serial" in sys.argv else 2000
    serial, inflight, mapped = [], [], []
    for _ in range(runs):
        with ProcessPoolExecutor(max_workers=1) as pool:
            pool.submit(trivial, 0).result()
            t0 = time.perf_counter()
            s = sum(pool.submit(trivial, i).result() for i in range(serial_n))
            serial.append((time.perf_counter() - t0) / serial_n * 1e6)
            assert s == serial_n * (serial_n + 1) // 2
        with ProcessPoolExecutor(max_workers=2) as pool:
            pool.submit(trivial, 0).result()
            pool.submit(trivial, 0).result()
            n = 20000
            t0 = time.perf_counter()
            fs = [pool.submit(trivial, i) for i in range(n)]
            s = sum(f.result() for f in fs)
            inflight.append((time.perf_counter() - t0) / n * 1e6)
            assert s == n * (n + 1) // 2
        with ProcessPoolExecutor(max_workers=2) as pool:
            pool.submit(trivial, 0).result()
            n = 100000
            t0 = time.perf_counter()
            s = sum(pool.map(trivial, range(n), chunksize=256))
            mapped.append(n / (time.perf_counter() - t0))
            assert s == n * (n + 1) // 2
    print(f"roundtrip_serial {median(serial):.2f} us/task")
    print(f"roundtrip_inflight {median(inflight):.2f} us/task")
    print(f"map_chunk256 {median(mapped):.0f} items/s")


if __name__ == "__main__":
    main()
