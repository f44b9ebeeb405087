#include "concur/subprocess/redirect.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace subprocess = concur::subprocess;
using Kind = subprocess::Redirect::Kind;

TEST(Redirect, ConvertsFromEveryPythonChoice) {
  subprocess::Redirect none;
  EXPECT_EQ(none.kind(), Kind::inherit);
  EXPECT_TRUE(none.is_inherit());
  EXPECT_EQ(subprocess::Redirect(std::nullopt).kind(), Kind::inherit);
  EXPECT_EQ(subprocess::Redirect(subprocess::PIPE).kind(), Kind::pipe);
  EXPECT_EQ(subprocess::Redirect(subprocess::DEVNULL).kind(), Kind::devnull);
  EXPECT_EQ(subprocess::Redirect(subprocess::STDOUT).kind(), Kind::stdout_);
  subprocess::Redirect fd = 2;
  EXPECT_EQ(fd.kind(), Kind::fd);
  EXPECT_EQ(fd.fd(), 2);
  subprocess::Redirect file = "/tmp/out.txt";
  EXPECT_EQ(file.kind(), Kind::path);
  EXPECT_EQ(file.path(), "/tmp/out.txt");
  subprocess::Redirect file2 = std::string("/tmp/x");
  EXPECT_EQ(file2.kind(), Kind::path);
}

TEST(Redirect, StreamByReferenceStaysOpenByMoveIsClosedWithTheLastCopy) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  subprocess::Stream a(p[0]);
  subprocess::Stream b(p[1]);
  {
    subprocess::Redirect r = a;
    EXPECT_EQ(r.fd(), p[0]);
  }
  EXPECT_FALSE(a.closed());
  {
    subprocess::Redirect r = std::move(b);
    EXPECT_TRUE(b.closed());  // NOLINT(bugprone-use-after-move): moved-from is closed
    subprocess::Redirect copy = r;
    EXPECT_EQ(copy.fd(), p[1]);
    EXPECT_NE(::fcntl(p[1], F_GETFD), -1);  // still open while a copy lives
  }
  EXPECT_EQ(::fcntl(p[1], F_GETFD), -1);  // closed with the last copy
}
