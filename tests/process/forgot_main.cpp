// A program whose main() forgets concur::futures::process_worker_main(): the pool must fail with
// BrokenProcessPool naming the fix, quickly, instead of hanging or spawning workers recursively.
// Exits 0 when that is what happens.
#include <chrono>
#include <cstdio>
#include <string>

#include "concur/futures/process_pool.hpp"
#include "tsan_suppressions.hpp"

namespace {
int add(int a, int b) { return a + b; }
CONCUR_TASK(add);
}  // namespace

int main() {
  using namespace std::chrono_literals;
  concur::futures::ProcessPoolExecutor pool({.max_workers = 1});
  try {
    pool.submit(add, 1, 2).result(120s);
  } catch (const concur::futures::BrokenProcessPool& e) {
    const std::string msg = e.what();
    std::printf("BrokenProcessPool: %s\n", msg.c_str());
    return msg.find("process_worker_main(argc, argv)") != std::string::npos ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("unexpected: %s\n", e.what());
    return 1;
  }
  std::printf("the task ran although main() has no process_worker_main()\n");
  return 1;
}
