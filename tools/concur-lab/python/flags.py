"""Seed 000 (Fluent Python ch. 17: flags.py, flags_threadpool.py, flags2 with errors and a
progress bar): download 20 flags from concur-lab's local server — sequentially, with
ThreadPoolExecutor(20), with ProcessPoolExecutor, and with asyncio coroutines (stdlib streams in
place of aiohttp)."""
import asyncio
import hashlib
import sys
import time
import urllib.error
import urllib.request
from concurrent import futures

from common import emit, parser

POP20_CC = "CN IN US ID BR PK NG BD RU JP MX PH VN ET EG DE IR TR CD FR".split()
MAX_WORKERS = 20
BASE_URL = None


def get_flag(cc):
    url = f"{BASE_URL}/{cc.lower()}/{cc.lower()}.gif"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return 200, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def download_one(cc):
    try:
        return cc, *get_flag(cc)
    except OSError:
        return cc, -1, b""


class Progress:
    """A tqdm-like bar on stderr (concur-lab captures it)."""

    def __init__(self, total):
        self.total, self.done = total, 0

    def update(self):
        self.done += 1
        sys.stderr.write(f"\r[{'#' * self.done}{'.' * (self.total - self.done)}] {self.done}/{self.total}")


def tally(results):
    got = {cc: body for cc, status, body in results if status == 200}
    not_found = sum(1 for _, status, _ in results if status == 404)
    errors = sum(1 for _, status, _ in results if status not in (200, 404))
    blob = b"".join(got[cc] for cc in sorted(got))
    return (f"{len(got)} ok, {not_found} not found, {errors} errors, {len(blob)} bytes, "
            f"sha {hashlib.sha256(blob).hexdigest()[:16]}")


async def get_flag_async(cc, host, port, path):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path}/{cc.lower()}/{cc.lower()}.gif HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    return cc, int(head.split()[1]), body


async def download_many_async(cc_list, progress):
    _, rest = BASE_URL.split("://", 1)
    hostport, path = rest.split("/", 1)
    host, port = hostport.split(":")

    async def one(cc):
        try:
            r = await get_flag_async(cc, host, int(port), "/" + path)
        except OSError:
            r = (cc, -1, b"")
        progress.update()
        return r

    return await asyncio.gather(*(one(cc) for cc in cc_list))


def main():
    global BASE_URL
    p = parser(["sequential", "threadpool", "processpool", "asyncio"])
    p.add_argument("--url", required=True)
    args = p.parse_args()
    BASE_URL = args.url
    progress = Progress(len(POP20_CC))
    t0 = time.time()
    if args.strategy == "sequential":
        results = []
        for cc in sorted(POP20_CC):
            results.append(download_one(cc))
            progress.update()
    elif args.strategy in ("threadpool", "processpool"):
        if args.strategy == "threadpool":
            executor = futures.ThreadPoolExecutor(min(MAX_WORKERS, len(POP20_CC)))
        else:
            executor = futures.ProcessPoolExecutor(args.workers, initializer=_set_url, initargs=(BASE_URL,))
        with executor:
            to_do = [executor.submit(download_one, cc) for cc in sorted(POP20_CC)]
            results = []
            for future in futures.as_completed(to_do):
                results.append(future.result())
                progress.update()
    else:
        results = asyncio.run(download_many_async(POP20_CC, progress))
    elapsed = time.time() - t0
    emit(elapsed, tally(results))


def _set_url(url):
    global BASE_URL
    BASE_URL = url


if __name__ == "__main__":
    main()
