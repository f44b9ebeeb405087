#include "concur/futures.hpp"  // first: the umbrella compiles on its own

#include <gtest/gtest.h>

TEST(FuturesUmbrella, PythonNamesAreThere) {
  concur::futures::ThreadPoolExecutor ex({.max_workers = 1});
  auto f = ex.submit([] { return 41 + 1; });
  auto [done, not_done] = concur::futures::wait(std::vector{f}, {.return_when = concur::futures::ALL_COMPLETED});
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(f.result(), 42);
}
