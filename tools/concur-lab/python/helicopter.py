"""Seed 002 §37: compute the helicopter's next move while threads do the blocking I/O."""
import select
from concurrent.futures import ThreadPoolExecutor
from threading import Thread
from time import time

from common import emit, parser


def slow_systemcall():
    select.select([], [], [], 0.1)


def timed_systemcall():
    t0 = time()
    slow_systemcall()
    return time() - t0


def compute_helicopter_location(index):
    # The seeds leave this as `...`; the same fixed arithmetic as the C++ side.
    acc = 0
    for k in range(200000):
        acc = (acc + k * (index + 1)) % 1000003
    return acc


def text(locs, io):
    blocked = sum(1 for d in io if d >= 0.09)
    io_text = f"{len(io)}x0.1s" if blocked == len(io) else f"only {blocked} of {len(io)} calls blocked"
    return ",".join(str(x) for x in locs) + ";" + io_text


def main():
    args = parser(["sequential", "threads", "threadpool"]).parse_args()
    start = time()
    if args.strategy == "sequential":
        io = [timed_systemcall() for _ in range(5)]
        locs = [compute_helicopter_location(i) for i in range(5)]
    elif args.strategy == "threads":
        io = [0.0] * 5

        def work(k):
            io[k] = timed_systemcall()

        threads = []
        for k in range(5):
            thread = Thread(target=work, args=(k,))
            thread.start()
            threads.append(thread)
        locs = [compute_helicopter_location(i) for i in range(5)]
        for thread in threads:
            thread.join()
    else:
        with ThreadPoolExecutor(max_workers=5) as pool:
            fs = [pool.submit(timed_systemcall) for _ in range(5)]
            locs = [compute_helicopter_location(i) for i in range(5)]
            io = [f.result() for f in fs]
    emit(time() - start, text(locs, io))


if __name__ == "__main__":
    main()
