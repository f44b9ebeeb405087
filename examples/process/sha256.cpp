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

namespace {

std::string hex(const unsigned char* p, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

// sha_futures.py's sha(size): random bytes, then their SHA-256 hex digest (`rounds` times).
std::string sha(long size, int seed, int rounds) {
  std::string digest;
  std::mt19937_64 rng(static_cast<unsigned>(seed));
  std::vector<std::uint64_t> data(static_cast<std::size_t>(size) / 8);
  for (int r = 0; r < rounds; ++r) {
    for (auto& w : data) w = rng();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(data.data(), data.size() * 8, md, &len, EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("EVP_Digest failed");
    }
    digest = hex(md, len);
  }
  return digest;
}
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
