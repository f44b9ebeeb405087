"""Seed 002 §37 / 004 §53: slow system calls (select for 0.1 s) in sequence, in threads, in a
thread pool and as coroutines; and the seeds' Linux variant that does not block at all."""
import asyncio
import select
import socket
from concurrent.futures import ThreadPoolExecutor
from threading import Thread
from time import time

from common import emit, parser


def slow_systemcall():
    # EMPTY lists: blocks for the whole 0.1 s. (The seeds' select([socket.socket()], [], [], 0.1)
    # returns at once on Linux: an unconnected socket is readable.)
    select.select([], [], [], 0.1)


def timed_systemcall():
    t0 = time()
    slow_systemcall()
    return time() - t0


def blocked_text(durations):
    blocked = sum(1 for d in durations if d >= 0.09)
    if blocked == len(durations):
        return f"{len(durations)}x0.1s"
    return f"only {blocked} of {len(durations)} calls blocked"


async def gather_calls():
    return await asyncio.gather(*(asyncio.to_thread(timed_systemcall) for _ in range(5)))


def main():
    args = parser(["sequential", "threads", "threadpool", "asyncio", "seeds_socket"]).parse_args()
    start = time()
    if args.strategy == "sequential":
        durations = [timed_systemcall() for _ in range(5)]
    elif args.strategy == "threads":
        durations = [0.0] * 5

        def work(k):
            durations[k] = timed_systemcall()

        threads = []
        for k in range(5):
            thread = Thread(target=work, args=(k,))
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
    elif args.strategy == "threadpool":
        with ThreadPoolExecutor(max_workers=5) as pool:
            durations = [f.result() for f in [pool.submit(timed_systemcall) for _ in range(5)]]
    elif args.strategy == "asyncio":
        durations = asyncio.run(gather_calls())
    else:
        s = socket.socket()
        t0 = time()
        select.select([s], [], [], 0.1)
        d = time() - t0
        s.close()
        emit(time() - start, "returned at once" if d < 0.05 else "blocked",
             note=f"returned after {d * 1e3:.2f} ms: an unconnected socket is readable (POLLHUP)")
        return
    emit(time() - start, blocked_text(durations))


if __name__ == "__main__":
    main()
