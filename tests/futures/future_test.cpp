#include "concur/futures/future.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>

TEST(Future, PromiseSetsResult) {
  concur::futures::Promise<int> p;
  auto f = p.get_future();
  EXPECT_FALSE(f.done());
  p.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 42);
}
