"""Seed 004 §54: a Counter shared by 5 threads loses updates without a Lock."""
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Lock, Thread
from time import time

from common import emit, parser


class Counter:
    def __init__(self):
        self.count = 0

    def increment(self, offset):
        self.count += offset


class LockingCounter:
    def __init__(self):
        self.lock = Lock()
        self.count = 0

    def increment(self, offset):
        with self.lock:
            self.count += offset


def worker(sensor_index, how_many, counter, barrier=None):
    if barrier:
        barrier.wait()
    for _ in range(how_many):
        counter.increment(1)


def main():
    args = parser(["nolock", "lock", "threadpool"]).parse_args()
    how_many = 10**5
    counter = Counter() if args.strategy == "nolock" else LockingCounter()
    start = time()
    if args.strategy == "threadpool":
        with ThreadPoolExecutor(max_workers=5) as pool:
            for f in [pool.submit(worker, i, how_many, counter) for i in range(5)]:
                f.result()
    else:
        barrier = Barrier(5)
        threads = []
        for i in range(5):
            thread = Thread(target=worker, args=(i, how_many, counter, barrier))
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time() - start
    expected = how_many * 5
    found = counter.count
    if args.strategy == "nolock":
        emit(elapsed, found, ok=0 < found <= expected,
             note=f"found {found} of {expected} ({expected - found} updates lost)")
    else:
        emit(elapsed, found, ok=found == expected)


if __name__ == "__main__":
    main()
