// concur-lab — small helpers shared by the experiments: clocks, deterministic data, blocking
// system calls, child processes with captured output and resource usage, hashing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lab {

using Clock = std::chrono::steady_clock;

/// Seconds elapsed since `t0`.
inline double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// xorshift32: the deterministic byte generator the C++ and Python sides share (python/common.py),
/// so both hash and encrypt the same bytes and their digests can be compared.
std::vector<std::uint8_t> xorshift_bytes(std::uint32_t seed, std::size_t n);

/// The seeds' slow_systemcall(): select() with EMPTY fd sets for `seconds`. (The seeds' Linux
/// variant, select([socket.socket()], ...), returns at once: an unconnected socket is readable.)
void slow_systemcall(double seconds = 0.1);

/// The seeds' mistake, reproduced: select() on an unconnected TCP socket for `seconds`;
/// returns the seconds it really blocked.
double select_on_unconnected_socket(double seconds = 0.1);

/// Hex of bytes.
std::string hex(const std::uint8_t* p, std::size_t n);
inline std::string hex(const std::vector<std::uint8_t>& v) { return hex(v.data(), v.size()); }

/// SHA-256 / any OpenSSL digest by name (EVP); throws std::runtime_error if unknown.
std::vector<std::uint8_t> digest(const char* name, const std::uint8_t* p, std::size_t n);

/// The result of running a child process to completion.
struct ChildResult {
  int exit_code = -1;      ///< exit status, or 128+signal
  bool timed_out = false;
  std::string out, err;
  long max_rss_kb = 0;     ///< ru_maxrss of the child (wait4)
};

/// Runs argv (argv[0] searched in PATH) with stdin from /dev/null, capturing stdout and stderr;
/// kills it after `timeout_s`. Throws std::system_error if it cannot start.
ChildResult run_child(const std::vector<std::string>& argv, double timeout_s,
                      const std::vector<std::string>& extra_env = {});

/// Absolute path of an executable found in PATH, or empty.
std::string which(const std::string& name);

/// Peak virtual size (VmPeak) and resident set (VmHWM) of this process in KiB, from /proc.
long proc_status_kb(const char* field);

/// Number of online CPUs.
unsigned cpu_count();

/// Median of a non-empty vector.
double median(std::vector<double> v);

}  // namespace lab
