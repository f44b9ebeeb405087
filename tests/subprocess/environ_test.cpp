#include "concur/subprocess/environ.hpp"

#include <stdlib.h>

#include <gtest/gtest.h>

namespace subprocess = concur::subprocess;

TEST(Environ, CopyHasTheParentsVariables) {
  ::setenv("CONCUR_ENV_TEST", "value=with=equals", 1);
  const auto env = subprocess::copy_environ();
  ASSERT_TRUE(env.count("CONCUR_ENV_TEST"));
  EXPECT_EQ(env.at("CONCUR_ENV_TEST"), "value=with=equals");
  ::unsetenv("CONCUR_ENV_TEST");
}

TEST(Environ, EnvironWithOverrides) {
  ::setenv("CONCUR_ENV_TEST2", "old", 1);
  const auto env = subprocess::environ_with({{"CONCUR_ENV_TEST2", "new"}, {"CONCUR_ENV_ADDED", "1"}});
  EXPECT_EQ(env.at("CONCUR_ENV_TEST2"), "new");
  EXPECT_EQ(env.at("CONCUR_ENV_ADDED"), "1");
  EXPECT_EQ(env.count("PATH"), ::getenv("PATH") ? 1u : 0u);
  ::unsetenv("CONCUR_ENV_TEST2");
}
