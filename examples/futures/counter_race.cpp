// Effective Python §54: a shared Counter loses updates without a Lock; LockingCounter does not.
// The unlocked increment is written as a relaxed atomic load followed by a separate store: the
// same read-modify-write race as Python's `self.count += offset` (getattr, add, setattr), with
// no undefined behaviour, so the program stays clean under ThreadSanitizer.
#include <atomic>
#include <latch>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "concur/futures.hpp"

namespace {

class Counter {
 public:
  void increment(long offset) {
    const long value = count_.load(std::memory_order_relaxed);  // getattr(counter, 'count')
    count_.store(value + offset, std::memory_order_relaxed);     // setattr(counter, 'count', ...)
  }
  long count() const { return count_.load(); }

 private:
  std::atomic<long> count_{0};
};

class LockingCounter {
 public:
  void increment(long offset) {
    std::lock_guard lock(mutex_);  // with self.lock:
    count_ += offset;
  }
  long count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  long count_ = 0;
};

template <class C>
long run(C& counter, long how_many) {
  // def worker(sensor_index, how_many, counter): for _ in range(how_many): counter.increment(1)
  // A start line, so the five workers really overlap (C++ runs 10^5 increments in well under
  // the time it takes to start a thread).
  concur::futures::ThreadPoolExecutor pool({.max_workers = 5});
  std::latch start(5);
  for (int i = 0; i < 5; ++i)
    pool.submit([&counter, &start, how_many] {
      start.arrive_and_wait();
      for (long k = 0; k < how_many; ++k) counter.increment(1);
    });
  pool.shutdown();
  return counter.count();
}

}  // namespace

int main(int argc, char** argv) {
  // The seed uses 10**5; C++ finishes that many increments within one scheduler time slice, so
  // the threads barely overlap. 10**6 per thread makes the race visible on a 2-core machine.
  const long how_many = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  Counter racy;
  LockingCounter locked;
  const long lost = run(racy, how_many);
  const long safe = run(locked, how_many);
  std::printf("Counter should be %ld, got %ld (%ld updates lost)\n", 5 * how_many, lost,
              5 * how_many - lost);
  std::printf("LockingCounter should be %ld, got %ld\n", 5 * how_many, safe);
  return safe == 5 * how_many ? 0 : 1;
}
