"""The seeds' RC4 experiment (Fluent Python's arcfour_futures): 10 byte arrays of 149-384 KB made,
encrypted and decrypted with a pure-Python RC4 in N worker processes, and checked."""
import sys
import time
from concurrent import futures
from random import randrange

JOBS = 10
SIZE = 2**18
KEY = b"'Twas brillig, and the slithy toves"


def arcfour(key, in_bytes, loops=20):
    kbox = bytearray(256)
    for i, car in enumerate(key):
        kbox[i] = car
    j = len(key)
    for i in range(j, 256):
        kbox[i] = kbox[i - j]
    sbox = bytearray(range(256))
    j = 0
    for k in range(loops):
        for i in range(256):
            j = (j + sbox[i] + kbox[i]) % 256
            sbox[i], sbox[j] = sbox[j], sbox[i]
    i = 0
    j = 0
    out_bytes = bytearray()
    for car in in_bytes:
        i = (i + 1) % 256
        j = (j + sbox[i]) % 256
        sbox[i], sbox[j] = sbox[j], sbox[i]
        t = (sbox[i] + sbox[j]) % 256
        out_bytes.append(car ^ sbox[t])
    return out_bytes


def crypto_process(size, key):
    in_text = bytearray(randrange(256) for i in range(size))
    cypher_text = arcfour(key, in_text)
    out_text = arcfour(key, cypher_text)
    assert in_text == out_text, "Failed arcfour_test"
    return size


def main(workers):
    start = time.perf_counter()
    with futures.ProcessPoolExecutor(workers) as executor:
        to_do = []
        for i in range(JOBS, 0, -1):
            size = SIZE + int(SIZE / JOBS * (i - JOBS / 2))  # 149-384 KB, as in the seeds
            to_do.append(executor.submit(crypto_process, size, KEY))
        for f in futures.as_completed(to_do):
            f.result()
    print(f"rc4 {workers} {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
