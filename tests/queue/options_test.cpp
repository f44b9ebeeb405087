#include "concur/queue/options.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace std::chrono_literals;
namespace q = concur::queue;

TEST(QueueOptions, PythonDefaults) {
  q::PutOptions p;
  EXPECT_TRUE(p.block);
  EXPECT_FALSE(p.timeout.has_value());
  q::GetOptions g{.block = false, .timeout = 250ms};
  EXPECT_FALSE(g.block);
  EXPECT_DOUBLE_EQ(g.timeout->count(), 0.25);
}

TEST(QueueOptions, StatusNames) {
  EXPECT_STREQ(q::to_string(q::Status::ok), "ok");
  EXPECT_STREQ(q::to_string(q::Status::shut_down), "shut_down");
  static_assert(q::to_string(q::Status::full)[0] == 'f');
}
