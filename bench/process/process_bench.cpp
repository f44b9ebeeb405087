// ProcessPoolExecutor overheads, measured the way bench/process/process_bench.py measures
// CPython's concurrent.futures.ProcessPoolExecutor (same workloads, same counts):
//   roundtrip_serial   submit(trivial, i).result() one at a time, 1 worker      -> us per task
//   roundtrip_inflight 20,000 submits, then every result, 2 workers             -> us per task
//   map_chunk256       list(map(trivial, range(100000), chunksize=256)), 2 w.  -> items per s
// Each is run --runs times (default 5); the median is printed as `name value unit`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <ranges>
#include <string>
#include <vector>

#include "concur/futures/process_pool.hpp"

namespace {

long trivial(long x) { return x + 1; }
CONCUR_TASK(trivial);

using Clock = std::chrono::steady_clock;
double secs(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  concur::futures::process_worker_main(argc, argv);
  int runs = 5;
  int serial_n = 5000;
  std::string only;  // --only serial|inflight|map: one measure (for profiling)
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--serial")) serial_n = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  auto want = [&](const char* m) { return only.empty() || only == m; };
  using concur::futures::ProcessPoolExecutor;
  std::vector<double> serial, inflight, mapped;
  for (int r = 0; r < runs; ++r) {
    if (want("serial")) {
      ProcessPoolExecutor pool({.max_workers = 1});
      pool.submit(trivial, 0L).result();  // warm: the worker is up
      const auto t0 = Clock::now();
      long sum = 0;
      for (int i = 0; i < serial_n; ++i) sum += pool.submit(trivial, static_cast<long>(i)).result();
      serial.push_back(secs(t0) / serial_n * 1e6);
      if (sum != static_cast<long>(serial_n) * (serial_n + 1) / 2) return 1;
    }
    if (want("inflight")) {
      ProcessPoolExecutor pool({.max_workers = 2});
      pool.submit(trivial, 0L).result();
      pool.submit(trivial, 0L).result();
      const int n = 20000;
      const auto t0 = Clock::now();
      std::vector<concur::futures::Future<long>> fs;
      fs.reserve(n);
      for (int i = 0; i < n; ++i) fs.push_back(pool.submit(trivial, static_cast<long>(i)));
      long sum = 0;
      for (auto& f : fs) sum += f.result();
      inflight.push_back(secs(t0) / n * 1e6);
      if (sum != static_cast<long>(n) * (n + 1) / 2) return 1;
    }
    if (want("map")) {
      ProcessPoolExecutor pool({.max_workers = 2});
      pool.submit(trivial, 0L).result();
      const long n = 100000;
      const auto t0 = Clock::now();
      long sum = 0;
      for (long v : pool.map(trivial, std::views::iota(0L, n), {.chunksize = 256})) sum += v;
      mapped.push_back(n / secs(t0));
      if (sum != n * (n + 1) / 2) return 1;
    }
  }
  if (!serial.empty()) std::printf("roundtrip_serial %.2f us/task\n", median(serial));
  if (!inflight.empty()) std::printf("roundtrip_inflight %.2f us/task\n", median(inflight));
  if (!mapped.empty()) std::printf("map_chunk256 %.0f items/s\n", median(mapped));
  return 0;
}
