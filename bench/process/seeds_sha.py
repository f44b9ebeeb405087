"""The seeds' SHA-256 experiment (Fluent Python's sha_futures): SHA-256 of 10 random 1 MB byte
arrays through hashlib (OpenSSL), in N worker processes."""
import hashlib
import sys
import time
from concurrent import futures
from random import randrange

JOBS = 10
SIZE = 2**20


def sha(size):
    data = bytearray(randrange(256) for i in range(size))
    algo = hashlib.new("sha256")
    algo.update(data)
    return algo.hexdigest()


def main(workers):
    start = time.perf_counter()
    with futures.ProcessPoolExecutor(workers) as executor:
        to_do = [executor.submit(sha, SIZE) for i in range(JOBS)]
        for f in futures.as_completed(to_do):
            f.result()
    print(f"sha {workers} {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
