// Stress test of MPIPoolExecutor's batches (concur/detail/mpi_batch.hpp): a chunk's futures share
// one slab that lives until the last of them is released, whoever releases it — the consumer,
// a dropped map(), shutdown(cancel_futures), or a future kept after the executor is gone. Run by
// CTest through mpiexec (labels mpi, stress). Rank 0 checks; exits non-zero on a failed check.
#include "concur/detail/mpi_batch.hpp"

#include <atomic>
#include <cstdio>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "concur/mpi.hpp"
#include "mpi_check.hpp"

namespace {

long twice(long x) {
  if (x % 997 == 13) throw std::out_of_range("unlucky " + std::to_string(x));
  return 2 * x;
}
CONCUR_TASK(twice);


using concur::mpi::MPIPoolExecutor;

// Every element right (value or its exception), many chunk sizes, some maps abandoned midway.
void map_and_abandon(MPIPoolExecutor& pool, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<long> xs(5000);
  std::iota(xs.begin(), xs.end(), 0L);
  for (int round = 0; round < 30; ++round) {
    const std::size_t chunksize = 1 + rng() % 300;
    const std::size_t stop_at = rng() % 3 == 0 ? rng() % xs.size() : xs.size();
    std::optional<std::size_t> buffersize;
    if (rng() % 2) buffersize = 1 + rng() % 700;
    auto results = pool.map(twice, xs, {.chunksize = chunksize, .buffersize = buffersize});
    std::size_t i = 0;
    bool ok = true;
    for (auto it = results.begin(); it != results.end() && i < stop_at; ++it, ++i) {
      if (xs[i] % 997 == 13) {
        try {
          (void)*it;
          ok = false;
        } catch (const std::out_of_range&) {
        }
      } else {
        ok = ok && *it == 2 * xs[i];
      }
    }
    CHECK(ok);
  }  // abandoned maps cancel what has not started; the rest completes into released slabs
}

void concurrent_submitters() {
  MPIPoolExecutor pool;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 3; ++t) threads.emplace_back([&pool, t] { map_and_abandon(pool, 100 + t); });
  // Single submits alongside, a few of them kept past the executor's life.
  std::vector<concur::futures::Future<long>> kept;
  for (long i = 0; i < 2000; ++i) {
    auto f = pool.submit(twice, i);
    if (i % 100 == 0) kept.push_back(f);
  }
  for (auto& t : threads) t.join();
  pool.shutdown();
  for (std::size_t i = 0; i < kept.size(); ++i) CHECK(kept[i].result() == 200 * static_cast<long>(i));
}

void cancel_mid_flight() {
  std::vector<long> xs(20000);
  std::iota(xs.begin(), xs.end(), 0L);
  for (int round = 0; round < 5; ++round) {
    MPIPoolExecutor pool;
    auto results = pool.map(twice, xs, {.chunksize = 50});
    auto it = results.begin();
    for (int i = 0; i < 100 * round; ++i) ++it;
    pool.shutdown({.wait = true, .cancel_futures = true});
    std::size_t done = 0, cancelled = 0;
    for (const auto& f : results.pending()) {
      CHECK(f.done());
      if (f.cancelled()) ++cancelled;
      else ++done;
    }
    CHECK(done + cancelled == results.pending().size());
  }  // results outlives its executor: its slabs are freed here
}

}  // namespace

int main(int argc, char** argv) {
  concur::mpi::Runtime mpi(argc, argv);
  {
    MPIPoolExecutor pool;
    map_and_abandon(pool, 1);
  }
  concurrent_submitters();
  cancel_mid_flight();
  std::printf("%s (%d failures, %d ranks)\n", failures ? "FAILED" : "OK", failures, mpi.size());
  return failures ? 1 : 0;
}
