// Private helpers of src/subprocess (not installed).
#pragma once

#include <signal.h>

#include <string>
#include <string_view>
#include <vector>

namespace concur::subprocess::detail {

/// Blocks SIGPIPE in the calling thread for its lifetime, so a write to a pipe whose reader is
/// gone fails with EPIPE instead of killing the process; on exit it discards a SIGPIPE that
/// became pending meanwhile (one that was already pending before is left alone) and restores the
/// thread's signal mask. The usual technique for libraries that cannot touch the process-wide
/// SIGPIPE disposition.
class SigpipeGuard {
 public:
  SigpipeGuard() noexcept;
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

/// Python's repr of a str: 'a\nb'.
std::string py_repr(std::string_view s);
/// Python's repr of a list of str: ['ls', '-l'].
std::string py_repr(const std::vector<std::string>& v);
/// Universal newlines: "\r\n" and "\r" become "\n".
std::string translate_newlines(std::string s);
/// Sets or clears O_NONBLOCK; throws std::system_error.
void set_nonblocking(int fd, bool on);

}  // namespace concur::subprocess::detail
