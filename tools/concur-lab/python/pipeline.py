"""Seed 004 §55: download -> resize -> upload through ClosableQueue and StoppableWorker threads."""
import select
from queue import Queue
from threading import Thread
from time import time

from common import emit, parser


def io():
    select.select([], [], [], 0.0001)  # the stage's blocking I/O, 0.1 ms


def download(item):
    io()
    return (item[0], item[1] + 1)


def resize(item):
    io()
    return (item[0], item[1] + 1)


def upload(item):
    io()
    return (item[0], item[1] + 1)


class ClosableQueue(Queue):
    SENTINEL = object()

    def close(self):
        self.put(self.SENTINEL)

    def __iter__(self):
        while True:
            item = self.get()
            try:
                if item is self.SENTINEL:
                    return
                yield item
            finally:
                self.task_done()


class StoppableWorker(Thread):
    def __init__(self, func, in_queue, out_queue):
        super().__init__()
        self.func = func
        self.in_queue = in_queue
        self.out_queue = out_queue

    def run(self):
        for item in self.in_queue:
            result = self.func(item)
            self.out_queue.put(result)


def text(items):
    all_stages = all(stages == 3 for _, stages in items)
    return f"{len(items)} items, id sum {sum(i for i, _ in items)}" + ("" if all_stages else ", SOME SKIPPED A STAGE")


def main():
    p = parser(["sequential", "queue"])
    p.add_argument("--items", type=int, default=1000)
    args = p.parse_args()
    start = time()
    if args.strategy == "sequential":
        done = [upload(resize(download((i, 0)))) for i in range(args.items)]
    else:
        download_queue = ClosableQueue()
        resize_queue = ClosableQueue()
        upload_queue = ClosableQueue()
        done_queue = ClosableQueue()
        threads = [
            StoppableWorker(download, download_queue, resize_queue),
            StoppableWorker(resize, resize_queue, upload_queue),
            StoppableWorker(upload, upload_queue, done_queue),
        ]
        for thread in threads:
            thread.start()
        for i in range(args.items):
            download_queue.put((i, 0))
        download_queue.close()
        download_queue.join()
        resize_queue.close()
        resize_queue.join()
        upload_queue.close()
        upload_queue.join()
        assert done_queue.qsize() == args.items
        for thread in threads:
            thread.join()
        done = [done_queue.get() for _ in range(done_queue.qsize())]
    emit(time() - start, text(done))


if __name__ == "__main__":
    main()
