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
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "concur/subprocess.hpp"

extern char** environ;  // NOLINT

namespace subprocess = concur::subprocess;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds (user + sys) of this process plus its reaped children: a load-independent measure
// of the work done, reported beside wall-clock rates because the shared VM is often overloaded.
double cpu_seconds() {
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  return tv(self.ru_utime) + tv(self.ru_stime) + tv(kids.ru_utime) + tv(kids.ru_stime);
}

struct Sample {
  double rate;     // per wall-clock second
  double per_cpu;  // per CPU second (parent + children)
};

template <class F>
Sample measure(double amount, F&& f) {
  const double c0 = cpu_seconds();
  const auto t0 = Clock::now();
  f();
  const double wall = seconds_since(t0);
  const double cpu = cpu_seconds() - c0;
  return {amount / wall, amount / cpu};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Sample concur_spawns(int n) {
  return measure(n, [&] {
    for (int i = 0; i < n; ++i)
      if (subprocess::run({"/bin/true"}).returncode != 0) std::abort();
  });
}

Sample raw_spawns(int n) {
  char prog[] = "/bin/true";
  char* argv[] = {prog, nullptr};
  return measure(n, [&] {
    for (int i = 0; i < n; ++i) {
      pid_t pid;
      if (posix_spawn(&pid, prog, nullptr, nullptr, argv, environ) != 0) std::abort();
      int st;
      if (waitpid(pid, &st, 0) != pid || st != 0) std::abort();
    }
  });
}

// Runs the CPython side; it prints its wall-clock rate. The CPU figure includes the
// interpreter's start-up (tens of ms), a small bias against CPython.
Sample cpython(const std::string& python, const std::string& what, long n, double amount) {
  const double c0 = cpu_seconds();
  auto r = subprocess::run({python, CONCUR_BENCH_PY_DIR "/subprocess_bench.py", what, std::to_string(n)},
                           {.capture_output = true});
  const double cpu = cpu_seconds() - c0;
  if (r.returncode != 0) {
    std::fprintf(stderr, "cpython failed: %s\n", r.stderr_->c_str());
    return {0, 0};
  }
  return {std::atof(r.stdout_->c_str()), amount / cpu};
}

// GB of payload (it crosses two pipes: in and back out).
Sample concur_communicate_gb(const std::string& data) {
  std::string input = data;  // communicate() takes its input by value: copy outside the clock
  std::optional<std::string> out;
  const Sample s = measure(static_cast<double>(data.size()) / 1e9, [&] {
    subprocess::Popen p({"cat"}, {.stdin_ = subprocess::PIPE, .stdout_ = subprocess::PIPE});
    out = p.communicate(std::move(input)).stdout_;
    if (p.returncode() != 0) std::abort();
  });
  if (!out || out->size() != data.size()) std::abort();
  return s;
}

Sample cat_file_gb(const std::string& path, std::size_t bytes) {
  return measure(static_cast<double>(bytes) / 1e9, [&] {
    if (subprocess::run({"sh", "-c", "cat \"$0\" > /dev/null", path}).returncode != 0) std::abort();
  });
}

double median_of(const std::vector<Sample>& v, double Sample::*m) {
  std::vector<double> x;
  for (const auto& s : v) x.push_back(s.*m);
  return median(x);
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

  std::printf("== %d sequential spawns of /bin/true, %d rounds (median; wall-clock spawns/s, and CPU us per spawn) ==\n",
              spawns, rounds);
  // Untimed warm-up of both C++ columns: whichever loop runs first in a fresh process was
  // measured ~10-30% slower than the same loop later (cold exec path and page cache), which
  // otherwise always penalised the first column of round 1.
  concur_spawns(std::max(1, spawns / 10));
  raw_spawns(std::max(1, spawns / 10));
  std::vector<Sample> c, r, py;
  for (int k = 0; k < rounds; ++k) {
    c.push_back(concur_spawns(spawns));
    r.push_back(raw_spawns(spawns));
    if (have_python) py.push_back(cpython(python, "spawn", spawns, spawns));
    std::printf("  round %d: concur %.0f/s  raw %.0f/s  cpython %.0f/s\n", k + 1, c.back().rate, r.back().rate,
                have_python ? py.back().rate : 0.0);
  }
  const double mc = median_of(c, &Sample::rate), mr = median_of(r, &Sample::rate);
  const double uc = 1e6 / median_of(c, &Sample::per_cpu), ur = 1e6 / median_of(r, &Sample::per_cpu);
  std::printf("concur run()            %7.0f /s  %6.0f us CPU\n", mc, uc);
  std::printf("raw posix_spawn+waitpid %7.0f /s  %6.0f us CPU   concur/raw     = %.3f wall, %.3f CPU (target >= 0.95)\n",
              mr, ur, mc / mr, ur / uc);
  if (have_python) {
    const double mp = median_of(py, &Sample::rate), up = 1e6 / median_of(py, &Sample::per_cpu);
    std::printf("CPython subprocess.run  %7.0f /s  %6.0f us CPU   concur/CPython = %.3f wall, %.3f CPU (target >= 1)\n",
                mp, up, mc / mp, up / uc);
  }

  std::printf("\n== communicate(): %ld MiB through cat, %d rounds (median; GB/s wall-clock, and GB per CPU-second) ==\n",
              mib, rounds);
  const std::size_t bytes = static_cast<std::size_t>(mib) << 20;
  std::string data(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(i * 2654435761u >> 13);
  char path[] = "/tmp/concur_bench_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  ::close(fd);
  std::vector<Sample> cc, cf, cp;
  for (int k = 0; k < rounds; ++k) {
    cc.push_back(concur_communicate_gb(data));
    cf.push_back(cat_file_gb(path, bytes));
    if (have_python) cp.push_back(cpython(python, "communicate", mib, static_cast<double>(bytes) / 1e9));
    std::printf("  round %d: concur %.2f  cat>/dev/null %.2f  cpython %.2f GB/s\n", k + 1, cc.back().rate,
                cf.back().rate, have_python ? cp.back().rate : 0.0);
  }
  ::unlink(path);
  std::printf("concur communicate() through cat  %6.2f GB/s  %6.2f GB/CPU-s (target >= 1 GB/s)\n",
              median_of(cc, &Sample::rate), median_of(cc, &Sample::per_cpu));
  std::printf("cat file > /dev/null              %6.2f GB/s  %6.2f GB/CPU-s\n", median_of(cf, &Sample::rate),
              median_of(cf, &Sample::per_cpu));
  if (have_python)
    std::printf("CPython communicate() through cat %6.2f GB/s  %6.2f GB/CPU-s   concur/CPython = %.2f wall, %.2f CPU\n",
                median_of(cp, &Sample::rate), median_of(cp, &Sample::per_cpu),
                median_of(cc, &Sample::rate) / median_of(cp, &Sample::rate),
                median_of(cc, &Sample::per_cpu) / median_of(cp, &Sample::per_cpu));
  return 0;
}
