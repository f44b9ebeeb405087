"""Seed 003/004 (Effective Python §41/§64): naive gcd, map / ThreadPoolExecutor / ProcessPoolExecutor."""
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from threading import Thread
from time import time

from common import emit, parser


def gcd(pair):
    a, b = pair
    low = min(a, b)
    for i in range(low, 0, -1):
        if a % i == 0 and b % i == 0:
            return i
    assert False, "unreachable"


NUMBERS = [(1963309, 2265973), (2030677, 3814172), (1551645, 2229620), (2039045, 2020802)]


def main():
    global NUMBERS
    args = parser(["sequential", "threads", "threadpool", "processpool"]).parse_args()
    if args.quick:
        NUMBERS = [(a // 8, b // 8) for a, b in NUMBERS]
    start = time()
    if args.strategy == "sequential":
        results = list(map(gcd, NUMBERS))
    elif args.strategy == "threads":
        results = [None] * len(NUMBERS)

        def work(k):
            results[k] = gcd(NUMBERS[k])

        threads = [Thread(target=work, args=(k,)) for k in range(len(NUMBERS))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    elif args.strategy == "threadpool":
        pool = ThreadPoolExecutor(max_workers=args.workers)
        results = list(pool.map(gcd, NUMBERS))
        pool.shutdown()
    else:
        pool = ProcessPoolExecutor(max_workers=args.workers)
        results = list(pool.map(gcd, NUMBERS))
        pool.shutdown()
    end = time()
    emit(end - start, ",".join(str(r) for r in results))


if __name__ == "__main__":
    main()
