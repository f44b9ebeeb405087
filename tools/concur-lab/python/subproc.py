"""Seed 004 §52: child processes — 10 x `sleep 1` at once, and openssl pipelines fed by pipes."""
import hashlib
import os
import subprocess
import time

from common import emit, parser, xorshift_bytes

PASSWORD = "0&dU%2ccu}9}pa/x|U%20H:dLrXTNR"


def run_encrypt(data):
    env = os.environ.copy()
    env["password"] = PASSWORD
    proc = subprocess.Popen(
        # -pbkdf2 -nosalt: deterministic output that concur-lab can check
        ["openssl", "enc", "-des3", "-pbkdf2", "-nosalt", "-pass", "env:password"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE)
    return proc


def run_hash(input_stdin):
    # The seeds use -whirlpool, which OpenSSL 3 keeps in its legacy provider only.
    return subprocess.Popen(
        ["openssl", "dgst", "-sha512", "-binary"],
        stdin=input_stdin,
        stdout=subprocess.PIPE)


def main():
    p = parser(["fanout", "openssl"])
    p.add_argument("--seconds", default="1")
    args = p.parse_args()
    if args.strategy == "fanout":
        start = time.time()
        sleep_procs = []
        for _ in range(10):
            proc = subprocess.Popen(["sleep", args.seconds])
            sleep_procs.append(proc)
        for proc in sleep_procs:
            proc.communicate()
        delta = time.time() - start
        ok = all(p.returncode == 0 for p in sleep_procs) and delta < 10 * float(args.seconds) * 0.5
        emit(delta, "10 children exited 0, in parallel" if ok else "children failed or ran in sequence", ok=ok)
        return
    size = 4096 if args.quick else 1 << 20
    inputs = [xorshift_bytes(3000 + j, size) for j in range(3)]
    start = time.time()
    encrypt_procs = []
    hash_procs = []
    for data in inputs:
        encrypt_proc = run_encrypt(data)
        encrypt_procs.append(encrypt_proc)
        hash_proc = run_hash(encrypt_proc.stdout)
        hash_procs.append(hash_proc)
        encrypt_proc.stdout.close()
        encrypt_proc.stdout = None
    for proc, data in zip(encrypt_procs, inputs):
        proc.communicate(data, timeout=60)
        assert proc.returncode == 0
    digests = []
    for proc in hash_procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        digests.append(out.hex()[:16])
    emit(time.time() - start, ",".join(digests))


if __name__ == "__main__":
    main()
