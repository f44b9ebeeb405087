// subprocess_bench: concur::subprocess beside a raw posix_spawn+waitpid loop and CPython, in one
// run. Rounds are interleaved (concur, raw, CPython, concur, ...) so machine load hits all
// columns alike; medians of the rounds and ratios are printed.
//
//   subprocess_bench [--spawns N] [--rounds R] [--mib M] [--python python3]
//
// 1. N sequential spawns of /bin/true: concur run(), raw posix_spawn + waitpid, CPython run().
// 2. communicate() throughput: M MiB through `cat` (stdin and stdout pipes), beside
//    `cat file > /dev/null` on an M MiB file (the kernel's copy rate, no pipe to the parent) and
//    CPython's communicate() through cat.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "concur/subprocess.hpp"

extern char** environ;  // NOLINT

namespace subprocess = concur::subprocess;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double concur_spawns(int n) {
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    if (subprocess::run({"/bin/true"}).returncode != 0) std::abort();
  return n / seconds_since(t0);
}

double raw_spawns(int n) {
  char prog[] = "/bin/true";
  char* argv[] = {prog, nullptr};
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, prog, nullptr, nullptr, argv, environ) != 0) std::abort();
    int st;
    if (waitpid(pid, &st, 0) != pid || st != 0) std::abort();
  }
  return n / seconds_since(t0);
}

// Runs the CPython side; it prints one number.
double cpython(const std::string& python, const std::string& what, long n) {
  auto r = subprocess::run({python, CONCUR_BENCH_PY_DIR "/subprocess_bench.py", what, std::to_string(n)},
                           {.capture_output = true});
  if (r.returncode != 0) {
    std::fprintf(stderr, "cpython failed: %s\n", r.stderr_->c_str());
    return 0;
  }
  return std::atof(r.stdout_->c_str());
}

double concur_communicate_gbps(const std::string& data) {
  std::string input = data;  // communicate() takes its input by value: copy outside the clock
  const auto t0 = Clock::now();
  subprocess::Popen p({"cat"}, {.stdin_ = subprocess::PIPE, .stdout_ = subprocess::PIPE});
  auto [out, err] = p.communicate(std::move(input));
  const double s = seconds_since(t0);
  if (!out || out->size() != data.size() || p.returncode() != 0) std::abort();
  return static_cast<double>(data.size()) / s / 1e9;  // payload (it crosses two pipes)
}

double cat_file_gbps(const std::string& path, std::size_t bytes) {
  const auto t0 = Clock::now();
  if (subprocess::run({"sh", "-c", "cat \"$0\" > /dev/null", path}).returncode != 0) std::abort();
  return static_cast<double>(bytes) / seconds_since(t0) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int spawns = 1000;
  int rounds = 5;
  long mib = 256;
  std::string python = "python3";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--spawns") spawns = std::atoi(argv[i + 1]);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--mib") mib = std::atol(argv[i + 1]);
    else if (a == "--python") python = argv[i + 1];
  }
  const bool have_python = subprocess::call({"sh", "-c", "command -v \"$0\" >/dev/null", python}) == 0;

  std::printf("== %d sequential spawns of /bin/true, %d rounds (spawns/s, median) ==\n", spawns, rounds);
  std::vector<double> c, r, py;
  for (int k = 0; k < rounds; ++k) {
    c.push_back(concur_spawns(spawns));
    r.push_back(raw_spawns(spawns));
    if (have_python) py.push_back(cpython(python, "spawn", spawns));
    std::printf("  round %d: concur %.0f  raw %.0f  cpython %.0f\n", k + 1, c.back(), r.back(),
                have_python ? py.back() : 0.0);
  }
  const double mc = median(c), mr = median(r), mp = have_python ? median(py) : 0;
  std::printf("concur run()            %8.0f /s\n", mc);
  std::printf("raw posix_spawn+waitpid %8.0f /s   concur/raw     = %.3f (target >= 0.95)\n", mr, mc / mr);
  if (have_python)
    std::printf("CPython subprocess.run  %8.0f /s   concur/CPython = %.3f (target >= 1)\n", mp, mc / mp);

  std::printf("\n== communicate(): %ld MiB through cat, %d rounds (GB/s, median) ==\n", mib, rounds);
  const std::size_t bytes = static_cast<std::size_t>(mib) << 20;
  std::string data(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(i * 2654435761u >> 13);
  char path[] = "/tmp/concur_bench_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  ::close(fd);
  std::vector<double> cc, cf, cp;
  for (int k = 0; k < rounds; ++k) {
    cc.push_back(concur_communicate_gbps(data));
    cf.push_back(cat_file_gbps(path, bytes));
    if (have_python) cp.push_back(cpython(python, "communicate", mib));
    std::printf("  round %d: concur %.2f  cat>/dev/null %.2f  cpython %.2f\n", k + 1, cc.back(), cf.back(),
                have_python ? cp.back() : 0.0);
  }
  ::unlink(path);
  std::printf("concur communicate() through cat  %6.2f GB/s (payload in = out; target >= 1)\n", median(cc));
  std::printf("cat file > /dev/null              %6.2f GB/s\n", median(cf));
  if (have_python)
    std::printf("CPython communicate() through cat %6.2f GB/s   concur/CPython = %.2f\n", median(cp),
                median(cc) / median(cp));
  return 0;
}
