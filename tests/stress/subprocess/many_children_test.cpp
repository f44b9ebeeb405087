// Stress: many threads spawning many short children at once. Every child must succeed, and
// afterwards no fd may have leaked and no zombie may remain. Iterations scale with
// CONCUR_STRESS_SCALE (CI: 0.1 under ASan, 0.05 under TSan).
#include "concur/subprocess.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "subprocess/test_util.hpp"

namespace subprocess = concur::subprocess;
using namespace std::chrono_literals;

namespace {
int scaled(int n) { return std::max(1, static_cast<int>(n * concur_test::stress_scale())); }
}  // namespace

TEST(SubprocessStress, EightThreadsTimesFiveHundredChildren) {
  const int per_thread = scaled(500);
  const int fds_before = concur_test::count_open_fds();
  std::atomic<int> ok{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        try {
          switch ((t + i) % 4) {
            case 0: {  // plain run
              if (subprocess::run({"true"}).returncode == 0) ++ok; else ++bad;
              break;
            }
            case 1: {  // captured output through pipes
              const std::string word = std::to_string(t) + ":" + std::to_string(i);
              auto r = subprocess::run({"echo", word}, {.capture_output = true});
              if (r.returncode == 0 && r.stdout_ == word + "\n" && r.stderr_ == "") ++ok; else ++bad;
              break;
            }
            case 2: {  // stdin -> stdout
              auto r = subprocess::run({"cat"}, {.input = std::string(1000, 'x'), .stdout_ = subprocess::PIPE});
              if (r.returncode == 0 && r.stdout_ == std::string(1000, 'x')) ++ok; else ++bad;
              break;
            }
            default: {  // Popen, killed
              subprocess::Popen p({"sleep", "10"}, {.stdout_ = subprocess::PIPE});
              p.kill();
              if (p.wait() == -SIGKILL) ++ok; else ++bad;
              break;
            }
          }
        } catch (const std::exception& e) {
          ++bad;
          ADD_FAILURE() << e.what();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, 8 * per_thread);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(concur_test::count_open_fds(), fds_before);
  EXPECT_EQ(concur_test::count_zombie_children(), 0);
}

TEST(SubprocessStress, DroppedPopensAreAllReaped) {
  const int n = scaled(200);
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    subprocess::Popen p({"sleep", "0.05"}, {.stdin_ = subprocess::PIPE});
    pids.push_back(p.pid());
  }  // each destructor hands its child to the reaper thread
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline &&
         !std::all_of(pids.begin(), pids.end(), concur_test::process_gone))
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(std::all_of(pids.begin(), pids.end(), concur_test::process_gone));
  EXPECT_EQ(concur_test::count_zombie_children(), 0);
}

// communicate()'s large-transfer path (per-thread staging buffers, stdout collected in the
// input's storage, side buffer when the output runs ahead) from several threads at once, with
// outputs that trail, lead, exceed and fall short of the input: every byte exact, in order.
TEST(SubprocessStress, ConcurrentLargeCommunicatesAreBytesExact) {
  const int per_thread = scaled(12);
  const int fds_before = concur_test::count_open_fds();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::uint32_t x = 0x9e3779b9u * static_cast<std::uint32_t>(t + 1);
      auto next = [&x] { return x = x * 1664525u + 1013904223u; };
      for (int i = 0; i < per_thread; ++i) {
        const std::size_t n = next() % (3u << 20);  // 0 .. 3 MiB
        std::string input(n, '\0');
        for (auto& c : input) c = static_cast<char>(next() >> 24);
        try {
          std::vector<std::string> args;
          std::string expected;
          switch ((t + i) % 4) {
            case 0:  // a filter: output == input
              args = {"cat"};
              expected = input;
              break;
            case 1:  // output ahead of the input, then the input, then more
              args = {"sh", "-c", "head -c 700000 /dev/zero; cat; echo tail"};
              expected = std::string(700000, '\0') + input + "tail\n";
              break;
            case 2:  // stops reading early (EPIPE for the rest)
              args = {"head", "-c", "50000"};
              expected = input.substr(0, std::min<std::size_t>(n, 50000));
              break;
            default:  // a short answer
              args = {"wc", "-c"};
              expected = std::to_string(n) + "\n";
              break;
          }
          subprocess::Popen p(args, {.stdin_ = subprocess::PIPE, .stdout_ = subprocess::PIPE,
                                     .stderr_ = subprocess::PIPE});
          auto [out, err] = p.communicate(std::move(input), 120s);
          if (p.returncode() != 0 || !out || *out != expected || err != "") {
            ++bad;
            ADD_FAILURE() << "thread " << t << " run " << i << " (" << args.back() << ", " << n
                          << " bytes): rc " << p.returncode().value_or(-999) << ", "
                          << (out ? out->size() : 0) << " bytes back, " << expected.size() << " expected";
          }
        } catch (const std::exception& e) {
          ++bad;
          ADD_FAILURE() << e.what();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(concur_test::count_open_fds(), fds_before);
  EXPECT_EQ(concur_test::count_zombie_children(), 0);
}
