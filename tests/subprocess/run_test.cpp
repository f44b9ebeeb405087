#include "concur/subprocess/run.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

#include "subprocess/test_util.hpp"

namespace subprocess = concur::subprocess;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Run, CaptureOutputAndRepr) {
  auto r = subprocess::run({"echo", "Hello from the child!"}, {.capture_output = true});
  r.check_returncode();
  EXPECT_EQ(r.returncode, 0);
  EXPECT_EQ(r.stdout_, "Hello from the child!\n");
  EXPECT_EQ(r.stderr_, "");
  std::ostringstream os;
  os << r;
  EXPECT_EQ(os.str(),
            "CompletedProcess(args=['echo', 'Hello from the child!'], returncode=0, "
            "stdout='Hello from the child!\\n', stderr='')");
}

TEST(Run, NotCapturedIsNullopt) {
  auto r = subprocess::run({"true"});
  EXPECT_EQ(r.returncode, 0);
  EXPECT_FALSE(r.stdout_);
  EXPECT_FALSE(r.stderr_);
  std::ostringstream os;
  os << r;
  EXPECT_EQ(os.str(), "CompletedProcess(args=['true'], returncode=0)");
}

TEST(Run, InputAndText) {
  auto r = subprocess::run({"cat"}, {.input = "a\r\nb", .stdout_ = subprocess::PIPE, .text = true});
  EXPECT_EQ(r.stdout_, "a\nb");
}

TEST(Run, CheckRaisesCalledProcessError) {
  try {
    subprocess::run({"sh", "-c", "echo o; echo e >&2; exit 5"}, {.capture_output = true, .check = true});
    FAIL() << "no exception";
  } catch (const subprocess::CalledProcessError& e) {
    EXPECT_EQ(e.returncode, 5);
    EXPECT_EQ(e.cmd[0], "sh");
    EXPECT_EQ(e.output, "o\n");
    EXPECT_EQ(e.stderr_, "e\n");
  }
  auto r = subprocess::run({"false"});
  EXPECT_EQ(r.returncode, 1);
  EXPECT_THROW(r.check_returncode(), subprocess::CalledProcessError);
}

TEST(Run, SignalledChildHasNegativeReturncode) {
  EXPECT_EQ(subprocess::run({"sh", "-c", "kill -KILL $$"}).returncode, -SIGKILL);
  EXPECT_EQ(subprocess::run({"sh", "-c", "kill -SEGV $$"}).returncode, -SIGSEGV);
}

TEST(Run, TimeoutKillsReapsAndRaises) {
  const auto t0 = Clock::now();
  try {
    subprocess::run({"sh", "-c", "echo started; exec sleep 30"}, {.capture_output = true, .timeout = 300ms});
    FAIL() << "no timeout";
  } catch (const subprocess::TimeoutExpired& e) {
    EXPECT_EQ(e.output, "started\n");
    EXPECT_EQ(e.stderr_, "");
    EXPECT_EQ(e.timeout, 300ms);
  }
  EXPECT_LT(Clock::now() - t0, 10s);
  EXPECT_EQ(concur_test::count_zombie_children(), 0);
}

TEST(Run, TimeoutWithAGrandchildHoldingThePipeDoesNotHang) {
  const auto t0 = Clock::now();
  std::string grandchild;
  try {
    subprocess::run({"sh", "-c", "sleep 30 & echo $!; exec sleep 30"}, {.stdout_ = subprocess::PIPE, .timeout = 300ms});
    FAIL() << "no timeout";
  } catch (const subprocess::TimeoutExpired& e) {
    grandchild = e.output.value_or("");
  }
  EXPECT_LT(Clock::now() - t0, 10s);
  const pid_t g = std::stoi(grandchild);
  EXPECT_FALSE(concur_test::process_gone(g));  // not in our process group: survives, as in Python
  ::kill(g, SIGKILL);
}

TEST(Run, TimeoutWithStartNewSessionKillsTheWholeGroup) {
  std::string grandchild;
  try {
    subprocess::run({"sh", "-c", "sleep 30 & echo $!; exec sleep 30"},
                    {.stdout_ = subprocess::PIPE, .timeout = 300ms, .start_new_session = true});
    FAIL() << "no timeout";
  } catch (const subprocess::TimeoutExpired& e) {
    grandchild = e.output.value_or("");
  }
  const pid_t g = std::stoi(grandchild);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    // The grandchild was re-parented; once killed it is reaped by init (or shows as a zombie
    // of init until then): either way, not running.
    std::ifstream f("/proc/" + std::to_string(g) + "/stat");
    std::string line;
    gone = !std::getline(f, line) || line.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone);
  if (!gone) ::kill(g, SIGKILL);
}

TEST(Run, CallCheckCallCheckOutput) {
  EXPECT_EQ(subprocess::call({"sh", "-c", "exit 4"}), 4);
  EXPECT_NO_THROW(subprocess::check_call({"true"}));
  EXPECT_THROW(subprocess::check_call({"false"}), subprocess::CalledProcessError);
  EXPECT_EQ(subprocess::check_output({"echo", "hi"}), "hi\n");
  EXPECT_THROW(subprocess::check_output({"sh", "-c", "echo x; exit 1"}), subprocess::CalledProcessError);
  EXPECT_THROW(subprocess::call({"sleep", "30"}, {.timeout = 100ms}), subprocess::TimeoutExpired);
}

TEST(Run, InvalidCombinationsAreValueErrors) {
  EXPECT_THROW(subprocess::run({"cat"}, {.stdin_ = subprocess::DEVNULL, .input = "x"}), concur::ValueError);
  EXPECT_THROW(subprocess::run({"true"}, {.stdout_ = subprocess::PIPE, .capture_output = true}), concur::ValueError);
  EXPECT_THROW(subprocess::check_output({"true"}, {.stdout_ = subprocess::DEVNULL}), concur::ValueError);
  EXPECT_THROW(subprocess::run({}), concur::ValueError);
}

TEST(Run, MissingProgramIsFileNotFound) {
  try {
    subprocess::run({"concur-missing-program", "arg"});
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("concur-missing-program"), std::string::npos);
  }
}

TEST(Run, NoFdLeakNoZombie) {
  const int before = concur_test::count_open_fds();
  for (int i = 0; i < 20; ++i) {
    subprocess::run({"echo", "x"}, {.capture_output = true});
    EXPECT_THROW(subprocess::run({"sleep", "5"}, {.capture_output = true, .timeout = 10ms}), subprocess::TimeoutExpired);
  }
  EXPECT_EQ(concur_test::count_open_fds(), before);
  EXPECT_EQ(concur_test::count_zombie_children(), 0);
}
