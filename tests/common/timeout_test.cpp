#include "concur/timeout.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>

using namespace std::chrono_literals;

TEST(Timeout, AnyDurationConverts) {
  concur::Timeout a = 5s, b = 250ms, c = 0.5s;
  EXPECT_DOUBLE_EQ(a->count(), 5.0);
  EXPECT_DOUBLE_EQ(b->count(), 0.25);
  EXPECT_DOUBLE_EQ(c->count(), 0.5);
}

TEST(Timeout, DeadlineRules) {
  EXPECT_FALSE(concur::deadline_from(std::nullopt));  // None: wait forever
  const auto now = std::chrono::steady_clock::now();
  const auto neg = concur::deadline_from(-1s);
  ASSERT_TRUE(neg);
  EXPECT_LE(*neg, std::chrono::steady_clock::now());  // negative polls
  const auto later = concur::deadline_from(1s);
  EXPECT_GE(*later, now + 1s);
  EXPECT_EQ(*concur::deadline_from(std::chrono::duration<double>(1e300)),
            std::chrono::steady_clock::time_point::max());
}
