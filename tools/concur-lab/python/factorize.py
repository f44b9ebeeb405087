"""Seed 000/002 (Effective Python §37/§53): factorize with and without threads."""
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from threading import Thread
from time import time

from common import emit, parser


def factorize(number):
    for i in range(1, number + 1):
        if number % i == 0:
            yield i


def factorize_list(number):
    return list(factorize(number))


class FactorizeThread(Thread):
    def __init__(self, number):
        super().__init__()
        self.number = number

    def run(self):
        self.factors = list(factorize(self.number))


numbers = [2139079, 1214759, 1516637, 1852285]


def text(divs):
    return ",".join(f"{n}:{len(d)}/{sum(d)}" for n, d in zip(numbers, divs))


def main():
    global numbers
    args = parser(["sequential", "threads", "threadpool", "processpool"]).parse_args()
    if args.quick:
        numbers = [n // 8 for n in numbers]
    start = time()
    if args.strategy == "sequential":
        divs = [list(factorize(number)) for number in numbers]
    elif args.strategy == "threads":
        threads = []
        for number in numbers:
            thread = FactorizeThread(number)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        divs = [t.factors for t in threads]
    elif args.strategy == "threadpool":
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            divs = list(pool.map(factorize_list, numbers))
    else:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            divs = list(pool.map(factorize_list, numbers))
    end = time()
    emit(end - start, text(divs))


if __name__ == "__main__":
    main()
