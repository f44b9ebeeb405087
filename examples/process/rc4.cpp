// The seeds' RC4 experiment (Fluent Python, arcfour_futures.py): 10 byte arrays of 149–384 KB,
// each generated, encrypted and decrypted in a worker with RC4, and checked, with 1 and 2 workers.
//
// Usage: process_rc4 [--workers N] [--rounds R]   (without --workers: 1 then 2; R repeats the job)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "concur/futures/process_pool.hpp"
#include "seed_work.hpp"

namespace {

// arcfour_futures.py's crypto_process(size, key): make the data, encrypt, decrypt, check
// (seed_work.hpp). Returns the size when the round trip is correct, -1 otherwise.
long crypto_process(long size, std::string key, int rounds) {
  return seed_work::crypto_process(size, key, rounds);
}
CONCUR_TASK(crypto_process);

double run(int workers, int rounds) {
  // 10 sizes between 149 and 384 KB, as in the seeds.
  std::vector<long> sizes;
  std::mt19937 rng(20261123);
  for (int i = 0; i < 10; ++i) sizes.push_back(149 * 1024 + static_cast<long>(rng() % ((384 - 149) * 1024)));
  const auto t0 = std::chrono::steady_clock::now();
  concur::futures::ProcessPoolExecutor pool({.max_workers = static_cast<std::size_t>(workers)});
  std::vector<concur::futures::Future<long>> fs;
  for (long size : sizes) fs.push_back(pool.submit(crypto_process, size, std::string("'Twas brillig"), rounds));
  for (std::size_t i = 0; i < fs.size(); ++i) {
    if (fs[i].result() != sizes[i]) {
      std::printf("RC4 round trip FAILED for %ld bytes\n", sizes[i]);
      std::exit(1);
    }
  }
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
  for (int w : workers ? std::vector<int>{workers} : std::vector<int>{1, 2}) {
    std::printf("RC4 encrypt+decrypt of 10 arrays (149-384 KB), %d round(s), %d worker(s): %.3f s (checked)\n",
                rounds, w, run(w, rounds));
  }
  return 0;
}
