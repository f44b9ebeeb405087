// bench/asyncio/spawn_bench.cpp — the cost of a coroutine task, in one run:
//   1. N tasks that each co_await once (a yield to the loop) and are gathered:
//      concur (create_task + gather of sleep(0)) vs Asio co_spawn on one io_context (each
//      co_awaits a post) vs CPython asyncio (gather of sleep(0)). ns per task and peak RSS per
//      task (each measurement in a fresh forked process, so peaks do not mix).
//   2. 100,000 concurrent tasks each sleeping 100 ms: total wall time (concur, Asio steady_timer,
//      CPython).
// Medians of several runs; ratios against concur.
// usage: asyncio_spawn_bench [tasks=1000000] [runs=5] [python_tasks=100000] [only=all]
//   only: "all", or a comma-separated subset of "concur", "asio", "python" (to profile one).
#include <concur/asyncio.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#if __has_include(<asio.hpp>)
#define CONCUR_HAVE_ASIO 1
#include <asio.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#endif

namespace asyncio = concur::asyncio;
using asyncio::Task;
using Clock = std::chrono::steady_clock;

namespace {

long rss_now() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  return 0;
}

struct Sample {
  double value;         // ns per task, or seconds
  double rss_per_task;  // bytes
  double warm = -1;     // the same workload run again in the same process (memory recycled)
};

// Runs fn() in a forked child (twice: also reports the second run, whose memory comes back
// from the first run's frees instead of fresh pages); fn returns the value; RSS growth from the
// child's peak.
Sample in_child(const std::function<double()>& fn, long n, bool twice = false) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const long base = rss_now();
    double v = fn();
    double v2 = twice ? fn() : -1;
    double out[3] = {v, static_cast<double>(base), v2};
    [[maybe_unused]] auto w = ::write(fds[1], out, sizeof out);
    ::_exit(0);
  }
  ::close(fds[1]);
  double in[3] = {0, 0, -1};
  [[maybe_unused]] auto r = ::read(fds[0], in, sizeof in);
  ::close(fds[0]);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  return {in[0], (static_cast<double>(ru.ru_maxrss) * 1024 - in[1]) / static_cast<double>(n), in[2]};
}

Sample python(const char* mode, long n) {
  const std::string cmd = std::string("python3 ") + CONCUR_SPAWN_PY + " " + mode + " " + std::to_string(n);
  FILE* p = ::popen(cmd.c_str(), "r");
  Sample s{0, 0, -1};
  if (!p || std::fscanf(p, "%lf %lf", &s.value, &s.rss_per_task) != 2) s = {-1, -1, -1};
  if (p && std::fscanf(p, "%lf", &s.warm) != 1) s.warm = -1;
  if (p) ::pclose(p);
  return s;
}

Sample median(std::vector<Sample> v) {
  std::vector<double> warm;
  for (auto& s : v) warm.push_back(s.warm);
  std::sort(warm.begin(), warm.end());
  std::sort(v.begin(), v.end(), [](const Sample& a, const Sample& b) { return a.value < b.value; });
  Sample m = v[v.size() / 2];
  m.warm = warm[warm.size() / 2];
  double rss = 0;
  for (auto& s : v) rss = std::max(rss, s.rss_per_task);
  m.rss_per_task = rss;  // report the worst peak
  return m;
}

// ---- concur ----------------------------------------------------------------------------------
Task<void> one_yield() { co_await asyncio::sleep(0); }
Task<void> one_sleep() { co_await asyncio::sleep(std::chrono::milliseconds(100)); }

double concur_gather(long n, bool sleep100) {
  return asyncio::run([](long n, bool s) -> Task<double> {
    const auto t0 = Clock::now();
    std::vector<Task<void>> ts;
    ts.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) ts.push_back(s ? one_sleep() : one_yield());
    co_await asyncio::gather(std::move(ts));
    co_return std::chrono::duration<double>(Clock::now() - t0).count();
  }(n, sleep100));
}

#ifdef CONCUR_HAVE_ASIO
// ---- Asio: co_spawn on one io_context ----------------------------------------------------------
asio::awaitable<void> asio_yield() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }
asio::awaitable<void> asio_sleep() {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
  co_await t.async_wait(asio::use_awaitable);
}
double asio_gather(long n, bool sleep100) {
  asio::io_context ctx(1);
  const auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) asio::co_spawn(ctx, sleep100 ? asio_sleep() : asio_yield(), asio::detached);
  ctx.run();  // returns when every coroutine has finished: the gather
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const long py_n = argc > 3 ? std::atol(argv[3]) : 100'000;
  const long sleepers = 100'000;
  const std::string only = argc > 4 ? argv[4] : "all";
  const auto want = [&](const char* who) { return only == "all" || only.find(who) != std::string::npos; };

  std::vector<Sample> c, a, p;
  for (int r = 0; r < runs; ++r) {
    if (want("concur"))
      c.push_back(in_child([&] { return concur_gather(n, false) * 1e9 / static_cast<double>(n); }, n, true));
#ifdef CONCUR_HAVE_ASIO
    if (want("asio"))
      a.push_back(in_child([&] { return asio_gather(n, false) * 1e9 / static_cast<double>(n); }, n, true));
#endif
    if (r < 3 && want("python")) p.push_back(python("gather", py_n));
  }
  if (c.empty()) c.push_back({-1, -1});
  if (a.empty()) a.push_back({-1, -1});
  if (p.empty()) p.push_back({-1, -1});
  const Sample mc = median(c), mp = median(p);
  std::printf("   runs (ns/task):");
  for (auto& x : c) std::printf(" concur %.0f/%.0f", x.value, x.warm);
  for (auto& x : a) std::printf(" asio %.0f/%.0f", x.value, x.warm);
  for (auto& x : p) std::printf(" cpython %.0f/%.0f", x.value, x.warm);
  std::printf("   (first/second run in the process)");
  std::printf("\n1. %ld tasks, each co_awaits once, gathered (median of %d runs; CPython: %ld tasks, %zu runs)\n",
              n, runs, py_n, p.size());
  std::printf("   %-28s %12s %14s %10s\n", "", "ns/task", "peak RSS/task", "vs concur");
  std::printf("   %-28s %12.1f %12.0f B %10s\n", "concur::asyncio", mc.value, mc.rss_per_task, "1.00x");
#ifdef CONCUR_HAVE_ASIO
  const Sample ma = median(a);
  std::printf("   %-28s %12.1f %12.0f B %9.2fx\n", "Asio co_spawn (1 io_context)", ma.value, ma.rss_per_task, ma.value / mc.value);
#endif
  std::printf("   %-28s %12.1f %12.0f B %9.2fx\n", "CPython asyncio", mp.value, mp.rss_per_task, mp.value / mc.value);
  std::printf("   the same, second run in the same process (memory recycled, no first-touch faults):\n");
  std::printf("   %-28s %12.1f %14s %10s\n", "concur::asyncio", mc.warm, "", "1.00x");
#ifdef CONCUR_HAVE_ASIO
  std::printf("   %-28s %12.1f %14s %9.2fx\n", "Asio co_spawn (1 io_context)", ma.warm, "", ma.warm / mc.warm);
#endif
  std::printf("   %-28s %12.1f %14s %9.2fx\n", "CPython asyncio", mp.warm, "", mp.warm / mc.warm);

  std::vector<Sample> cs, as, ps;
  for (int r = 0; r < 3; ++r) {
    if (want("concur")) cs.push_back(in_child([&] { return concur_gather(sleepers, true); }, sleepers));
#ifdef CONCUR_HAVE_ASIO
    if (want("asio")) as.push_back(in_child([&] { return asio_gather(sleepers, true); }, sleepers));
#endif
    if (want("python")) ps.push_back(python("sleep", sleepers));
  }
  if (cs.empty()) cs.push_back({-1, -1});
  if (as.empty()) as.push_back({-1, -1});
  if (ps.empty()) ps.push_back({-1, -1});
  const Sample mcs = median(cs), mps = median(ps);
  std::printf("2. %ld concurrent tasks each sleep(100ms), gathered: total wall (median of 3)\n", sleepers);
  std::printf("   %-28s %10.3f s\n", "concur::asyncio", mcs.value);
#ifdef CONCUR_HAVE_ASIO
  std::printf("   %-28s %10.3f s\n", "Asio steady_timer", median(as).value);
#endif
  std::printf("   %-28s %10.3f s\n", "CPython asyncio", mps.value);
  return 0;
}
