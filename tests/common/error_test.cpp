#include "concur/error.hpp"  // first: the header compiles on its own

#include <gtest/gtest.h>

#include <system_error>

TEST(Error, HierarchyMirrorsPython) {
  EXPECT_THROW(throw concur::TimeoutError(), concur::Error);
  EXPECT_THROW(throw concur::CancelledError(), concur::Error);
  EXPECT_THROW(throw concur::InvalidStateError("x"), std::runtime_error);
  EXPECT_THROW(throw concur::futures::BrokenThreadPool("x"), concur::futures::BrokenExecutor);
  EXPECT_THROW(throw concur::futures::BrokenProcessPool("x"), concur::futures::BrokenExecutor);
  EXPECT_STREQ(concur::TimeoutError().what(), "timed out");
}

TEST(Error, RemoteErrorCarriesTypeAndMessage) {
  concur::RemoteError e("my::Error", "went wrong");
  EXPECT_EQ(e.type_name(), "my::Error");
  EXPECT_EQ(e.message(), "went wrong");
  EXPECT_STREQ(e.what(), "my::Error: went wrong");
}
