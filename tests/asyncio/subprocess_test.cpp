// Tests of concur/asyncio/subprocess.hpp: create_subprocess_exec with pipes, communicate, wait,
// signals, streaming reads, and errors.
#include "concur/asyncio/subprocess.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <system_error>

#include "concur/asyncio.hpp"

namespace asyncio = concur::asyncio;
using asyncio::Task;
using asyncio::subprocess::DEVNULL;
using asyncio::subprocess::PIPE;
using asyncio::subprocess::STDOUT;

namespace {
// g++ 12 rejects a braced list of std::string alive across a co_await ("array used as
// initializer"), so argument lists are built outside the coroutines.
template <class... A>
std::vector<std::string> args(A... a) {
  return {std::string(a)...};
}
std::map<std::string, std::string> env_of(const char* k, const char* v) {
  std::map<std::string, std::string> m;
  m[k] = v;
  return m;
}
}  // namespace

TEST(AsyncSubprocess, CommunicateRoundTrip) {
  auto body = []() -> Task<void> {
    auto p = co_await asyncio::create_subprocess_exec("cat", {}, {.stdin_ = PIPE, .stdout_ = PIPE});
    EXPECT_GT(p.pid(), 0);
    auto [out, err] = co_await p.communicate("hello, child\n");
    EXPECT_EQ(out, "hello, child\n");
    EXPECT_EQ(err, "");
    EXPECT_EQ(p.returncode(), 0);
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, CommunicateLargeInputBothWays) {
  // More than every pipe buffer in both directions: needs the concurrent feed and read.
  auto body = []() -> Task<void> {
    const std::string big(1 << 20, 'q');
    auto p = co_await asyncio::create_subprocess_exec("cat", {}, {.stdin_ = PIPE, .stdout_ = PIPE});
    auto [out, err] = co_await p.communicate(big);
    EXPECT_EQ(out.size(), big.size());
    EXPECT_EQ(out, big);
    EXPECT_EQ(co_await p.wait(), 0);
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, WaitReturnsExitCode) {
  auto body = []() -> Task<void> {
    auto p = co_await asyncio::create_subprocess_exec("sh", args("-c", "exit 3"));
    EXPECT_EQ(co_await p.wait(), 3);
    EXPECT_EQ(p.returncode(), 3);
    EXPECT_EQ(co_await p.wait(), 3);  // again: cached
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, StderrPipeAndStdoutMerge) {
  auto body = []() -> Task<void> {
    auto p = co_await asyncio::create_subprocess_exec("sh", args("-c", "echo out; echo err >&2"),
                                                      {.stdout_ = PIPE, .stderr_ = PIPE});
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "out\n");
    EXPECT_EQ(err, "err\n");
    auto q = co_await asyncio::create_subprocess_exec("sh", args("-c", "echo a; echo b >&2"),
                                                      {.stdout_ = PIPE, .stderr_ = STDOUT});
    auto [both, none] = co_await q.communicate();
    EXPECT_EQ(both, "a\nb\n");
    EXPECT_EQ(none, "");
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, StreamingReadlineWhileChildRuns) {
  auto body = []() -> Task<void> {
    auto p = co_await asyncio::create_subprocess_exec("sh", args("-c", "for i in 1 2 3; do echo line $i; sleep 0.01; done"), {.stdout_ = PIPE});
    std::vector<std::string> lines;
    for (;;) {
      std::string l = co_await p.stdout_.readline();
      if (l.empty()) break;
      lines.push_back(l);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"line 1\n", "line 2\n", "line 3\n"}));
    EXPECT_EQ(co_await p.wait(), 0);
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, KillAndTerminate) {
  auto body = []() -> Task<void> {
    auto p = co_await asyncio::create_subprocess_exec("sleep", args("30"), {.stdout_ = DEVNULL});
    p.kill();
    EXPECT_EQ(co_await p.wait(), -SIGKILL);
    p.kill();  // after exit: a no-op
    auto q = co_await asyncio::create_subprocess_exec("sleep", args("30"));
    q.terminate();
    EXPECT_EQ(co_await q.wait(), -SIGTERM);
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, EnvAndCwd) {
  auto body = []() -> Task<void> {
    // Options with strings are built in their own statement: g++ 12 double-destroys
    // temporaries of a braced aggregate argument inside a co_await expression.
    asyncio::CreateSubprocessOptions options{.stdout_ = PIPE, .cwd = "/tmp", .env = env_of("CONCUR_X", "42")};
    auto p = co_await asyncio::create_subprocess_exec("/bin/sh", args("-c", "echo $CONCUR_X; pwd"), std::move(options));
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "42\n/tmp\n");
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, MissingProgramThrows) {
  auto body = []() -> Task<void> {
    int code = 0;
    try {
      co_await asyncio::create_subprocess_exec("concur-no-such-program-xyz");
    } catch (const std::system_error& e) {
      code = e.code().value();
    }
    EXPECT_EQ(code, ENOENT);
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, ChildThatIgnoresStdinDoesNotBreakCommunicate) {
  auto body = []() -> Task<void> {
    auto p = co_await asyncio::create_subprocess_exec("true", {}, {.stdin_ = PIPE, .stdout_ = PIPE});
    co_await p.wait();  // gone before we write: EPIPE is swallowed as in Python
    auto [out, err] = co_await p.communicate(std::string(1 << 20, 'x'));
    EXPECT_EQ(out, "");
    EXPECT_EQ(p.returncode(), 0);
  };
  asyncio::run(body());
}

TEST(AsyncSubprocess, ManyConcurrentChildren) {
  auto body = []() -> Task<void> {
    std::vector<Task<std::pair<std::string, std::string>>> runs;
    std::vector<asyncio::subprocess::Process> procs;
    for (int i = 0; i < 20; ++i)
      procs.push_back(co_await asyncio::create_subprocess_exec("echo", args(std::to_string(i)), {.stdout_ = PIPE}));
    for (auto& p : procs) runs.push_back(asyncio::create_task(p.communicate()));
    for (int i = 0; i < 20; ++i) EXPECT_EQ((co_await runs[i]).first, std::to_string(i) + "\n");
  };
  asyncio::run(body());
}
