// Seed 004 §52, second program: start a child with Popen and keep working while polling it.
//
//   proc = subprocess.Popen(["sleep", "1"])
//   while proc.poll() is None:
//       print("Working...")
//       ...  # some time-consuming work
//   print("Exit status", proc.poll())
//
// Usage: subprocess_popen_poll [seconds]   (default 0.3, so the CTest stays quick)
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "concur/subprocess.hpp"

namespace subprocess = concur::subprocess;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const std::string seconds = argc > 1 ? argv[1] : "0.3";
  subprocess::Popen proc({"sleep", seconds});
  int rounds = 0;
  while (!proc.poll()) {
    std::cout << "Working...\n";
    std::this_thread::sleep_for(50ms);  // stands in for the parent's own work
    ++rounds;
  }
  std::cout << "Exit status " << *proc.poll() << " after " << rounds << " rounds of work\n";
  return *proc.returncode() == 0 ? 0 : 1;
}
