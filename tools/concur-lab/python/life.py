"""Seed 004 §57-§60: Conway's Game of Life where each cell's game_logic does blocking I/O —
thread per cell, a Queue pipeline, a ThreadPoolExecutor, coroutines."""
import asyncio
import hashlib
import select
from concurrent.futures import ThreadPoolExecutor
from queue import Queue
from threading import Lock, Thread
from time import time

from common import emit, parser, peak_vm_kb, xorshift_bytes

ALIVE = "*"
EMPTY = "-"
IO_SECONDS = 0.001


class Grid:
    def __init__(self, height, width):
        self.height = height
        self.width = width
        self.rows = [[EMPTY] * width for _ in range(height)]

    def get(self, y, x):
        return self.rows[y % self.height][x % self.width]

    def set(self, y, x, state):
        self.rows[y % self.height][x % self.width] = state

    def __str__(self):
        return "\n".join("".join(row) for row in self.rows)


class LockingGrid(Grid):
    def __init__(self, height, width):
        super().__init__(height, width)
        self.lock = Lock()

    def __str__(self):
        with self.lock:
            return super().__str__()

    def get(self, y, x):
        with self.lock:
            return super().get(y, x)

    def set(self, y, x, state):
        with self.lock:
            return super().set(y, x, state)


def count_neighbors(y, x, get):
    n = 0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dy or dx) and get(y + dy, x + dx) == ALIVE:
                n += 1
    return n


def rule(state, neighbors):
    if state == ALIVE:
        if neighbors < 2 or neighbors > 3:
            return EMPTY
    elif neighbors == 3:
        return ALIVE
    return state


def game_logic(state, neighbors):
    select.select([], [], [], IO_SECONDS)  # Blocking I/O (the seeds' my_socket.recv(100))
    return rule(state, neighbors)


async def game_logic_async(state, neighbors):
    await asyncio.sleep(IO_SECONDS)  # the seeds' await my_socket.read(50)
    return rule(state, neighbors)


def step_cell(y, x, get, set):
    state = get(y, x)
    neighbors = count_neighbors(y, x, get)
    next_state = game_logic(state, neighbors)
    set(y, x, next_state)


def simulate(grid):
    next_grid = Grid(grid.height, grid.width)
    for y in range(grid.height):
        for x in range(grid.width):
            step_cell(y, x, grid.get, next_grid.set)
    return next_grid


def simulate_threaded(grid):
    next_grid = LockingGrid(grid.height, grid.width)
    threads = []
    for y in range(grid.height):
        for x in range(grid.width):
            args = (y, x, grid.get, next_grid.set)
            thread = Thread(target=step_cell, args=args)
            thread.start()
            threads.append(thread)
    for thread in threads:
        thread.join()
    return next_grid


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


class SimulationError(Exception):
    pass


def game_logic_thread(item):
    y, x, state, neighbors = item
    try:
        next_state = game_logic(state, neighbors)
    except Exception as e:
        next_state = e
    return (y, x, next_state)


def simulate_pipeline(grid, in_queue, out_queue):
    for y in range(grid.height):
        for x in range(grid.width):
            state = grid.get(y, x)
            neighbors = count_neighbors(y, x, grid.get)
            in_queue.put((y, x, state, neighbors))  # fan out
    in_queue.join()
    next_grid = Grid(grid.height, grid.width)
    for _ in range(grid.height * grid.width):  # fan in
        y, x, next_state = out_queue.get()
        if isinstance(next_state, Exception):
            raise SimulationError(y, x) from next_state
        next_grid.set(y, x, next_state)
    return next_grid


def simulate_pool(pool, grid):
    next_grid = LockingGrid(grid.height, grid.width)
    futures = []
    for y in range(grid.height):
        for x in range(grid.width):
            args = (y, x, grid.get, next_grid.set)
            future = pool.submit(step_cell, *args)  # fan out
            futures.append(future)
    for future in futures:
        future.result()  # fan in
    return next_grid


async def step_cell_async(y, x, get, set):
    state = get(y, x)
    neighbors = count_neighbors(y, x, get)
    next_state = await game_logic_async(state, neighbors)
    set(y, x, next_state)


async def simulate_async(grid):
    next_grid = Grid(grid.height, grid.width)
    tasks = []
    for y in range(grid.height):
        for x in range(grid.width):
            tasks.append(step_cell_async(y, x, grid.get, next_grid.set))
    await asyncio.gather(*tasks)
    return next_grid


def start_grid(height, width):
    grid = Grid(height, width)
    data = xorshift_bytes(42, height * width)
    for y in range(height):
        for x in range(width):
            if data[y * width + x] % 4 == 0:
                grid.set(y, x, ALIVE)
    return grid


def summary(grid, generations):
    s = str(grid)
    return f"{generations} generations, {s.count(ALIVE)} alive, grid {hashlib.sha256(s.encode()).hexdigest()[:16]}"


def main():
    p = parser(["sequential", "threads", "queue", "threadpool", "asyncio"])
    p.add_argument("--height", type=int, default=12)
    p.add_argument("--width", type=int, default=12)
    p.add_argument("--generations", type=int, default=5)
    args = p.parse_args()
    grid = start_grid(args.height, args.width)
    start = time()
    if args.strategy == "sequential":
        for _ in range(args.generations):
            grid = simulate(grid)
    elif args.strategy == "threads":
        for _ in range(args.generations):
            grid = simulate_threaded(grid)
    elif args.strategy == "queue":
        in_queue = ClosableQueue()
        out_queue = ClosableQueue()
        threads = []
        for _ in range(5):
            thread = StoppableWorker(game_logic_thread, in_queue, out_queue)
            thread.start()
            threads.append(thread)
        for _ in range(args.generations):
            grid = simulate_pipeline(grid, in_queue, out_queue)
        for thread in threads:
            in_queue.close()
        for thread in threads:
            thread.join()
    elif args.strategy == "threadpool":
        with ThreadPoolExecutor(max_workers=10) as pool:
            for _ in range(args.generations):
                grid = simulate_pool(pool, grid)
    else:
        for _ in range(args.generations):
            grid = asyncio.run(simulate_async(grid))
    elapsed = time() - start
    emit(elapsed, summary(grid, args.generations), peak_vm_kb=peak_vm_kb())


if __name__ == "__main__":
    main()
