// Threads for blocking I/O (seed 002 §37, 004 §53), the helicopter, the Counter race (§54) and
// the download -> resize -> upload queue pipeline (§55).
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lab.hpp"
#include "modules.hpp"

#if CONCUR_LAB_HAVE_FUTURES
#include <concur/futures.hpp>
#endif
#if CONCUR_LAB_HAVE_QUEUE
#include <concur/queue.hpp>
#endif
#if CONCUR_LAB_HAVE_ASYNCIO
#include <concur/asyncio.hpp>
#endif

namespace lab {
namespace {

// ---- blocking I/O ---------------------------------------------------------------------------

constexpr int kCalls = 5;
constexpr double kBlock = 0.1;

/// "5x0.1s" when every call really blocked ~0.1 s (a select that returns at once is caught).
std::string blocked_text(const std::vector<double>& durations) {
  int blocked = 0;
  for (double d : durations)
    if (d >= kBlock * 0.9) ++blocked;
  if (blocked == static_cast<int>(durations.size())) return std::to_string(durations.size()) + "x0.1s";
  return "only " + std::to_string(blocked) + " of " + std::to_string(durations.size()) + " calls blocked";
}

double timed_systemcall() {
  auto t0 = Clock::now();
  slow_systemcall(kBlock);
  return since(t0);
}

void run_blocking_io(Ctx& ctx) {
  ctx.reference("5x0.1s");
  ctx.row({.strategy = "sequential", .workers = 1, .baseline = true, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<double> d;
             for (int i = 0; i < kCalls; ++i) d.push_back(timed_systemcall());
             return Sample{.seconds = since(t0), .result = blocked_text(d)};
           },
           .py = {"blocking_io.py", "sequential"}});
  ctx.row({.strategy = "thread per call", .workers = kCalls, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<double> d(kCalls);
             std::vector<std::thread> threads;
             for (int i = 0; i < kCalls; ++i) threads.emplace_back([&d, i] { d[static_cast<std::size_t>(i)] = timed_systemcall(); });
             for (auto& t : threads) t.join();
             return Sample{.seconds = since(t0), .result = blocked_text(d)};
           },
           .py = {"blocking_io.py", "threads"}});
  RowSpec pool{.strategy = "ThreadPoolExecutor", .workers = kCalls, .py = {"blocking_io.py", "threadpool"}};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [] {
    auto t0 = Clock::now();
    concur::futures::ThreadPoolExecutor ex({.max_workers = kCalls});
    std::vector<concur::futures::Future<double>> fs;
    for (int i = 0; i < kCalls; ++i) fs.push_back(ex.submit(timed_systemcall));
    std::vector<double> d;
    for (auto& f : fs) d.push_back(f.result());
    return Sample{.seconds = since(t0), .result = blocked_text(d)};
  };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
  RowSpec co{.strategy = "coroutines (gather of to_thread)", .workers = kCalls, .py = {"blocking_io.py", "asyncio"}};
#if CONCUR_LAB_HAVE_ASYNCIO
  co.cpp = [] { return asyncio_blocking_io(kCalls, kBlock); };
#else
  co.cpp_missing = missing_module("asyncio");
#endif
  ctx.row(co);
  ctx.row({.strategy = "seeds' Linux variant: select([socket()])", .workers = 1,
           .cpp = [] {
             auto t0 = Clock::now();
             double d = select_on_unconnected_socket(kBlock);
             char buf[160];
             std::snprintf(buf, sizeof buf, "returned after %.2f ms: an unconnected socket is readable (POLLHUP)", d * 1e3);
             return Sample{.seconds = since(t0), .result = d < kBlock * 0.5 ? "returned at once" : "blocked", .note = buf};
           },
           .py = {"blocking_io.py", "seeds_socket"}, .compare_reference = false, .speedup = false});
  ctx.note("slow_systemcall() is select() with EMPTY fd sets; the seeds' select([socket.socket()], [], [], 0.1) returns "
           "at once on Linux (last row), so it blocks for nothing.");
}

// ---- helicopter -----------------------------------------------------------------------------

/// compute_helicopter_location(i): a fixed piece of arithmetic the main thread does while the
/// I/O threads wait (the seeds leave it as `...`). The same loop in python/helicopter.py.
long compute_helicopter_location(long index) {
  long acc = 0;
  for (long k = 0; k < 200000; ++k) acc = (acc + k * (index + 1)) % 1000003;
  return acc;
}

std::string locations_text(const std::vector<long>& locs, const std::vector<double>& io) {
  std::string s;
  for (std::size_t k = 0; k < locs.size(); ++k) s += (k ? "," : "") + std::to_string(locs[k]);
  return s + ";" + blocked_text(io);
}

void run_helicopter(Ctx& ctx) {
  std::vector<long> expect;
  for (long i = 0; i < 5; ++i) expect.push_back(compute_helicopter_location(i));
  ctx.reference(locations_text(expect, std::vector<double>(5, kBlock)));
  ctx.row({.strategy = "sequential: I/O then compute", .workers = 1, .baseline = true, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<double> io;
             for (int i = 0; i < kCalls; ++i) io.push_back(timed_systemcall());
             std::vector<long> locs;
             for (long i = 0; i < 5; ++i) locs.push_back(compute_helicopter_location(i));
             return Sample{.seconds = since(t0), .result = locations_text(locs, io)};
           },
           .py = {"helicopter.py", "sequential"}});
  ctx.row({.strategy = "5 I/O threads while computing", .workers = kCalls, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<double> io(kCalls);
             std::vector<std::thread> threads;
             for (int i = 0; i < kCalls; ++i) threads.emplace_back([&io, i] { io[static_cast<std::size_t>(i)] = timed_systemcall(); });
             std::vector<long> locs;
             for (long i = 0; i < 5; ++i) locs.push_back(compute_helicopter_location(i));
             for (auto& t : threads) t.join();
             return Sample{.seconds = since(t0), .result = locations_text(locs, io)};
           },
           .py = {"helicopter.py", "threads"}});
  RowSpec pool{.strategy = "ThreadPoolExecutor I/O while computing", .workers = kCalls, .py = {"helicopter.py", "threadpool"}};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [] {
    auto t0 = Clock::now();
    concur::futures::ThreadPoolExecutor ex({.max_workers = kCalls});
    std::vector<concur::futures::Future<double>> fs;
    for (int i = 0; i < kCalls; ++i) fs.push_back(ex.submit(timed_systemcall));
    std::vector<long> locs;
    for (long i = 0; i < 5; ++i) locs.push_back(compute_helicopter_location(i));
    std::vector<double> io;
    for (auto& f : fs) io.push_back(f.result());
    return Sample{.seconds = since(t0), .result = locations_text(locs, io)};
  };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
}

// ---- Counter race ---------------------------------------------------------------------------

constexpr int kRaceThreads = 5;
constexpr long kHowMany = 100000;

/// The seeds' Counter: `self.count += offset` is a load and a store that another thread can
/// interleave. A relaxed atomic load then store keeps exactly that race without undefined
/// behaviour (TSan-clean), so updates are lost as in Python.
struct Counter {
  std::atomic<long> count{0};
  void increment(long offset) { count.store(count.load(std::memory_order_relaxed) + offset, std::memory_order_relaxed); }
};

/// The seeds' LockingCounter.
struct LockingCounter {
  std::mutex lock;
  long count = 0;
  void increment(long offset) {
    std::lock_guard g(lock);
    count += offset;
  }
};

template <class C>
long race_threads(C& counter) {
  // A start gate: 100,000 increments take well under a millisecond in C++, less than a thread's
  // start-up, so without it the threads would barely overlap. Every worker is started first and
  // spins (yielding) until all are ready, then they all go at once.
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRaceThreads; ++i)
    threads.emplace_back([&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (long k = 0; k < kHowMany; ++k) counter.increment(1);
    });
  while (ready.load() < kRaceThreads) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  if constexpr (std::is_same_v<C, Counter>) return counter.count.load();
  else return counter.count;
}

void run_race(Ctx& ctx) {
  const long expected = kRaceThreads * kHowMany;
  ctx.reference(std::to_string(expected));
  ctx.row({.strategy = "5 threads, Counter without a lock", .workers = kRaceThreads, .cpp = [expected] {
             auto t0 = Clock::now();
             Counter c;
             long found = race_threads(c);
             Sample s{.seconds = since(t0), .result = std::to_string(found)};
             s.ok = found > 0 && found <= expected;
             s.note = "found " + std::to_string(found) + " of " + std::to_string(expected) + " (" +
                      std::to_string(expected - found) + " updates lost)";
             return s;
           },
           .py = {"race.py", "nolock"}, .compare_reference = false});
  ctx.row({.strategy = "5 threads, LockingCounter", .workers = kRaceThreads, .baseline = true, .cpp = [] {
             auto t0 = Clock::now();
             LockingCounter c;
             long found = race_threads(c);
             return Sample{.seconds = since(t0), .result = std::to_string(found)};
           },
           .py = {"race.py", "lock"}});
  RowSpec pool{.strategy = "ThreadPoolExecutor(5), LockingCounter", .workers = kRaceThreads, .py = {"race.py", "threadpool"}};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [] {
    auto t0 = Clock::now();
    LockingCounter c;
    {
      concur::futures::ThreadPoolExecutor ex({.max_workers = kRaceThreads});
      std::vector<concur::futures::Future<void>> fs;
      for (int i = 0; i < kRaceThreads; ++i)
        fs.push_back(ex.submit([&c] {
          for (long k = 0; k < kHowMany; ++k) c.increment(1);
        }));
      for (auto& f : fs) f.result();
    }
    return Sample{.seconds = since(t0), .result = std::to_string(c.count)};
  };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
  ctx.note("Without a lock, lost updates are shown, not required: the check is 0 < found <= 500,000. With a lock the "
           "count must be exactly 500,000. CPython 3.10+ switches threads less often inside `+=`, so it may lose none.");
}

// ---- download -> resize -> upload pipeline --------------------------------------------------

/// The stages' stand-in "I/O": a short blocking sleep, as a download, an image resize and an
/// upload would block (the seeds leave them as functions without a body).
constexpr double kStageSeconds = 0.0001;

struct Item {
  long id = 0;
  int stages = 0;
};
Item stage(Item it) {
  slow_systemcall(kStageSeconds);
  ++it.stages;
  return it;
}

std::string pipeline_text(long count, long sum, bool all_stages) {
  return std::to_string(count) + " items, id sum " + std::to_string(sum) + (all_stages ? "" : ", SOME SKIPPED A STAGE");
}

long pipeline_items(const Ctx& ctx) { return ctx.cfg.quick ? 200 : 1000; }

void run_pipeline(Ctx& ctx) {
  const long n = pipeline_items(ctx);
  ctx.reference(pipeline_text(n, n * (n - 1) / 2, true));
  ctx.row({.strategy = "sequential", .workers = 1, .baseline = true, .cpp = [n] {
             auto t0 = Clock::now();
             long count = 0, sum = 0;
             bool all = true;
             for (long i = 0; i < n; ++i) {
               Item it = stage(stage(stage(Item{i, 0})));
               ++count;
               sum += it.id;
               all = all && it.stages == 3;
             }
             return Sample{.seconds = since(t0), .result = pipeline_text(count, sum, all)};
           },
           .py = {"pipeline.py", "sequential", "--items", std::to_string(n)}});
  RowSpec q{.strategy = "Queue + 3 StoppableWorker threads", .workers = 3, .py = {"pipeline.py", "queue", "--items", std::to_string(n)}};
#if CONCUR_LAB_HAVE_QUEUE
  q.cpp = [n] { return queue_pipeline(n); };
#else
  q.cpp_missing = missing_module("queue");
#endif
  ctx.row(q);
  ctx.note("Each stage blocks 0.1 ms (select); the seeds check done_queue.qsize() == 1000, here the count and the id "
           "sum of the items that went through all three stages. CPython's ClosableQueue is the seeds' sentinel class "
           "(3.11 has no Queue.shutdown); concur uses Queue::shutdown(), which is what ClosableQueue hand-rolls.");
}

}  // namespace

void add_thread_experiments(std::vector<Experiment>& v) {
  v.push_back({"blocking_io", "5 x select(0.1 s): threads overlap blocking system calls even under the GIL.",
               "sequential 0.503 s; 5 threads 0.102 s", run_blocking_io});
  v.push_back({"helicopter", "Compute the helicopter's next move while 5 threads wait on blocking I/O.",
               "5 I/O threads while computing 0.102 s", run_helicopter});
  v.push_back({"race", "5 threads x 100,000 Counter.increment(1): lost updates without a Lock, none with one.",
               "fewer than 500,000 without a lock", run_race});
  v.push_back({"pipeline", "1,000 items through download -> resize -> upload worker threads joined by queues.",
               "done_queue.qsize() == 1000", run_pipeline});
}

}  // namespace lab
