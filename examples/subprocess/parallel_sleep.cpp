// Seed 004 §52, third program: children run in parallel — 10 x `sleep 1` finish in about 1 s.
//
//   start = time.time()
//   sleep_procs = []
//   for _ in range(10):
//       proc = subprocess.Popen(["sleep", "1"])
//       sleep_procs.append(proc)
//   for proc in sleep_procs:
//       proc.communicate()
//   print(f"Finished in {time.time() - start:.3} seconds")
//
// Usage: subprocess_parallel_sleep [count] [seconds]   (default 10 x 1 s)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "concur/subprocess.hpp"

namespace subprocess = concur::subprocess;

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 10;
  const std::string seconds = argc > 2 ? argv[2] : "1";
  const auto start = std::chrono::steady_clock::now();
  std::vector<subprocess::Popen> sleep_procs;
  for (int i = 0; i < count; ++i) sleep_procs.emplace_back(std::vector<std::string>{"sleep", seconds});
  for (auto& proc : sleep_procs) proc.communicate();
  const double delta = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("Finished in %.3g seconds\n", delta);
  for (auto& proc : sleep_procs)
    if (proc.returncode() != 0) return 1;
  // Sequentially this would take count x seconds; in parallel it is about `seconds`.
  return delta < std::atof(seconds.c_str()) * count ? 0 : 1;
}
