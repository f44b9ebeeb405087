#include "concur/queue/errors.hpp"

#include <gtest/gtest.h>

#include <type_traits>

namespace q = concur::queue;

TEST(QueueErrors, DeriveFromConcurError) {
  static_assert(std::is_base_of_v<concur::Error, q::Full>);
  static_assert(std::is_base_of_v<concur::Error, q::Empty>);
  static_assert(std::is_base_of_v<concur::Error, q::ShutDown>);
  EXPECT_STRNE(q::Full().what(), "");
  EXPECT_STREQ(q::Empty("custom").what(), "custom");
  EXPECT_NE(std::string(q::ShutDown().what()).find("ShutDown"), std::string::npos);
}
