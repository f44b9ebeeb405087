"""The seeds' gcd program (Effective Python §64) with ProcessPoolExecutor(max_workers=N)."""
import sys
import time
from concurrent.futures import ProcessPoolExecutor

NUMBERS = [(1963309, 2265973), (2030677, 3814172), (1551645, 2229620), (2039045, 2020802)]


def gcd(pair):
    a, b = pair
    low = min(a, b)
    for i in range(low, 0, -1):
        if a % i == 0 and b % i == 0:
            return i
    assert False, "unreachable"


def main():
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    start = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=workers)
    results = list(pool.map(gcd, NUMBERS))
    pool.shutdown()
    print(f"gcd {workers} {time.perf_counter() - start:.3f}")
    assert results == [1, 1, 5, 1]


if __name__ == "__main__":
    main()
