#!/usr/bin/env python3
"""CPython's side of bench/queue: the same workloads as queue_bench.cpp, with queue.Queue.

Prints one line per workload: `<name> <median-value> <unit>` (items/s or µs per round trip).
Run by queue_bench (the C++ driver) or by hand: python3 queue_bench.py --items 200000 --reps 5
"""
import argparse
import queue
import statistics
import threading
import time


def throughput(producers, consumers, items, maxsize):
    q = queue.Queue(maxsize)
    per_p = items // producers
    per_c = items // consumers

    def produce():
        put = q.put
        for i in range(per_p):
            put(i)

    def consume():
        get = q.get
        for _ in range(per_c):
            get()

    threads = [threading.Thread(target=produce) for _ in range(producers)]
    threads += [threading.Thread(target=consume) for _ in range(consumers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return items / (time.perf_counter() - t0)


def ping_pong(rounds):
    ping, pong = queue.Queue(), queue.Queue()

    def echo():
        for _ in range(rounds):
            pong.put(ping.get())

    t = threading.Thread(target=echo)
    t.start()
    t0 = time.perf_counter()
    for i in range(rounds):
        ping.put(i)
        pong.get()
    elapsed = time.perf_counter() - t0
    t.join()
    return elapsed / rounds * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    med = statistics.median
    print("spsc", med(throughput(1, 1, a.items, 1024) for _ in range(a.reps)), "items/s", flush=True)
    print("mpmc", med(throughput(2, 2, a.items, 1024) for _ in range(a.reps)), "items/s", flush=True)
    print("pingpong", med(ping_pong(a.rounds) for _ in range(a.reps)), "us", flush=True)


if __name__ == "__main__":
    main()
