// Effective Python §64 "gcd": sequential vs ThreadPoolExecutor(max_workers=2).
// CPython: 1.507 s sequential, 1.749 s with 2 threads (the GIL). Here: about 2x faster on 2 cores.
//
//   Python (seed)                                   C++ (concur)
//   pool = ThreadPoolExecutor(max_workers=2)        ThreadPoolExecutor pool({.max_workers = 2});
//   results = list(pool.map(gcd, NUMBERS))          for (long r : pool.map(gcd, numbers)) ...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "concur/futures.hpp"

namespace {

long gcd(std::pair<long, long> pair) {
  const auto [a, b] = pair;
  const long low = std::min(a, b);
  for (long i = low; i > 0; --i)
    if (a % i == 0 && b % i == 0) return i;
  return 1;  // not reachable: 1 divides everything
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int repeat = argc > 1 ? std::atoi(argv[1]) : 4;  // the seeds' 4 pairs, repeated
  std::vector<std::pair<long, long>> numbers;
  for (int r = 0; r < repeat; ++r)
    numbers.insert(numbers.end(), {{1963309, 2265973}, {2030677, 3814172}, {1551645, 2229620},
                                   {2039045, 2020802}});

  auto t0 = std::chrono::steady_clock::now();
  std::vector<long> sequential;
  for (const auto& p : numbers) sequential.push_back(gcd(p));
  const double seq = since(t0);

  t0 = std::chrono::steady_clock::now();
  std::vector<long> pooled;
  {
    concur::futures::ThreadPoolExecutor pool({.max_workers = 2});
    for (long r : pool.map(gcd, numbers)) pooled.push_back(r);
  }
  const double par = since(t0);

  std::printf("sequential:            %.3f seconds\n", seq);
  std::printf("ThreadPoolExecutor(2): %.3f seconds (%.2fx)\n", par, seq / par);
  if (pooled != sequential) {
    std::fprintf(stderr, "gcd: results differ\n");
    return 1;
  }
  std::printf("gcds: %ld %ld %ld %ld\n", sequential[0], sequential[1], sequential[2], sequential[3]);
  return 0;
}
