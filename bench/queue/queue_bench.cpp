// bench/queue — concur::queue::Queue vs moodycamel::BlockingConcurrentQueue vs a
// std::mutex + std::condition_variable queue vs CPython's queue.Queue, in one run.
//
// Workloads (int items):
//   spsc     — 1 producer, 1 consumer, Queue(maxsize=1024), items/s
//   mpmc     — 2 producers, 2 consumers, Queue(maxsize=1024), items/s
//   pingpong — two threads bounce one item through two queues, µs per round trip
// moodycamel's queue has no maxsize, task_done, join or shutdown: it runs with enqueue() (never
// blocks, grows as needed) and wait_dequeue(), its fastest blocking form.
// Each figure is the median of --reps runs, interleaved so that every contender sees the same load;
// CPython runs queue_bench.py (a tenth of the items; rates are per item). --python none skips it.
//
//   queue_bench [--items N] [--rounds N] [--reps N] [--python PATH] [--script PATH]
#include <concurrentqueue/blockingconcurrentqueue.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "concur/queue.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// The textbook bounded queue: one mutex, two condition variables, notify on every operation.
class MutexCvQueue {
 public:
  explicit MutexCvQueue(std::size_t maxsize) : maxsize_(maxsize) {}
  void put(int v) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return maxsize_ == 0 || items_.size() < maxsize_; });
    items_.push_back(v);
    lock.unlock();
    not_empty_.notify_one();
  }
  int get() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    int v = items_.front();
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<int> items_;
  std::size_t maxsize_;
};

struct ConcurAdapter {
  concur::queue::Queue<int> q;
  explicit ConcurAdapter(std::size_t maxsize) : q(maxsize) {}
  void put(int v) { q.put(v); }
  int get() { return q.get(); }
};
struct MoodyAdapter {
  moodycamel::BlockingConcurrentQueue<int> q;
  explicit MoodyAdapter(std::size_t maxsize) : q(maxsize) {}
  void put(int v) { q.enqueue(v); }
  int get() {
    int v;
    q.wait_dequeue(v);
    return v;
  }
};
struct MutexCvAdapter {
  MutexCvQueue q;
  explicit MutexCvAdapter(std::size_t maxsize) : q(maxsize) {}
  void put(int v) { q.put(v); }
  int get() { return q.get(); }
};

template <class Q>
double throughput(int producers, int consumers, long items, std::size_t maxsize) {
  Q q(maxsize);
  const long per_p = items / producers, per_c = items / consumers;
  std::vector<std::thread> threads;
  std::atomic<long long> sink{0};
  const auto t0 = Clock::now();
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&] {
      for (long i = 0; i < per_p; ++i) q.put(static_cast<int>(i));
    });
  for (int c = 0; c < consumers; ++c)
    threads.emplace_back([&] {
      long long s = 0;
      for (long i = 0; i < per_c; ++i) s += q.get();
      sink += s;
    });
  for (auto& t : threads) t.join();
  return static_cast<double>(items) / std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class Q>
double ping_pong(long rounds) {
  Q ping(0), pong(0);
  std::thread echo([&] {
    for (long i = 0; i < rounds; ++i) pong.put(ping.get());
  });
  const auto t0 = Clock::now();
  for (long i = 0; i < rounds; ++i) {
    ping.put(static_cast<int>(i));
    (void)pong.get();
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / static_cast<double>(rounds);
  echo.join();
  return us;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}


std::map<std::string, double> run_python(const std::string& python, const std::string& script, long items,
                                         long rounds, int reps) {
  std::map<std::string, double> out;
  const std::string cmd = python + " " + script + " --items " + std::to_string(items) + " --rounds " +
                          std::to_string(rounds) + " --reps " + std::to_string(reps);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return out;
  char name[64];
  double value;
  char unit[32];
  while (std::fscanf(pipe, "%63s %lf %31s", name, &value, unit) == 3) out[name] = value;
  pclose(pipe);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long items = 2'000'000, rounds = 50'000;
  int reps = 5;
  std::string python = "python3", script = CONCUR_QUEUE_BENCH_SCRIPT, only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--items") items = std::atol(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atol(argv[i + 1]);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--python") python = argv[i + 1];
    else if (a == "--script") script = argv[i + 1];
    else if (a == "--only") only = argv[i + 1];
  }
  const bool with_python = python != "none";
  const long py_items = std::max(20'000L, items / 10), py_rounds = std::max(2'000L, rounds / 5);
  auto wanted = [&](const char* name) { return only.empty() || only == name; };

  // Interleaved repetitions: each rep runs CPython once, then every C++ queue once, so that all
  // contenders see the same machine load (the box is shared); medians are taken per column.
  std::map<std::string, std::vector<double>> samples;
  for (int rep = 0; rep < reps; ++rep) {
    if (with_python)
      for (auto& [name, value] : run_python(python, script, py_items, py_rounds, 1)) samples["CPython/" + name].push_back(value);
    for (auto [name, p, c] : {std::tuple{"spsc", 1, 1}, std::tuple{"mpmc", 2, 2}}) {
      if (!wanted(name)) continue;
      const std::string n = name;
      samples["concur/" + n].push_back(throughput<ConcurAdapter>(p, c, items, 1024));
      samples["moodycamel/" + n].push_back(throughput<MoodyAdapter>(p, c, items, 1024));
      samples["mutex+cv/" + n].push_back(throughput<MutexCvAdapter>(p, c, items, 1024));
    }
    if (wanted("pingpong")) {
      samples["concur/pingpong"].push_back(ping_pong<ConcurAdapter>(rounds));
      samples["moodycamel/pingpong"].push_back(ping_pong<MoodyAdapter>(rounds));
      samples["mutex+cv/pingpong"].push_back(ping_pong<MutexCvAdapter>(rounds));
    }
  }
  auto med = [&](const std::string& key) { return samples.count(key) ? median(samples[key]) : 0.0; };

  std::printf("medians of %d interleaved runs; throughput in M items/s (higher is better)\n", reps);
  std::printf("workload   concur        moodycamel    mutex+cv      CPython       concur/moody concur/CPython\n");
  for (const char* name : {"spsc", "mpmc"}) {
    if (!wanted(name)) continue;
    const std::string n = name;
    const double con = med("concur/" + n), moo = med("moodycamel/" + n), mcv = med("mutex+cv/" + n),
                 cpy = med("CPython/" + n);
    std::printf("%-10s %8.2f M/s  %8.2f M/s  %8.2f M/s  %8.3f M/s  %8.2fx     %8.1fx\n", name, con / 1e6, moo / 1e6,
                mcv / 1e6, cpy / 1e6, con / moo, cpy > 0 ? con / cpy : 0.0);
  }
  if (wanted("pingpong")) {
    std::printf("%-10s %8.2f us   %8.2f us   %8.2f us   %8.2f us   (median us per round trip; lower is better)\n",
                "pingpong", med("concur/pingpong"), med("moodycamel/pingpong"), med("mutex+cv/pingpong"),
                med("CPython/pingpong"));
  }
  return 0;
}
