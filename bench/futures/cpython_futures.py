"""CPython's side of bench/futures: the same workloads with concurrent.futures.ThreadPoolExecutor.

Prints one JSON object: ns per submit+result task, us per 1,000-task fan-out/fan-in round,
gcd seconds sequential and with 2 workers (threads: the GIL serialises them).
"""
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
N_TASKS = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
GCD_REPEAT = int(sys.argv[3]) if len(sys.argv) > 3 else 1

def trivial(i):
    return i

def submit_result():
    with ThreadPoolExecutor(max_workers=2) as pool:
        t0 = time.perf_counter()
        fs = [pool.submit(trivial, i) for i in range(N_TASKS)]
        total = sum(f.result() for f in fs)
        dt = time.perf_counter() - t0
    assert total == N_TASKS * (N_TASKS - 1) // 2
    return dt / N_TASKS * 1e9

def fan_rounds(rounds=20):
    with ThreadPoolExecutor(max_workers=2) as pool:
        t0 = time.perf_counter()
        for _ in range(rounds):
            fs = [pool.submit(trivial, i) for i in range(1000)]
            wait(fs)
        dt = time.perf_counter() - t0
    return dt / rounds * 1e6

# The seeds' gcd (Effective Python §64): count down from min(a, b).
def gcd(pair):
    a, b = pair
    low = min(a, b)
    for i in range(low, 0, -1):
        if a % i == 0 and b % i == 0:
            return i
    assert False, 'Not reachable'

NUMBERS = [(1963309, 2265973), (2030677, 3814172), (1551645, 2229620), (2039045, 2020802)] * GCD_REPEAT

def gcd_sequential():
    t0 = time.perf_counter()
    r = list(map(gcd, NUMBERS))
    return time.perf_counter() - t0, r

def gcd_threads():
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        r = list(pool.map(gcd, NUMBERS))
    return time.perf_counter() - t0, r

out = {
    "submit_result_ns": statistics.median(submit_result() for _ in range(REPEATS)),
    "fanout_round_us": statistics.median(fan_rounds() for _ in range(REPEATS)),
}
seq = [gcd_sequential() for _ in range(3)]
thr = [gcd_threads() for _ in range(3)]
assert all(r == seq[0][1] for _, r in seq + thr)
out["gcd_sequential_s"] = statistics.median(t for t, _ in seq)
out["gcd_threads2_s"] = statistics.median(t for t, _ in thr)
out["gcd_results"] = seq[0][1][:4]
print(json.dumps(out))
