// Strategies on concur::queue: the seeds' ClosableQueue/StoppableWorker pipeline, where
// Queue::shutdown() plays the sentinel and `for (auto item : q)` is ClosableQueue.__iter__.
#include <concur/queue.hpp>

#include <thread>
#include <variant>

#include "modules.hpp"

namespace lab {
namespace {

struct Item {
  long id = 0;
  int stages = 0;
};

constexpr double kStageSeconds = 0.0001;

Item stage(Item it) {
  slow_systemcall(kStageSeconds);
  ++it.stages;
  return it;
}

/// The seeds' StoppableWorker: func over every item of in_queue until it is shut down.
template <class In, class Out, class F>
std::thread stoppable_worker(F func, In& in_queue, Out& out_queue) {
  return std::thread([func, &in_queue, &out_queue] {
    for (auto item : in_queue) out_queue.put(func(std::move(item)));
  });
}

}  // namespace

Sample queue_pipeline(long items) {
  auto t0 = Clock::now();
  concur::queue::Queue<Item> download_queue, resize_queue, upload_queue, done_queue;
  std::thread threads[] = {
      stoppable_worker(stage, download_queue, resize_queue),
      stoppable_worker(stage, resize_queue, upload_queue),
      stoppable_worker(stage, upload_queue, done_queue),
  };
  for (long i = 0; i < items; ++i) download_queue.put(Item{i, 0});
  download_queue.shutdown();  // the seeds' close(): no more input
  download_queue.join();
  resize_queue.shutdown();
  resize_queue.join();
  upload_queue.shutdown();
  upload_queue.join();
  const auto qsize = done_queue.qsize();
  for (auto& t : threads) t.join();
  double secs = since(t0);
  long count = 0, sum = 0;
  bool all = true;
  while (auto it = done_queue.try_get()) {
    ++count;
    sum += it->id;
    all = all && it->stages == 3;
  }
  Sample s{.seconds = secs,
           .result = std::to_string(count) + " items, id sum " + std::to_string(sum) + (all ? "" : ", SOME SKIPPED A STAGE")};
  if (static_cast<long>(qsize) != items) {
    s.ok = false;
    s.note = "done_queue.qsize() == " + std::to_string(qsize);
  }
  return s;
}

life::Grid life_queue_run(const life::Grid& start, const life::Params& p) {
  struct Cell {
    int y = 0, x = 0;
    char state = 0;
    int neighbors = 0;
  };
  struct Out {
    int y = 0, x = 0;
    char next = 0;
    std::exception_ptr error;
  };
  concur::queue::Queue<Cell> in_queue;
  concur::queue::Queue<Out> out_queue;
  // game_logic_thread: errors travel through the queue, as in the seeds.
  auto game_logic_thread = [&p](Cell c) {
    Out o{c.y, c.x, 0, nullptr};
    try {
      o.next = life::game_logic(c.state, c.neighbors, p);
    } catch (...) {
      o.error = std::current_exception();
    }
    return o;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) threads.push_back(stoppable_worker(game_logic_thread, in_queue, out_queue));
  life::Grid grid = start;
  std::exception_ptr failed;
  for (int g = 0; g < p.generations && !failed; ++g) {
    for (int y = 0; y < grid.height; ++y)
      for (int x = 0; x < grid.width; ++x)
        in_queue.put(Cell{y, x, grid.get(y, x), life::count_neighbors(y, x, [&](int a, int b) { return grid.get(a, b); })});
    in_queue.join();  // fan-in
    life::Grid next(grid.height, grid.width);
    for (int k = 0; k < grid.height * grid.width; ++k) {
      Out o = out_queue.get();
      if (o.error) failed = o.error;
      next.set(o.y, o.x, o.next);
    }
    grid = next;
  }
  in_queue.shutdown();
  for (auto& t : threads) t.join();
  if (failed) std::rethrow_exception(failed);
  return grid;
}

}  // namespace lab
