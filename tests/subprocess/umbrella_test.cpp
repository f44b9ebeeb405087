#include "concur/subprocess.hpp"

#include <gtest/gtest.h>

TEST(Umbrella, SeedsFirstProgram) {
  namespace subprocess = concur::subprocess;
  auto result = subprocess::run({"echo", "Hello from the child!"}, {.capture_output = true, .text = true});
  result.check_returncode();
  EXPECT_EQ(result.stdout_, "Hello from the child!\n");
}
