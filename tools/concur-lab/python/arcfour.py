"""Seed 000 (Fluent Python ch. 17, arcfour_futures.py): pure-Python RC4 encrypt + decrypt of 10
byte arrays, with 1..N workers."""
import hashlib
from concurrent import futures
from time import time

from common import emit, parser, xorshift_bytes

KEY = bytearray(b"concur-lab")


def arcfour(key, in_bytes):
    """RC4: the same call encrypts and decrypts."""
    kbox = bytearray(256)
    for i, car in enumerate(key):
        kbox[i] = car
    j = len(key)
    for i in range(j, 256):
        kbox[i] = kbox[i - j]
    sbox = bytearray(range(256))
    j = 0
    for i in range(256):
        j = (j + sbox[i] + kbox[i]) % 256
        sbox[i], sbox[j] = sbox[j], sbox[i]
    i = j = 0
    out_bytes = bytearray()
    for car in in_bytes:
        i = (i + 1) % 256
        j = (j + sbox[i]) % 256
        sbox[i], sbox[j] = sbox[j], sbox[i]
        k = sbox[(sbox[i] + sbox[j]) % 256]
        out_bytes.append(car ^ k)
    return out_bytes


def arcfour_test(job, size):
    in_text = xorshift_bytes(2000 + job, size)
    cypher_text = arcfour(KEY, in_text)
    out_text = arcfour(KEY, cypher_text)
    assert in_text == out_text, "Failed arcfour_test"
    return hashlib.sha256(cypher_text).hexdigest()


def sizes(quick, seeds_size):
    scale = 1 / 32 if quick else 1 if seeds_size else 1 / 4
    return [int((149 + (384 - 149) * k / 9.0) * 1024 * scale) for k in range(10)]


def main():
    args = parser(["sequential", "threadpool", "processpool"]).parse_args()
    jobs = sizes(args.quick, args.seeds_size)
    t0 = time()
    if args.strategy == "sequential":
        digests = [arcfour_test(j, size) for j, size in enumerate(jobs)]
    else:
        cls = futures.ThreadPoolExecutor if args.strategy == "threadpool" else futures.ProcessPoolExecutor
        with cls(args.workers) as executor:
            to_do = [executor.submit(arcfour_test, j, size) for j, size in enumerate(jobs)]
            digests = [f.result() for f in to_do]
    elapsed = time() - t0
    emit(elapsed, hashlib.sha256("".join(digests).encode()).hexdigest()[:32])


if __name__ == "__main__":
    main()
