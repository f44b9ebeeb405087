// Tests of the low-level spawning layer (concur/detail/spawn.hpp).
#include "concur/detail/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "concur/error.hpp"

namespace sp = concur::detail::spawn;

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return out;
}

int wait_rc(const sp::Child& c) {
  EXPECT_TRUE(sp::wait_exited(c.pid, c.pidfd.get(), std::nullopt));
  auto rc = sp::try_reap(c.pid);
  EXPECT_TRUE(rc.has_value());
  return rc.value_or(-1000);
}

int expect_errno(const sp::Spec& spec) {
  try {
    sp::start(spec);
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  ADD_FAILURE() << "no system_error";
  return 0;
}

}  // namespace

TEST(Spawn, TrueExitsZeroAndHasPidfd) {
  sp::Spec spec;
  spec.argv = {"true"};
  auto c = sp::start(spec);
  EXPECT_GT(c.pid, 0);
  EXPECT_TRUE(c.pidfd);
  EXPECT_EQ(wait_rc(c), 0);
}

TEST(Spawn, PipesCarryData) {
  sp::Spec spec;
  spec.argv = {"sh", "-c", "cat; echo err >&2; exit 3"};
  spec.stdin_ = sp::Stdio::pipe();
  spec.stdout_ = sp::Stdio::pipe();
  spec.stderr_ = sp::Stdio::pipe();
  auto c = sp::start(spec);
  ASSERT_TRUE(c.stdin_ && c.stdout_ && c.stderr_);
  ASSERT_EQ(::write(c.stdin_.get(), "hello", 5), 5);
  c.stdin_.reset();
  EXPECT_EQ(read_all(c.stdout_.get()), "hello");
  EXPECT_EQ(read_all(c.stderr_.get()), "err\n");
  EXPECT_EQ(wait_rc(c), 3);
}

TEST(Spawn, StderrToStdoutAndDevnull) {
  sp::Spec spec;
  spec.argv = {"sh", "-c", "echo out; echo err >&2; cat"};
  spec.stdin_ = sp::Stdio::devnull();
  spec.stdout_ = sp::Stdio::pipe();
  spec.stderr_ = sp::Stdio::to_stdout();
  auto c = sp::start(spec);
  EXPECT_EQ(read_all(c.stdout_.get()), "out\nerr\n");
  EXPECT_EQ(wait_rc(c), 0);
}

TEST(Spawn, EnvCwdAndSignals) {
  sp::Spec spec;
  spec.argv = {"sh", "-c", "echo $FOO; pwd; kill -TERM $$"};
  spec.env = std::vector<std::string>{"FOO=bar", "PATH=/usr/bin:/bin"};
  spec.cwd = "/tmp";
  spec.stdout_ = sp::Stdio::pipe();
  auto c = sp::start(spec);
  EXPECT_EQ(read_all(c.stdout_.get()), "bar\n/tmp\n");
  EXPECT_EQ(wait_rc(c), -SIGTERM);
}

TEST(Spawn, CloseFdsAndPassFds) {
  auto [r1, w1] = sp::make_pipe();  // O_CLOEXEC
  const int plain = ::dup(w1.get());  // NOT close-on-exec: close_fds must catch it
  ASSERT_GE(plain, 0);
  sp::Spec spec;
  spec.argv = {"sh", "-c", "ls /proc/self/fd"};
  spec.stdout_ = sp::Stdio::pipe();
  spec.pass_fds = {w1.get()};
  auto c = sp::start(spec);
  const std::string fds = read_all(c.stdout_.get());
  EXPECT_EQ(wait_rc(c), 0);
  EXPECT_NE(fds.find(std::to_string(w1.get()) + "\n"), std::string::npos) << fds;
  EXPECT_EQ(fds.find("\n" + std::to_string(plain) + "\n"), std::string::npos) << fds;
  ::close(plain);
}

TEST(Spawn, Errors) {
  sp::Spec spec;
  spec.argv = {"/nonexistent/program"};
  EXPECT_EQ(expect_errno(spec), ENOENT);
  spec.argv = {"no-such-program-xyz"};
  EXPECT_EQ(expect_errno(spec), ENOENT);
  spec.argv = {"/tmp"};
  EXPECT_EQ(expect_errno(spec), EACCES);
  spec.argv = {"/etc/passwd"};
  EXPECT_EQ(expect_errno(spec), EACCES);
  spec.argv = {"true"};
  spec.cwd = "/nonexistent-dir";
  EXPECT_EQ(expect_errno(spec), ENOENT);
  try {
    sp::start(spec);
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir"), std::string::npos);
  }
  spec.argv.clear();
  EXPECT_THROW(sp::start(spec), concur::ValueError);
}

TEST(Spawn, SendSignalAndBackgroundReap) {
  sp::Spec spec;
  spec.argv = {"sleep", "10"};
  auto c = sp::start(spec);
  EXPECT_FALSE(sp::wait_exited(c.pid, c.pidfd.get(), std::chrono::steady_clock::now()));
  EXPECT_TRUE(sp::send_signal(c.pid, c.pidfd.get(), SIGKILL));
  EXPECT_EQ(wait_rc(c), -SIGKILL);

  auto d = sp::start(spec);
  sp::send_signal(d.pid, d.pidfd.get(), SIGKILL);
  const pid_t pid = d.pid;
  sp::reap_in_background(pid, std::move(d.pidfd));
  for (int i = 0; i < 500 && ::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0; ++i)
    ::usleep(10'000);
  EXPECT_NE(::access(("/proc/" + std::to_string(pid)).c_str(), F_OK), 0) << "zombie not reaped";
}
