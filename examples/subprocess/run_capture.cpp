// Seed 004 §52, first program: run a child, capture its output, check its status.
//
//   result = subprocess.run(["echo", "Hello from the child!"], capture_output=True, encoding="utf-8")
//   result.check_returncode()
//   print(result)
//   print(result.stdout)
#include <iostream>

#include "concur/subprocess.hpp"

namespace subprocess = concur::subprocess;

int main() {
  auto result = subprocess::run({"echo", "Hello from the child!"}, {.capture_output = true, .text = true});
  result.check_returncode();  // throws CalledProcessError on a non-zero exit status
  std::cout << result << '\n';
  std::cout << *result.stdout_;
  return result.stdout_ == "Hello from the child!\n" ? 0 : 1;
}
