#include "concur/subprocess/popen.hpp"

#include <fcntl.h>
#include <functional>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "subprocess/test_util.hpp"

namespace subprocess = concur::subprocess;
using subprocess::PIPE;
using subprocess::Popen;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

int errno_of(const std::function<void()>& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const std::system_error& e) {
    if (what) *what = e.what();
    return e.code().value();
  }
  return 0;
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace

TEST(Popen, PollLoopUntilExit) {
  Popen p({"sleep", "0.2"});
  EXPECT_GT(p.pid(), 0);
  EXPECT_FALSE(p.returncode());
  int polls = 0;
  while (!p.poll()) {
    ++polls;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GT(polls, 0);
  EXPECT_EQ(p.poll(), 0);
  EXPECT_EQ(p.returncode(), 0);
  EXPECT_EQ(p.wait(), 0);
}

TEST(Popen, WaitTimeoutLeavesTheChildRunning) {
  Popen p({"sleep", "10"});
  const auto t0 = Clock::now();
  EXPECT_THROW(p.wait(100ms), subprocess::TimeoutExpired);
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_FALSE(p.poll());
  EXPECT_THROW(p.wait(0s), subprocess::TimeoutExpired);
  p.kill();
  EXPECT_EQ(p.wait(), -SIGKILL);
  p.kill();  // already reaped: a no-op, never a recycled pid
}

TEST(Popen, CommunicateWithInput) {
  Popen p({"cat"}, {.stdin_ = PIPE, .stdout_ = PIPE});
  auto [out, err] = p.communicate("hello");
  EXPECT_EQ(out, "hello");
  EXPECT_FALSE(err);
  EXPECT_EQ(p.returncode(), 0);
  EXPECT_TRUE(p.stdout_.closed());
  EXPECT_TRUE(p.stdin_.closed());
}

TEST(Popen, SixtyFourMiBEachWayAtOnceBytesExact) {
  // tee copies stdin to stdout AND stderr: unless all three pipes are serviced together the
  // child blocks on a full pipe and everything deadlocks.
  const std::string input = pattern(64u << 20, 7);
  Popen p({"tee", "/dev/stderr"}, {.stdin_ = PIPE, .stdout_ = PIPE, .stderr_ = PIPE});
  auto [out, err] = p.communicate(input, 120s);
  EXPECT_EQ(p.returncode(), 0);
  ASSERT_TRUE(out && err);
  EXPECT_EQ(out->size(), input.size());
  EXPECT_EQ(err->size(), input.size());
  EXPECT_TRUE(*out == input);
  EXPECT_TRUE(*err == input);
}

TEST(Popen, CommunicateTimeoutKeepsOutputAndResumes) {
  Popen p({"sh", "-c", "echo first; sleep 0.5; echo second"}, {.stdout_ = PIPE});
  try {
    p.communicate(std::nullopt, 100ms);
    FAIL() << "no timeout";
  } catch (const subprocess::TimeoutExpired& e) {
    EXPECT_EQ(e.output, "first\n");
    EXPECT_FALSE(e.stderr_);
    EXPECT_EQ(e.cmd[0], "sh");
  }
  EXPECT_FALSE(p.returncode());  // still running, as in Python
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "first\nsecond\n");
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, NewInputAfterCommunicationStartedIsAValueError) {
  Popen p({"sh", "-c", "sleep 0.3; cat >/dev/null"}, {.stdin_ = PIPE});
  EXPECT_THROW(p.communicate("x", 10ms), subprocess::TimeoutExpired);
  EXPECT_THROW(p.communicate("more"), concur::ValueError);
  p.communicate();
  EXPECT_EQ(p.returncode(), 0);
}

// communicate() keeps stdout in the storage of the input it was given (the part already written)
// while the output trails the input, and in a side buffer while it runs ahead: every mix must
// come back whole and in order.
TEST(Popen, LargeInputThroughAFilterIsBytesExact) {
  const std::string input = pattern(5u << 20, 11);
  Popen p({"cat"}, {.stdin_ = PIPE, .stdout_ = PIPE});
  auto [out, err] = p.communicate(input);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size(), input.size());
  EXPECT_TRUE(*out == input);
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, OutputAheadOfAndBeyondTheInputKeepsItsOrder) {
  // 3 MB before reading any input, then the input, then 3 MB more than it was fed.
  const std::string input = pattern(4u << 20, 12);
  Popen p({"sh", "-c", "head -c 3000000 /dev/zero; cat; head -c 3000001 /dev/zero | tr '\\0' z"},
          {.stdin_ = PIPE, .stdout_ = PIPE});
  auto [out, err] = p.communicate(input, 120s);
  ASSERT_TRUE(out);
  const std::string expected = std::string(3000000, '\0') + input + std::string(3000001, 'z');
  EXPECT_EQ(out->size(), expected.size());
  EXPECT_TRUE(*out == expected);
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, ShortAnswerToALongInputDoesNotKeepTheInputsMemory) {
  Popen p({"wc", "-c"}, {.stdin_ = PIPE, .stdout_ = PIPE});
  auto [out, err] = p.communicate(std::string(8u << 20, 'a'));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "8388608\n");
  EXPECT_LT(out->capacity(), std::size_t{1} << 20);
  Popen q({"echo", "hi"}, {.stdout_ = PIPE});  // no input: a small answer gets a small string
  auto [small, none] = q.communicate();
  EXPECT_EQ(small, "hi\n");
  EXPECT_LT(small->capacity(), std::size_t{64} << 10);
}

TEST(Popen, ChildReadingOnlyPartOfALargeInput) {
  // head exits after 100000 bytes: the rest of the input meets EPIPE, which is not an error.
  const std::string input = pattern(4u << 20, 13);
  Popen p({"head", "-c", "100000"}, {.stdin_ = PIPE, .stdout_ = PIPE});
  auto [out, err] = p.communicate(input);
  ASSERT_TRUE(out);
  EXPECT_TRUE(*out == input.substr(0, 100000));
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, TimeoutDuringALargeInputKeepsPartialOutputAndResumes) {
  // dd consumes exactly 1,000,000 bytes and echoes them, then the child sleeps past the timeout,
  // then cat echoes the rest: the output so far is a prefix, and resuming completes it.
  const std::string input = pattern(3u << 20, 14);
  Popen p({"sh", "-c", "dd bs=1000000 count=1 iflag=fullblock status=none; sleep 2; cat"},
          {.stdin_ = PIPE, .stdout_ = PIPE});
  try {
    p.communicate(input, 300ms);
    FAIL() << "no timeout";
  } catch (const subprocess::TimeoutExpired& e) {
    ASSERT_TRUE(e.output);
    EXPECT_LE(e.output->size(), 1000000u);
    EXPECT_TRUE(*e.output == input.substr(0, e.output->size()));
  }
  auto [out, err] = p.communicate(std::nullopt, 120s);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->size(), input.size());
  EXPECT_TRUE(*out == input);
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, OutputReadThroughTheStreamComesFirstWithALargeInput) {
  Popen p({"sh", "-c", "echo header; cat"}, {.stdin_ = PIPE, .stdout_ = PIPE});
  EXPECT_EQ(p.stdout_.read(3), "hea");
  const std::string input = pattern(3u << 20, 15);
  auto [out, err] = p.communicate(input);
  ASSERT_TRUE(out);
  EXPECT_TRUE(*out == "der\n" + input);
}

TEST(Popen, TextModeWithALargeInput) {
  std::string input;
  for (int i = 0; i < 300000; ++i) input += "ab\r\n";
  Popen p({"cat"}, {.stdin_ = PIPE, .stdout_ = PIPE, .text = true});
  auto [out, err] = p.communicate(input);
  ASSERT_TRUE(out);
  std::string expected;
  for (int i = 0; i < 300000; ++i) expected += "ab\n";
  EXPECT_TRUE(*out == expected);
}

TEST(Popen, GrandchildHoldingStdoutCannotMakeTheTimeoutHang) {
  Popen p({"sh", "-c", "sleep 30 & echo $!"}, {.stdout_ = PIPE});
  const auto t0 = Clock::now();
  std::string grandchild;
  try {
    p.communicate(std::nullopt, 300ms);
    FAIL() << "no timeout";
  } catch (const subprocess::TimeoutExpired& e) {
    ASSERT_TRUE(e.output);
    grandchild = *e.output;
  }
  EXPECT_LT(Clock::now() - t0, 10s);
  EXPECT_EQ(p.wait(10s), 0);  // sh itself has exited
  const pid_t g = std::stoi(grandchild);
  EXPECT_GT(g, 0);
  ::kill(g, SIGKILL);
}

TEST(Popen, ChildIgnoringSigtermNeedsSigkill) {
  Popen p({"sh", "-c", "trap '' TERM; echo ready; exec sleep 30"}, {.stdout_ = PIPE});
  EXPECT_EQ(p.stdout_.readline(), "ready\n");
  p.terminate();
  EXPECT_THROW(p.wait(300ms), subprocess::TimeoutExpired);
  p.kill();
  EXPECT_EQ(p.wait(), -SIGKILL);
}

TEST(Popen, KilledBySignalGivesNegativeReturncode) {
  Popen segv({"sh", "-c", "kill -SEGV $$"});
  EXPECT_EQ(segv.wait(), -SIGSEGV);
  Popen term({"sleep", "10"});
  term.terminate();
  EXPECT_EQ(term.wait(), -SIGTERM);
}

TEST(Popen, PipelineClosesTheParentsCopies) {
  // yes | head -n 2 | tr y Y: head exits after two lines; yes must die of SIGPIPE, which only
  // happens when the parent's copy of yes's stdout has been closed.
  Popen a({"yes"}, {.stdout_ = PIPE});
  Popen b({"head", "-n", "2"}, {.stdin_ = std::move(a.stdout_), .stdout_ = PIPE});
  Popen c({"tr", "y", "Y"}, {.stdin_ = std::move(b.stdout_), .stdout_ = PIPE});
  EXPECT_TRUE(a.stdout_.closed());
  auto [out, err] = c.communicate(std::nullopt, 30s);
  EXPECT_EQ(out, "Y\nY\n");
  EXPECT_EQ(b.wait(30s), 0);
  EXPECT_EQ(a.wait(30s), -SIGPIPE);
}

TEST(Popen, StreamsCanBeUsedDirectly) {
  Popen p({"cat"}, {.stdin_ = PIPE, .stdout_ = PIPE});
  p.stdin_.write("line 1\nline 2\n");
  p.stdin_.close();
  EXPECT_EQ(p.stdout_.readline(), "line 1\n");
  auto [out, err] = p.communicate();  // takes the buffered rest too
  EXPECT_EQ(out, "line 2\n");
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, WritingToADeadChildIsEpipeNotSigpipe) {
  Popen p({"true"}, {.stdin_ = PIPE});
  p.wait();
  EXPECT_EQ(errno_of([&] {
              for (int i = 0; i < 100; ++i) p.stdin_.write(std::string(65536, 'x'));
            }),
            EPIPE);
  // communicate() ignores EPIPE, as Python does.
  Popen q({"true"}, {.stdin_ = PIPE});
  q.wait();
  q.communicate(std::string(1 << 20, 'x'));
  EXPECT_EQ(q.returncode(), 0);
}

TEST(Popen, StderrToStdoutDevnullAndFiles) {
  Popen merged({"sh", "-c", "echo out; echo err >&2"}, {.stdout_ = PIPE, .stderr_ = subprocess::STDOUT});
  EXPECT_EQ(merged.communicate().stdout_, "out\nerr\n");

  char path[] = "/tmp/concur_popen_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  Popen to_file({"sh", "-c", "echo to file; echo gone >&2"},
                {.stdin_ = subprocess::DEVNULL, .stdout_ = path, .stderr_ = subprocess::DEVNULL});
  EXPECT_EQ(to_file.wait(), 0);
  Popen from_file({"cat"}, {.stdin_ = path, .stdout_ = PIPE});
  EXPECT_EQ(from_file.communicate().stdout_, "to file\n");

  const int wfd = ::open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(wfd, 0);
  Popen to_fd({"echo", "via fd"}, {.stdout_ = wfd});
  EXPECT_EQ(to_fd.wait(), 0);
  EXPECT_NE(::fcntl(wfd, F_GETFD), -1);  // the parent's fd stays open
  ::close(wfd);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "via fd");
  ::unlink(path);
}

TEST(Popen, EnvReplacesAndCwdApplies) {
  Popen p({"sh", "-c", "echo \"$A|$HOME|$(pwd)\""}, {.stdout_ = PIPE, .cwd = "/tmp", .env = subprocess::Environment{{"A", "1"}}});
  EXPECT_EQ(p.communicate().stdout_, "1||/tmp\n");
  ::setenv("CONCUR_POPEN_EXTRA", "kept", 1);
  Popen q({"sh", "-c", "echo $CONCUR_POPEN_EXTRA $B"}, {.stdout_ = PIPE, .env = subprocess::environ_with({{"B", "2"}})});
  EXPECT_EQ(q.communicate().stdout_, "kept 2\n");
}

TEST(Popen, TextModeAppliesUniversalNewlines) {
  Popen raw({"printf", "a\\r\\nb\\rc\\n"}, {.stdout_ = PIPE});
  EXPECT_EQ(raw.communicate().stdout_, "a\r\nb\rc\n");
  Popen text({"printf", "a\\r\\nb\\rc\\n"}, {.stdout_ = PIPE, .text = true});
  EXPECT_EQ(text.communicate().stdout_, "a\nb\nc\n");
}

TEST(Popen, StartErrorsArePythonShaped) {
  std::string what;
  EXPECT_EQ(errno_of([] { Popen p({"concur-no-such-program"}); }, &what), ENOENT);
  EXPECT_NE(what.find("concur-no-such-program"), std::string::npos) << what;
  EXPECT_EQ(errno_of([] { Popen p({"/nonexistent/prog"}); }), ENOENT);
  EXPECT_EQ(errno_of([] { Popen p({"/tmp"}); }), EACCES);          // a directory
  char plain[] = "/tmp/concur_noexec_XXXXXX";  // a regular file without the x bit
  const int fd = ::mkstemp(plain);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(errno_of([&] { Popen p({plain}); }), EACCES);
  EXPECT_EQ(errno_of([&] { Popen p({"true"}, {.cwd = plain}); }), ENOTDIR);
  ::unlink(plain);
  EXPECT_EQ(errno_of([] { Popen p({"true"}, {.cwd = "/nonexistent/dir"}); }, &what), ENOENT);
  EXPECT_NE(what.find("/nonexistent/dir"), std::string::npos) << what;
  EXPECT_THROW(Popen({}), concur::ValueError);
  EXPECT_THROW(Popen({"true"}, {.stdout_ = subprocess::STDOUT}), concur::ValueError);
}

TEST(Popen, DestructorOfARunningChildReapsItInTheBackground) {
  pid_t pid = -1;
  const auto t0 = Clock::now();
  {
    Popen p({"sleep", "0.3"}, {.stdout_ = PIPE});
    pid = p.pid();
  }
  EXPECT_LT(Clock::now() - t0, 250ms) << "the destructor must not block";
  EXPECT_FALSE(concur_test::process_gone(pid));  // still running: not killed
  for (int i = 0; i < 1000 && !concur_test::process_gone(pid); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(concur_test::process_gone(pid)) << "left a zombie";
}

TEST(Popen, DestructorOfAnExitedChildReapsItAtOnce) {
  pid_t pid = -1;
  {
    Popen p({"true"});
    pid = p.pid();
    // Wait until it is a zombie (exited, not yet reaped).
    auto zombie = [&] {
      std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
      std::string line;
      return std::getline(f, line) && line.find(") Z") != std::string::npos;
    };
    while (!zombie()) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(concur_test::process_gone(pid));
}

TEST(Popen, ConcurrentWaitersAllSeeTheReturncode) {
  Popen p({"sh", "-c", "sleep 0.2; exit 7"});
  std::atomic<int> sevens{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      if (p.wait() == 7) ++sevens;
    });
  for (int i = 0; i < 20; ++i) p.poll();
  for (auto& t : ts) t.join();
  EXPECT_EQ(sevens, 4);
}

TEST(Popen, MoveKeepsTheChild) {
  std::vector<Popen> procs;
  for (int i = 0; i < 3; ++i) procs.push_back(Popen({"sh", "-c", "exit 3"}));
  Popen other({"true"});
  other = std::move(procs.back());
  procs.pop_back();
  EXPECT_EQ(other.wait(), 3);
  for (auto& p : procs) EXPECT_EQ(p.wait(), 3);
}

TEST(Popen, NoFdLeakNoZombie) {
  const int before = concur_test::count_open_fds();
  for (int i = 0; i < 20; ++i) {
    Popen p({"cat"}, {.stdin_ = PIPE, .stdout_ = PIPE, .stderr_ = PIPE});
    p.communicate("x");
    EXPECT_THROW(Popen({"/nonexistent"}, {.stdin_ = PIPE, .stdout_ = PIPE}), std::system_error);
  }
  EXPECT_EQ(concur_test::count_open_fds(), before);
  EXPECT_EQ(concur_test::count_zombie_children(), 0);
}

TEST(Popen, PassFdsAndCloseFds) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);  // deliberately NOT O_CLOEXEC
  Popen closed({"sh", "-c", "echo x >&" + std::to_string(p[1]) + " 2>/dev/null; echo $?"}, {.stdout_ = PIPE});
  EXPECT_NE(closed.communicate().stdout_, "0\n");  // closed by close_fds
  Popen passed({"sh", "-c", "echo x >&" + std::to_string(p[1])}, {.pass_fds = {p[1]}});
  EXPECT_EQ(passed.wait(), 0);
  ::close(p[1]);
  char buf[8] = {};
  EXPECT_EQ(::read(p[0], buf, sizeof buf), 2);
  ::close(p[0]);
}
