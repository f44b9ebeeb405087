// futures_bench — concur's ThreadPoolExecutor beside oneTBB and CPython, in one run.
//
//   futures_bench [--repeats N] [--tasks N] [--no-python] [--verbose]
//
// Workloads (2 workers everywhere, medians of N repeats, ratios printed):
//   1. submit→result: N trivial tasks, each submitted then its result() read (concur returns a
//      Future per task; TBB task_group writes results into slots: it has no futures).
//   2. fan-out/fan-in: rounds of 1,000 trivial tasks submitted then all waited for.
//   3. gcd: the seeds' four pairs repeated so one sequential run takes ~1 s; 2 workers.
//   4. memory: bytes per pending task beyond its callable (measured first, in a fresh process:
//      malloc's in-use delta plus the small-block allocator's slabs taken from the system).
#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "concur/detail/small_alloc.hpp"
#include "concur/futures.hpp"

#ifdef CONCUR_BENCH_HAVE_TBB
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#endif

namespace cf = concur::futures;
using Clock = std::chrono::steady_clock;

namespace {

template <class T>
void do_not_optimize(T const& v) {
  asm volatile("" : : "r,m"(v) : "memory");
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---- 1. submit→result -------------------------------------------------------------------
double concur_submit_result_ns(long n) {
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<cf::Future<long>> fs;
  fs.reserve(n);
  const auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) fs.push_back(pool.submit([i] { return i; }));
  long sum = 0;
  for (auto& f : fs) sum += f.result();
  const double dt = seconds_since(t0);
  if (sum != n * (n - 1) / 2) std::abort();
  return dt / n * 1e9;
}

#ifdef CONCUR_BENCH_HAVE_TBB
double tbb_submit_result_ns(long n) {
  tbb::task_arena arena(2);
  std::vector<long> slots(n);
  double dt = 0;
  arena.execute([&] {
    tbb::task_group g;
    const auto t0 = Clock::now();
    for (long i = 0; i < n; ++i) g.run([&slots, i] { slots[i] = i; });
    g.wait();
    dt = seconds_since(t0);
  });
  long sum = std::accumulate(slots.begin(), slots.end(), 0L);
  if (sum != n * (n - 1) / 2) std::abort();
  return dt / n * 1e9;
}
#endif

// ---- 2. fan-out / fan-in -------------------------------------------------------------------
double concur_fanout_round_us(int rounds) {
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  std::vector<cf::Future<int>> fs;
  fs.reserve(1000);
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) {
    fs.clear();
    for (int i = 0; i < 1000; ++i) fs.push_back(pool.submit([i] { return i; }));
    cf::wait(fs);
    int s = 0;
    for (auto& f : fs) s += f.result();
    if (s != 499500) std::abort();
  }
  return seconds_since(t0) / rounds * 1e6;
}

#ifdef CONCUR_BENCH_HAVE_TBB
double tbb_fanout_round_us(int rounds) {
  tbb::task_arena arena(2);
  std::array<int, 1000> slots{};
  double dt = 0;
  arena.execute([&] {
    tbb::task_group g;
    const auto t0 = Clock::now();
    for (int r = 0; r < rounds; ++r) {
      for (int i = 0; i < 1000; ++i) g.run([&slots, i] { slots[i] = i; });
      g.wait();
      if (std::accumulate(slots.begin(), slots.end(), 0) != 499500) std::abort();
    }
    dt = seconds_since(t0);
  });
  return dt / rounds * 1e6;
}
#endif

// ---- 3. gcd (the seeds' naive count-down gcd) ------------------------------------------------
long gcd(std::pair<long, long> p) {
  const auto [a, b] = p;
  for (long i = std::min(a, b); i > 0; --i)
    if (a % i == 0 && b % i == 0) return i;
  return 1;
}
const std::vector<std::pair<long, long>> kPairs = {
    {1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620}, {2039045, 2020802}};

std::vector<std::pair<long, long>> gcd_input(int reps) {
  std::vector<std::pair<long, long>> v;
  for (int r = 0; r < reps; ++r) v.insert(v.end(), kPairs.begin(), kPairs.end());
  return v;
}

double gcd_sequential_s(const std::vector<std::pair<long, long>>& in, long& check) {
  const auto t0 = Clock::now();
  long s = 0;
  for (auto& p : in) s += gcd(p);
  do_not_optimize(s);
  check = s;
  return seconds_since(t0);
}

double gcd_pool_s(const std::vector<std::pair<long, long>>& in, long& check) {
  const auto t0 = Clock::now();
  cf::ThreadPoolExecutor pool({.max_workers = 2});
  long s = 0;
  for (long r : pool.map(gcd, in)) s += r;
  pool.shutdown();
  check = s;
  return seconds_since(t0);
}

// ---- 4. memory per pending task -----------------------------------------------------------------
double bytes_per_pending_task(long n, std::size_t& callable_size) {
  cf::ThreadPoolExecutor pool({.max_workers = 1});
  cf::Promise<void> gate;
  auto gate_future = gate.get_future();
  auto blocker = pool.submit([gate_future] { gate_future.result(); });
  std::vector<cf::Future<long>> fs;
  fs.reserve(n);
  long payload = 1;
  auto task = [payload] { return payload; };
  callable_size = sizeof(task);
  auto in_use = [] {
    return static_cast<double>(mallinfo2().uordblks) +
           static_cast<double>(concur::detail::small_alloc_reserved_bytes());
  };
  const double before = in_use();
  for (long i = 0; i < n; ++i) fs.push_back(pool.submit(task));
  const double after = in_use();
  gate.set_result();
  for (auto& f : fs) f.result();
  return (after - before) / static_cast<double>(n) - static_cast<double>(callable_size);
}

// ---- CPython ---------------------------------------------------------------------------------------
struct PyFigures {
  bool ok = false;
  double submit_result_ns = 0, fanout_round_us = 0, gcd_seq_s = 0, gcd_thr_s = 0;
};

double json_number(const std::string& json, const char* key) {
  const auto pos = json.find(std::string("\"") + key + "\"");
  if (pos == std::string::npos) return 0;
  return std::atof(json.c_str() + json.find(':', pos) + 1);
}

PyFigures run_cpython(int repeats, long tasks, int gcd_reps) {
  PyFigures f;
  const std::string cmd = std::string("python3 ") + CONCUR_BENCH_PY_DIR + "/cpython_futures.py " +
                          std::to_string(repeats) + " " + std::to_string(tasks) + " " +
                          std::to_string(gcd_reps) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return f;
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0 || out.empty()) return f;
  f.ok = true;
  f.submit_result_ns = json_number(out, "submit_result_ns");
  f.fanout_round_us = json_number(out, "fanout_round_us");
  f.gcd_seq_s = json_number(out, "gcd_sequential_s");
  f.gcd_thr_s = json_number(out, "gcd_threads2_s");
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 5;
  long tasks = 1'000'000;
  bool python = true;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--tasks") && i + 1 < argc) tasks = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-python")) python = false;
    else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
    else {
      std::fprintf(stderr, "usage: futures_bench [--repeats N] [--tasks N] [--no-python] [--verbose]\n");
      return 2;
    }
  }
  std::printf("futures_bench: %ld tasks, %d repeats (medians), 2 workers, %u CPUs\n\n", tasks,
              repeats, std::thread::hardware_concurrency());

  // Memory first, while the small-block allocator has no slab yet (its slabs are kept for reuse,
  // so measuring later would see recycled blocks and no growth).
  std::size_t callable = 0;
  const double mem = bytes_per_pending_task(1'000'000, callable);

  // Interleave the rivals inside each repeat, so machine noise hits both sides alike.
  std::vector<double> c_sr, t_sr, c_fo, t_fo;
  const int rounds = 200;
  // Each phase starts after a pause: oneTBB's workers keep spinning for a while after their
  // arena empties, and must not run during the next phase (nor ours during theirs).
  auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
  for (int r = 0; r < repeats; ++r) {
    settle();
    c_sr.push_back(concur_submit_result_ns(tasks));
    settle();
    c_fo.push_back(concur_fanout_round_us(rounds));
#ifdef CONCUR_BENCH_HAVE_TBB
    settle();
    t_sr.push_back(tbb_submit_result_ns(tasks));
    settle();
    t_fo.push_back(tbb_fanout_round_us(rounds));
#endif
    if (verbose) {
      std::printf("repeat %d: concur %.1f ns %.1f us", r, c_sr.back(), c_fo.back());
      if (!t_sr.empty()) std::printf(" | oneTBB %.1f ns %.1f us", t_sr.back(), t_fo.back());
      std::printf("\n");
    }
  }

  // gcd: calibrate so a sequential run takes about one second.
  long check_seq = 0, check_pool = 0;
  const double one = gcd_sequential_s(gcd_input(1), check_seq);
  const int gcd_reps = std::max(1, static_cast<int>(1.0 / std::max(one, 1e-4)));
  const auto in = gcd_input(gcd_reps);
  std::vector<double> g_seq, g_pool;
  for (int r = 0; r < std::max(3, repeats / 2); ++r) {
    g_seq.push_back(gcd_sequential_s(in, check_seq));
    g_pool.push_back(gcd_pool_s(in, check_pool));
    if (check_seq != check_pool) {
      std::fprintf(stderr, "gcd results differ!\n");
      return 1;
    }
  }
  PyFigures py;
  if (python) py = run_cpython(repeats, std::min(tasks, 100'000L), 1);

  const double c_sr_m = median(c_sr), c_fo_m = median(c_fo);
  std::printf("%-34s %14s %14s %14s %12s %12s\n", "workload", "concur", "oneTBB", "CPython",
              "TBB/concur", "Py/concur");
  auto row = [&](const char* name, double c, const std::vector<double>& t, double p, const char* unit) {
    const double tm = t.empty() ? 0 : median(t);
    char tb[32] = "n/a", pb[32] = "n/a", tr[32] = "n/a", pr[32] = "n/a";
    if (tm > 0) std::snprintf(tb, sizeof tb, "%.1f %s", tm, unit), std::snprintf(tr, sizeof tr, "%.2fx", tm / c);
    if (p > 0) std::snprintf(pb, sizeof pb, "%.1f %s", p, unit), std::snprintf(pr, sizeof pr, "%.1fx", p / c);
    char cb[32];
    std::snprintf(cb, sizeof cb, "%.1f %s", c, unit);
    std::printf("%-34s %14s %14s %14s %12s %12s\n", name, cb, tb, pb, tr, pr);
  };
  row("submit+result per task", c_sr_m, t_sr, py.ok ? py.submit_result_ns : 0, "ns");
  row("1,000-task fan-out/fan-in round", c_fo_m, t_fo, py.ok ? py.fanout_round_us : 0, "us");
  std::printf("  (ratios > 1 mean concur is faster; concur tasks/s: %.2f M/s", 1e3 / c_sr_m);
  if (!t_sr.empty()) std::printf(", oneTBB: %.2f M/s", 1e3 / median(t_sr));
  std::printf(")\n\n");

  const double gs = median(g_seq), gp = median(g_pool);
  std::printf("gcd (%zu pairs, the seeds' count-down gcd): sequential %.3f s, ThreadPoolExecutor(2) %.3f s, "
              "speedup %.2fx\n", in.size(), gs, gp, gs / gp);
  if (py.ok)
    std::printf("  CPython (4 pairs): sequential %.3f s, ThreadPoolExecutor(2) %.3f s, speedup %.2fx "
                "(the GIL); concur is %.0fx faster per pair sequentially\n",
                py.gcd_seq_s, py.gcd_thr_s, py.gcd_seq_s / py.gcd_thr_s,
                (py.gcd_seq_s / 4) / (gs / static_cast<double>(in.size())));
  std::printf("\nmemory: %.0f bytes per pending task beyond its %zu-byte callable\n", mem, callable);
  if (!python) std::printf("(CPython skipped: --no-python)\n");
  else if (!py.ok) std::printf("(CPython skipped: python3 not found or failed)\n");
  return 0;
}
