#include "concur/subprocess/stream.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include <gtest/gtest.h>

namespace subprocess = concur::subprocess;

namespace {
std::pair<subprocess::Stream, subprocess::Stream> pipe_pair() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
  return {subprocess::Stream(p[0]), subprocess::Stream(p[1])};
}
}  // namespace

TEST(Stream, WriteReadlineRead) {
  auto [r, w] = pipe_pair();
  w.write("one\ntwo\nthree");
  w.flush();
  w.close();
  EXPECT_TRUE(w.closed());
  EXPECT_EQ(r.readline(), "one\n");
  EXPECT_EQ(r.read(2), "tw");
  EXPECT_EQ(r.readline(), "o\n");
  EXPECT_EQ(r.read(), "three");
  EXPECT_EQ(r.readline(), "");
  EXPECT_EQ(r.read(), "");
}

TEST(Stream, WriteToAGoneReaderIsEpipeNotSigpipe) {
  auto [r, w] = pipe_pair();
  r.close();
  try {
    w.write("data");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EPIPE);
  }
}

TEST(Stream, ClosedStreamThrowsEbadf) {
  subprocess::Stream s;
  EXPECT_TRUE(s.closed());
  EXPECT_FALSE(s);
  EXPECT_EQ(s.fileno(), -1);
  EXPECT_THROW(s.write("x"), std::system_error);
  EXPECT_THROW(s.read(), std::system_error);
}

TEST(Stream, MoveTransfersOwnership) {
  auto [r, w] = pipe_pair();
  const int fd = w.fileno();
  subprocess::Stream moved = std::move(w);
  EXPECT_EQ(moved.fileno(), fd);
  EXPECT_TRUE(w.closed());  // NOLINT(bugprone-use-after-move)
  const int raw = moved.release();
  EXPECT_EQ(raw, fd);
  EXPECT_NE(::fcntl(raw, F_GETFD), -1);
  ::close(raw);
}
