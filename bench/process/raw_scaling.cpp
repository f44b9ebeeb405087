// The machine's own ceiling for the 2-worker speedup figure, with no pool at all: the examples'
// exact task lists (examples/process/{gcd,rc4,sha256}.cpp, same rounds as bench/process/run.sh)
// run by one process alone, then by two processes at once (each the whole list). Two
// independent processes on two CPUs share nothing but the machine, so
//   scaling = 2 * t(one alone) / t(two at once)
// is the best any process pool can reach for that work on this machine (2.0 on ideal hardware).
// Also prints the list-scheduling bound of each task split (the seeds' gcd: four uneven tasks).
//
// Usage: process_raw_scaling [--reps N] [--gcd-rounds 30] [--rc4-rounds 10] [--sha-rounds 20]
// Prints one line per repetition, then the medians.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#if __has_include(<openssl/evp.h>) && defined(CONCUR_HAVE_OPENSSL)
#include <openssl/evp.h>
#define RAW_HAVE_SHA 1
#else
#define RAW_HAVE_SHA 0
#endif

namespace {

using Clock = std::chrono::steady_clock;
volatile long g_sink = 0;  // results go here so the work is not optimized away

long gcd(long a, long b) {
  const long low = std::min(a, b);
  for (long i = low; i > 0; --i) {
    if (a % i == 0 && b % i == 0) return i;
  }
  return 0;
}
long gcd_task(std::pair<long, long> p, int rounds) {  // as examples/process/gcd.cpp
  long r = 0;
  for (int i = 0; i < rounds; ++i) {
    volatile long a = p.first;
    r = gcd(a, p.second);
  }
  return r;
}

std::vector<std::uint8_t> arcfour(const std::string& key, const std::vector<std::uint8_t>& in) {
  std::uint8_t s[256];
  for (int i = 0; i < 256; ++i) s[i] = static_cast<std::uint8_t>(i);
  for (int i = 0, j = 0; i < 256; ++i) {
    j = (j + s[i] + static_cast<std::uint8_t>(key[i % key.size()])) & 0xff;
    std::swap(s[i], s[j]);
  }
  std::vector<std::uint8_t> out(in.size());
  std::uint8_t i = 0, j = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    i = static_cast<std::uint8_t>(i + 1);
    j = static_cast<std::uint8_t>(j + s[i]);
    std::swap(s[i], s[j]);
    out[k] = in[k] ^ s[static_cast<std::uint8_t>(s[i] + s[j])];
  }
  return out;
}
long crypto_process(long size, const std::string& key, int rounds) {  // as examples/process/rc4.cpp
  std::mt19937 rng(static_cast<unsigned>(size));
  std::vector<std::uint8_t> in(static_cast<std::size_t>(size));
  for (auto& b : in) b = static_cast<std::uint8_t>(rng());
  for (int r = 0; r < rounds; ++r) {
    const auto cypher = arcfour(key, in);
    const auto out = arcfour(key, cypher);
    if (out != in || cypher == in) return -1;
  }
  return size;
}

#if RAW_HAVE_SHA
long sha(long size, int seed, int rounds) {  // as examples/process/sha256.cpp (digest byte only)
  std::mt19937_64 rng(static_cast<unsigned>(seed));
  std::vector<std::uint64_t> data(static_cast<std::size_t>(size) / 8);
  long x = 0;
  for (int r = 0; r < rounds; ++r) {
    for (auto& w : data) w = rng();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(data.data(), data.size() * 8, md, &len, EVP_sha256(), nullptr) != 1) std::abort();
    x += md[0];
  }
  return x;
}
#endif

// Runs `job` in `n` forked children at once (this program is single-threaded); seconds until all exit.
double in_processes(int n, const std::function<void()>& job) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      job();
      std::_Exit(0);
    }
    if (pid < 0) std::abort();
  }
  for (int i = 0; i < n; ++i) ::wait(nullptr);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Makespan bound of dealing `costs` in order to whichever of 2 workers is free first.
double list_schedule_bound(const std::vector<double>& costs) {
  double a = 0, b = 0, total = 0;
  for (double c : costs) {
    (a <= b ? a : b) += c;
    total += c;
  }
  return total / std::max(a, b);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, gcd_rounds = 30, rc4_rounds = 10, sha_rounds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--gcd-rounds")) gcd_rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rc4-rounds")) rc4_rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--sha-rounds")) sha_rounds = std::atoi(argv[i + 1]);
  }
  const std::vector<std::pair<long, long>> pairs = {
      {1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620}, {2039045, 2020802}};
  std::vector<long> sizes;  // rc4.cpp's sizes
  std::mt19937 rng(20261123);
  for (int i = 0; i < 10; ++i) sizes.push_back(149 * 1024 + static_cast<long>(rng() % ((384 - 149) * 1024)));

  const std::vector<std::pair<const char*, std::function<void()>>> jobs = {
      {"gcd", [&] { for (const auto& p : pairs) g_sink = g_sink + gcd_task(p, gcd_rounds); }},
      {"rc4", [&] { for (long s : sizes) g_sink = g_sink + crypto_process(s, "'Twas brillig", rc4_rounds); }},
#if RAW_HAVE_SHA
      {"sha", [&] { for (int i = 0; i < 10; ++i) g_sink = g_sink + sha(1L << 20, i, sha_rounds); }},
#endif
  };
  std::vector<std::vector<double>> scaling(jobs.size());
  for (int r = 0; r < reps; ++r) {
    std::printf("rep %d:", r + 1);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      const double one = in_processes(1, jobs[j].second);
      const double two = in_processes(2, jobs[j].second);
      scaling[j].push_back(2 * one / two);
      std::printf("  %s %.3f s alone, %.3f s two at once: %.2fx", jobs[j].first, one, two, 2 * one / two);
    }
    std::printf("\n");
  }
  std::printf("median raw 2-process scaling (no pool):");
  for (std::size_t j = 0; j < jobs.size(); ++j) std::printf("  %s %.2fx", jobs[j].first, median(scaling[j]));
  std::printf("\n");
  // gcd's work per pair is (min(a, b) - gcd + 1) iterations; rc4's is proportional to the size.
  std::vector<double> gcd_costs;
  for (const auto& [a, b] : pairs) gcd_costs.push_back(static_cast<double>(std::min(a, b) - gcd(a, b) + 1));
  std::vector<double> rc4_costs(sizes.begin(), sizes.end());
  std::printf("list-scheduling bound of the task split (2 workers): gcd %.3fx  rc4 %.3fx  sha %.3fx\n",
              list_schedule_bound(gcd_costs), list_schedule_bound(rc4_costs),
              list_schedule_bound(std::vector<double>(10, 1.0)));
  return 0;
}
