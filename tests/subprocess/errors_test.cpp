#include "concur/subprocess/errors.hpp"

#include <string>

#include <gtest/gtest.h>

namespace subprocess = concur::subprocess;
using namespace std::chrono_literals;

TEST(Errors, CalledProcessErrorCarriesPythonsFieldsAndMessage) {
  const subprocess::CalledProcessError e(3, {"false", "x"}, "out", std::nullopt);
  EXPECT_EQ(e.returncode, 3);
  EXPECT_EQ(e.cmd, (std::vector<std::string>{"false", "x"}));
  EXPECT_EQ(e.output, "out");
  EXPECT_FALSE(e.stderr_);
  EXPECT_STREQ(e.what(), "Command '['false', 'x']' returned non-zero exit status 3.");
  const subprocess::CalledProcessError k(-9, {"sleep"});
  EXPECT_STREQ(k.what(), "Command '['sleep']' died with <Signals.SIGKILL: 9>.");
}

TEST(Errors, TimeoutExpiredCarriesPythonsFieldsAndMessage) {
  const subprocess::TimeoutExpired e({"sleep", "10"}, 500ms, "so far", "err");
  EXPECT_EQ(e.timeout.count(), 0.5);
  EXPECT_EQ(e.output, "so far");
  EXPECT_EQ(e.stderr_, "err");
  EXPECT_STREQ(e.what(), "Command '['sleep', '10']' timed out after 0.5 seconds");
}

TEST(Errors, Hierarchy) {
  try {
    throw subprocess::TimeoutExpired({"x"}, 1s);
  } catch (const subprocess::SubprocessError&) {
    SUCCEED();
  }
  try {
    throw subprocess::CalledProcessError(1, {"x"});
  } catch (const concur::Error&) {
    SUCCEED();
  }
}
