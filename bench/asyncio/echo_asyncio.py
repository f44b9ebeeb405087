#!/usr/bin/env python3
"""TCP echo on loopback with CPython asyncio streams: the rival of bench/asyncio/echo_bench.

One thread, one event loop: a server (start_server) and C client connections (open_connection),
each doing R round trips of S bytes (write + drain + readexactly on the client; read + write +
drain on the server). Prints one line: `round_trips_per_s <float>`.
Usage: echo_asyncio.py [connections=50] [round_trips=2000] [size=64]
"""
import asyncio
import sys
import time


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def client(port, round_trips, size):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    msg = b"x" * size
    for _ in range(round_trips):
        writer.write(msg)
        await writer.drain()
        await reader.readexactly(size)
    writer.close()
    await writer.wait_closed()


async def main(connections, round_trips, size):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    await asyncio.gather(*(client(port, round_trips, size) for _ in range(connections)))
    elapsed = time.perf_counter() - start
    server.close()
    await server.wait_closed()
    return connections * round_trips / elapsed


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    c, r, s = (args + [50, 2000, 64][len(args):])[:3]
    print(f"round_trips_per_s {asyncio.run(main(c, r, s)):.1f}")
