// Effective Python §53 "factorize": sequential, a thread per number, and ThreadPoolExecutor.
// In CPython the threaded version is *slower* (the GIL); here every core works.
//
//   Python (seed)                                   C++ (concur)
//   def factorize(number):                          std::vector<long> factorize(long number)
//   for thread in threads: thread.join()            for (auto& t : threads) t.join();
//   pool.submit(factorize, n) ... f.result()        pool.submit(factorize, n) ... f.result()
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "concur/futures.hpp"

namespace {

std::vector<long> factorize(long number) {
  std::vector<long> factors;
  for (long i = 1; i <= number; ++i)
    if (number % i == 0) factors.push_back(i);
  return factors;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
  const std::vector<long> numbers = {2139079, 1214759, 1516637, 1852285};

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<long>> sequential;
  for (long n : numbers) sequential.push_back(factorize(n));
  std::printf("sequential:        %.3f seconds\n", since(t0));

  // class FactorizeThread(Thread) ... thread.start() ... thread.join()
  t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<long>> by_thread(numbers.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    threads.emplace_back([&, i] { by_thread[i] = factorize(numbers[i]); });
  for (auto& t : threads) t.join();
  std::printf("thread per number: %.3f seconds\n", since(t0));

  t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<long>> pooled;
  {
    concur::futures::ThreadPoolExecutor pool({.max_workers = numbers.size()});
    std::vector<concur::futures::Future<std::vector<long>>> futures;
    for (long n : numbers) futures.push_back(pool.submit(factorize, n));
    for (auto& f : futures) pooled.push_back(f.result());
  }
  std::printf("ThreadPoolExecutor: %.3f seconds\n", since(t0));

  if (by_thread != sequential || pooled != sequential) {
    std::fprintf(stderr, "factorize: results differ between strategies\n");
    return 1;
  }
  for (std::size_t i = 0; i < numbers.size(); ++i)
    std::printf("  %ld: %zu divisors\n", numbers[i], sequential[i].size());
  return 0;
}
