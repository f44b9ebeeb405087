"""Seed 000 (Fluent Python ch. 17, sha_futures.py): SHA-256 (hashlib/OpenSSL) of 10 generated
byte arrays, with 1..N workers."""
import hashlib
from concurrent import futures
from time import time

from common import emit, parser, xorshift_bytes


def sha(job, size):
    data = xorshift_bytes(1000 + job, size)  # the seeds generate theirs byte by byte too
    algo = hashlib.new("sha256")
    algo.update(data)
    return algo.hexdigest()


def main():
    args = parser(["sequential", "threadpool", "processpool"]).parse_args()
    size = 16 * 1024 if args.quick else 2**20 if args.seeds_size else 256 * 1024
    t0 = time()
    if args.strategy == "sequential":
        digests = [sha(j, size) for j in range(10)]
    else:
        cls = futures.ThreadPoolExecutor if args.strategy == "threadpool" else futures.ProcessPoolExecutor
        with cls(args.workers) as executor:
            to_do = [executor.submit(sha, j, size) for j in range(10)]
            digests = [f.result() for f in to_do]
    elapsed = time() - t0
    emit(elapsed, hashlib.sha256("".join(digests).encode()).hexdigest()[:32])


if __name__ == "__main__":
    main()
