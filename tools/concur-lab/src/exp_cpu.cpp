// The CPU-bound experiments: factorize, gcd (seed 000/002/003/004) and the RC4 / SHA-256
// workers-vs-time tables (seed 000). Without a GIL, C++ threads already run in parallel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "jobs.hpp"
#include "lab.hpp"
#include "process_jobs.hpp"

#if CONCUR_LAB_HAVE_FUTURES
#include <concur/futures.hpp>
#endif
#if CONCUR_LAB_HAVE_PROCESS
#include "process_jobs.hpp"
#endif
#ifdef CONCUR_LAB_MPI_GCD
#include <unistd.h>

#include <concur/subprocess.hpp>
#endif

namespace lab {
namespace {

// ---- factorize ------------------------------------------------------------------------------

const std::vector<long> kSeedNumbers = {2139079, 1214759, 1516637, 1852285};
/// The seeds' numbers; --quick divides them by 8 (python/factorize.py does the same).
std::vector<long> kFactorizeNumbers = kSeedNumbers;

/// The seeds' factorize(): every i in 1..number that divides it, by trial division.
std::vector<long> factorize(long number) {
  std::vector<long> out;
  for (long i = 1; i <= number; ++i)
    if (number % i == 0) out.push_back(i);
  return out;
}

std::string divisors_text(const std::vector<long>& numbers, const std::vector<std::vector<long>>& divs) {
  std::string s;
  for (std::size_t k = 0; k < numbers.size(); ++k) {
    long sum = std::accumulate(divs[k].begin(), divs[k].end(), 0L);
    s += (k ? "," : "") + std::to_string(numbers[k]) + ":" + std::to_string(divs[k].size()) + "/" + std::to_string(sum);
  }
  return s;
}

/// The expected answer computed another way (pairs of divisors up to the square root).
std::string factorize_reference() {
  std::vector<std::vector<long>> divs;
  for (long n : kFactorizeNumbers) {
    std::vector<long> d;
    for (long i = 1; i * i <= n; ++i)
      if (n % i == 0) {
        d.push_back(i);
        if (i != n / i) d.push_back(n / i);
      }
    divs.push_back(d);
  }
  return divisors_text(kFactorizeNumbers, divs);
}

void run_factorize(Ctx& ctx) {
  kFactorizeNumbers.clear();
  for (long n : kSeedNumbers) kFactorizeNumbers.push_back(ctx.cfg.quick ? n / 8 : n);
  ctx.reference(factorize_reference());
  const unsigned w = ctx.cfg.workers;
  ctx.row({.strategy = "sequential", .workers = 1, .baseline = true, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<std::vector<long>> divs;
             for (long n : kFactorizeNumbers) divs.push_back(factorize(n));
             return Sample{.seconds = since(t0), .result = divisors_text(kFactorizeNumbers, divs)};
           },
           .py = {"factorize.py", "sequential"}});
  ctx.row({.strategy = "thread per number (FactorizeThread)", .workers = 4, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<std::vector<long>> divs(kFactorizeNumbers.size());
             std::vector<std::thread> threads;
             for (std::size_t k = 0; k < kFactorizeNumbers.size(); ++k)
               threads.emplace_back([&divs, k] { divs[k] = factorize(kFactorizeNumbers[k]); });
             for (auto& t : threads) t.join();
             return Sample{.seconds = since(t0), .result = divisors_text(kFactorizeNumbers, divs)};
           },
           .py = {"factorize.py", "threads"}});
  RowSpec pool{.strategy = "ThreadPoolExecutor", .workers = w, .py = {"factorize.py", "threadpool", "--workers", std::to_string(w)}};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [w] {
    auto t0 = Clock::now();
    concur::futures::ThreadPoolExecutor ex({.max_workers = w});
    std::vector<concur::futures::Future<std::vector<long>>> fs;
    for (long n : kFactorizeNumbers) fs.push_back(ex.submit(factorize, n));
    std::vector<std::vector<long>> divs;
    for (auto& f : fs) divs.push_back(f.result());
    return Sample{.seconds = since(t0), .result = divisors_text(kFactorizeNumbers, divs)};
  };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
  RowSpec proc{.strategy = "ProcessPoolExecutor", .workers = w, .py = {"factorize.py", "processpool", "--workers", std::to_string(w)}};
#if CONCUR_LAB_HAVE_PROCESS
  proc.cpp = [w] {
    auto t0 = Clock::now();
    auto divs = process_factorize(kFactorizeNumbers, w);
    return Sample{.seconds = since(t0), .result = divisors_text(kFactorizeNumbers, divs)};
  };
#else
  proc.cpp_missing = missing_module("futures::ProcessPoolExecutor");
#endif
  ctx.row(proc);
}

// ---- gcd ------------------------------------------------------------------------------------

using Pair = std::pair<long, long>;
const std::vector<Pair> kSeedPairs = {{1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620}, {2039045, 2020802}};
/// The seeds' pairs; --quick divides them by 8 (python/gcd.py does the same).
std::vector<Pair> kGcdNumbers = kSeedPairs;

/// The seeds' naive gcd: count down from min(a, b).
long naive_gcd(Pair p) {
  long low = std::min(p.first, p.second);
  for (long i = low; i > 0; --i)
    if (p.first % i == 0 && p.second % i == 0) return i;
  return 1;
}

std::string gcds_text(const std::vector<long>& g) {
  std::string s;
  for (std::size_t k = 0; k < g.size(); ++k) s += (k ? "," : "") + std::to_string(g[k]);
  return s;
}

void run_gcd(Ctx& ctx) {
  kGcdNumbers.clear();
  for (auto p : kSeedPairs) kGcdNumbers.push_back(ctx.cfg.quick ? Pair{p.first / 8, p.second / 8} : p);
  std::vector<long> expect;
  for (auto p : kGcdNumbers) expect.push_back(std::gcd(p.first, p.second));
  ctx.reference(gcds_text(expect));
  const unsigned w = ctx.cfg.workers;
  ctx.row({.strategy = "sequential (map)", .workers = 1, .baseline = true, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<long> g;
             for (auto p : kGcdNumbers) g.push_back(naive_gcd(p));
             return Sample{.seconds = since(t0), .result = gcds_text(g)};
           },
           .py = {"gcd.py", "sequential"}});
  ctx.row({.strategy = "thread per pair", .workers = 4, .cpp = [] {
             auto t0 = Clock::now();
             std::vector<long> g(kGcdNumbers.size());
             std::vector<std::thread> threads;
             for (std::size_t k = 0; k < kGcdNumbers.size(); ++k)
               threads.emplace_back([&g, k] { g[k] = naive_gcd(kGcdNumbers[k]); });
             for (auto& t : threads) t.join();
             return Sample{.seconds = since(t0), .result = gcds_text(g)};
           },
           .py = {"gcd.py", "threads"}});
  RowSpec pool{.strategy = "ThreadPoolExecutor.map", .workers = w, .py = {"gcd.py", "threadpool", "--workers", std::to_string(w)}};
#if CONCUR_LAB_HAVE_FUTURES
  pool.cpp = [w] {
    auto t0 = Clock::now();
    concur::futures::ThreadPoolExecutor ex({.max_workers = w});
    std::vector<long> g;
    for (long r : ex.map(naive_gcd, kGcdNumbers)) g.push_back(r);
    return Sample{.seconds = since(t0), .result = gcds_text(g)};
  };
#else
  pool.cpp_missing = missing_module("futures");
#endif
  ctx.row(pool);
  RowSpec proc{.strategy = "ProcessPoolExecutor.map", .workers = w, .py = {"gcd.py", "processpool", "--workers", std::to_string(w)}};
#if CONCUR_LAB_HAVE_PROCESS
  proc.cpp = [w] {
    auto t0 = Clock::now();
    auto g = process_gcd(kGcdNumbers, w);
    return Sample{.seconds = since(t0), .result = gcds_text(g)};
  };
#else
  proc.cpp_missing = missing_module("futures::ProcessPoolExecutor");
#endif
  ctx.row(proc);

  // The same Executor across MPI ranks: mpiexec -n workers+1 (rank 0 holds the executor).
  RowSpec mpi{.strategy = "MPIPoolExecutor.map (mpiexec)", .workers = w};
#ifdef CONCUR_LAB_MPI_GCD
  if (access("/usr/bin/mpiexec", X_OK) == 0) {
    mpi.cpp = [w, quick = ctx.cfg.quick, reference = ctx.reference()] {
      namespace sp = concur::subprocess;
      std::vector<std::string> args{"mpiexec", "-n", std::to_string(w + 1), CONCUR_LAB_MPI_GCD,
                                    "--seconds"};
      if (quick) args.push_back("--quick");
      // Open MPI as root, oversubscribed, shared memory only (no network probing).
      auto env = sp::environ_with({{"OMPI_ALLOW_RUN_AS_ROOT", "1"},
                                   {"OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"},
                                   {"OMPI_MCA_rmaps_base_oversubscribe", "1"},
                                   {"OMPI_MCA_btl", "self,vader"},
                                   {"OMPI_MCA_btl_vader_single_copy_mechanism", "none"},
                                   {"OMPI_MCA_pml", "ob1"}});
      auto r = sp::run(args, {.capture_output = true, .timeout = std::chrono::seconds(120),
                              .check = true, .env = env});
      // mpi_gcd checks every gcd itself and exits non-zero on a wrong one (check=true throws).
      return Sample{.seconds = std::stod(r.stdout_.value_or("0")), .result = reference};
    };
  } else {
    mpi.cpp_missing = "mpiexec not found (Debian: openmpi-bin)";
  }
#else
  mpi.cpp_missing = missing_module("mpi (-DCONCUR_WITH_MPI=ON)");
#endif
  ctx.row(mpi);
}

// ---- RC4 and SHA-256 tables -----------------------------------------------------------------

/// The job sizes: the seeds' 10 arrays of 149..384 KB, scaled.
std::vector<std::size_t> rc4_sizes(const Config& cfg) {
  std::vector<std::size_t> v;
  const double scale = cfg.quick ? 1.0 / 32 : cfg.seeds_size ? 1.0 : 1.0 / 4;
  for (int k = 0; k < 10; ++k) v.push_back(static_cast<std::size_t>((149 + (384 - 149) * k / 9.0) * 1024 * scale));
  return v;
}

std::string rc4_job_text(const std::vector<std::string>& digests) {
  std::string all;
  for (auto& d : digests) all += d;
  return hex(digest("SHA256", reinterpret_cast<const std::uint8_t*>(all.data()), all.size())).substr(0, 32);
}

/// The seeds' table: sequential, then ThreadPoolExecutor and ProcessPoolExecutor with 1..N
/// workers. `process_all(k)` runs every job on a k-process pool.
void sha_or_rc4_table(Ctx& ctx, const char* script, const std::function<std::string(int)>& job, std::size_t jobs,
                      const std::function<std::vector<std::string>(unsigned)>& process_all) {
  const unsigned n = std::max(2u, ctx.cfg.workers);
  // Reference: the jobs run one by one.
  auto run_all_seq = [&] {
    std::vector<std::string> d;
    for (std::size_t j = 0; j < jobs; ++j) d.push_back(job(static_cast<int>(j)));
    return rc4_job_text(d);
  };
  ctx.reference(run_all_seq());
  ctx.row({.strategy = "sequential", .workers = 1, .baseline = true, .cpp = [&] {
             auto t0 = Clock::now();
             auto r = run_all_seq();
             return Sample{.seconds = since(t0), .result = r};
           },
           .py = {script, "sequential"}});
  // --quick keeps only the N-worker rows (the CTest run must stay short on a loaded machine).
  const unsigned first = ctx.cfg.quick ? n : 1;
  for (unsigned k = first; k <= n; ++k) {
    RowSpec tp{.strategy = "ThreadPoolExecutor", .workers = k, .py = {script, "threadpool", "--workers", std::to_string(k)}};
#if CONCUR_LAB_HAVE_FUTURES
    tp.cpp = [&, k] {
      auto t0 = Clock::now();
      concur::futures::ThreadPoolExecutor ex({.max_workers = k});
      std::vector<concur::futures::Future<std::string>> fs;
      for (std::size_t j = 0; j < jobs; ++j) fs.push_back(ex.submit(job, static_cast<int>(j)));
      std::vector<std::string> d;
      for (auto& f : fs) d.push_back(f.result());
      return Sample{.seconds = since(t0), .result = rc4_job_text(d)};
    };
#else
    tp.cpp_missing = missing_module("futures");
#endif
    ctx.row(tp);
  }
  for (unsigned k = first; k <= n; ++k) {
    RowSpec pp{.strategy = "ProcessPoolExecutor", .workers = k, .py = {script, "processpool", "--workers", std::to_string(k)}};
#if CONCUR_LAB_HAVE_PROCESS
    pp.cpp = [&, k] {
      auto t0 = Clock::now();
      auto d = process_all(k);
      return Sample{.seconds = since(t0), .result = rc4_job_text(d)};
    };
#else
    (void)process_all;
    pp.cpp_missing = missing_module("futures::ProcessPoolExecutor");
#endif
    ctx.row(pp);
  }
}

void run_rc4(Ctx& ctx) {
  auto sizes = rc4_sizes(ctx.cfg);
  auto job = [sizes](int j) { return rc4_job(j, sizes[static_cast<std::size_t>(j)]); };
  std::function<std::vector<std::string>(unsigned)> process_all;
#if CONCUR_LAB_HAVE_PROCESS
  process_all = [sizes](unsigned k) { return process_rc4(sizes, k); };
#endif
  sha_or_rc4_table(ctx, "arcfour.py", job, sizes.size(), process_all);
  ctx.note("RC4 arrays: 10 of " + std::to_string(sizes.front() / 1024) + ".." + std::to_string(sizes.back() / 1024) +
           " KB (the seeds: 149..384 KB), generated by xorshift32 inside each job, encrypted and decrypted; result = "
           "SHA-256 over the ciphertext digests, identical in both languages.");
}

void run_sha(Ctx& ctx) {
  std::size_t size = ctx.cfg.quick ? 16 * 1024 : ctx.cfg.seeds_size ? 1024 * 1024 : 256 * 1024;
  auto job = [size](int j) { return sha_job(j, size); };
  std::function<std::vector<std::string>(unsigned)> process_all;
#if CONCUR_LAB_HAVE_PROCESS
  process_all = [size](unsigned k) { return process_sha(10, size, k); };
#endif
  sha_or_rc4_table(ctx, "sha.py", job, 10, process_all);
  ctx.note("SHA-256 jobs: 10 x " + std::to_string(size / 1024) +
           " KB (the seeds: 1 MB), each generated byte by byte (as the seeds' randrange loop) and hashed with "
           "OpenSSL's SHA-256; the 10 digests are identical in both languages.");
}

}  // namespace

// Shared with the process-pool jobs.
std::vector<std::uint8_t> rc4(const std::vector<std::uint8_t>& key, const std::vector<std::uint8_t>& in) {
  std::uint8_t s[256];
  for (int i = 0; i < 256; ++i) s[i] = static_cast<std::uint8_t>(i);
  for (int i = 0, j = 0; i < 256; ++i) {
    j = (j + s[i] + key[static_cast<std::size_t>(i) % key.size()]) & 0xFF;
    std::swap(s[i], s[j]);
  }
  std::vector<std::uint8_t> out(in.size());
  int i = 0, j = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    i = (i + 1) & 0xFF;
    j = (j + s[i]) & 0xFF;
    std::swap(s[i], s[j]);
    out[k] = in[k] ^ s[(s[i] + s[j]) & 0xFF];
  }
  return out;
}

std::string rc4_job(int j, std::size_t size) {
  static const std::vector<std::uint8_t> key = {'c', 'o', 'n', 'c', 'u', 'r', '-', 'l', 'a', 'b'};
  auto in = xorshift_bytes(2000u + static_cast<std::uint32_t>(j), size);
  auto cipher = rc4(key, in);
  auto back = rc4(key, cipher);
  if (back != in) throw std::runtime_error("RC4 round trip failed");
  return hex(digest("SHA256", cipher.data(), cipher.size()));
}

std::string sha_job(int j, std::size_t size) {
  auto data = xorshift_bytes(1000u + static_cast<std::uint32_t>(j), size);
  return hex(digest("SHA256", data.data(), data.size()));
}

void add_cpu_experiments(std::vector<Experiment>& v) {
  v.push_back({"factorize", "All divisors of 4 numbers by trial division: threads do not help CPython (GIL), they do help C++.",
               "sequential 0.333 s / 1.040 s; 4 threads 0.368 s / 1.061 s (slower)", run_factorize});
  v.push_back({"gcd", "Naive gcd of 4 pairs: ThreadPoolExecutor is slower in CPython, ProcessPoolExecutor faster.",
               "sequential 1.507 s; ThreadPoolExecutor(2) 1.749 s; ProcessPoolExecutor(2) 0.939 s", run_gcd});
  v.push_back({"rc4", "RC4 encrypt+decrypt of 10 arrays, 1..N workers: the seeds' workers-vs-time table.",
               "1/2/3/4 workers 11.48/8.65/6.04/5.58 s (2.06x on 4 cores)", run_rc4});
  v.push_back({"sha256", "SHA-256 of 10 generated arrays, 1..N workers: the seeds' second workers-vs-time table.",
               "1/2/3/4 workers 22.66/14.90/11.91/10.89 s (2.08x)", run_sha});
}

}  // namespace lab
