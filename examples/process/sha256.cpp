// The seeds' SHA-256 experiment (Fluent Python, sha_futures.py): SHA-256 of 10 random 1 MB byte
// arrays, each made and hashed in a worker through OpenSSL (as hashlib does), with 1 and 2 workers.
//
// Usage: process_sha256 [--workers N] [--rounds R]   (without --workers: 1 then 2)
#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "concur/futures/process_pool.hpp"
#define SEED_WORK_WITH_SHA 1
#include "seed_work.hpp"

namespace {

// sha_futures.py's sha(size): random bytes, then their SHA-256 hex digest (seed_work.hpp).
std::string sha(long size, int seed, int rounds) { return seed_work::sha(size, seed, rounds); }
CONCUR_TASK(sha);

double run(int workers, int rounds, std::vector<std::string>& digests) {
  const auto t0 = std::chrono::steady_clock::now();
  concur::futures::ProcessPoolExecutor pool({.max_workers = static_cast<std::size_t>(workers)});
  std::vector<concur::futures::Future<std::string>> fs;
  for (int i = 0; i < 10; ++i) fs.push_back(pool.submit(sha, 1L << 20, i, rounds));
  digests.clear();
  for (auto& f : fs) digests.push_back(f.result());
  pool.shutdown();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  concur::futures::process_worker_main(argc, argv);
  int workers = 0, rounds = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
  }
  std::vector<std::string> first;
  for (int w : workers ? std::vector<int>{workers} : std::vector<int>{1, 2}) {
    std::vector<std::string> digests;
    const double t = run(w, rounds, digests);
    std::printf("SHA-256 of 10 x 1 MB, %d round(s), %d worker(s): %.3f s  (first digest %s)\n", rounds, w, t,
                digests[0].c_str());
    if (first.empty()) first = digests;
    if (digests != first) return 1;  // same inputs, same digests whatever the worker count
  }
  // Checked against a local computation.
  return first[3] == sha(1L << 20, 3, rounds) ? 0 : 1;
}
