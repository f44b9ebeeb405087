"""CPython asyncio side of bench/asyncio/spawn_bench.cpp.

usage: python3 spawn_asyncio.py gather N   -> N tasks, each `await asyncio.sleep(0)`, gathered
       python3 spawn_asyncio.py sleep N    -> N concurrent `await asyncio.sleep(0.1)`, gathered
Prints: <ns per task or total seconds> <peak RSS bytes per task> [<ns per task, second run>]
(gather mode runs the workload a second time in the same process, memory recycled)
"""
import asyncio
import resource
import sys
import time


def rss_now():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def one_yield():
    await asyncio.sleep(0)


async def one_sleep():
    await asyncio.sleep(0.1)


async def main(mode, n):
    coro = one_yield if mode == "gather" else one_sleep
    t0 = time.perf_counter()
    await asyncio.gather(*[coro() for _ in range(n)])
    return time.perf_counter() - t0


if __name__ == "__main__":
    mode, n = sys.argv[1], int(sys.argv[2])
    base = rss_now()
    dt = asyncio.run(main(mode, n))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    value = dt * 1e9 / n if mode == "gather" else dt
    if mode == "gather":
        warm = asyncio.run(main(mode, n)) * 1e9 / n
        print(f"{value:.6f} {(peak - base) / n:.1f} {warm:.6f}")
    else:
        print(f"{value:.6f} {(peak - base) / n:.1f}")
