// main() for the process stress tests: the worker hook first, then GoogleTest.
#include <gtest/gtest.h>

#include "concur/futures/process_pool.hpp"
#include "process/tsan_suppressions.hpp"

int main(int argc, char** argv) {
  concur::futures::process_worker_main(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
