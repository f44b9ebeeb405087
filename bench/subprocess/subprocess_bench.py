"""CPython side of subprocess_bench: prints one number.

    python3 subprocess_bench.py spawn N          -> spawns/s of N sequential subprocess.run(["/bin/true"])
    python3 subprocess_bench.py communicate MIB  -> GB/s of MIB MiB through cat with communicate()
"""
import subprocess
import sys
import time


def main():
    what, n = sys.argv[1], int(sys.argv[2])
    if what == "spawn":
        t0 = time.perf_counter()
        for _ in range(n):
            subprocess.run(["/bin/true"], check=True)
        print(n / (time.perf_counter() - t0))
    elif what == "communicate":
        data = bytes(range(256)) * (n << 12)
        t0 = time.perf_counter()
        p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        out, _ = p.communicate(data)
        dt = time.perf_counter() - t0
        assert out == data and p.returncode == 0
        print(len(data) / dt / 1e9)


if __name__ == "__main__":
    main()
