#include "concur/subprocess/errors.hpp"

#include <string.h>

#include <sstream>

#include "io.hpp"

namespace concur::subprocess {
namespace {

std::string called_message(int returncode, const std::vector<std::string>& cmd) {
  std::string msg = "Command '" + detail::py_repr(cmd) + "' ";
  if (returncode < 0) {
    const char* abbrev = ::sigabbrev_np(-returncode);
    if (abbrev)
      msg += "died with <Signals.SIG" + std::string(abbrev) + ": " + std::to_string(-returncode) + ">.";
    else
      msg += "died with unknown signal " + std::to_string(-returncode) + ".";
  } else {
    msg += "returned non-zero exit status " + std::to_string(returncode) + ".";
  }
  return msg;
}

std::string timeout_message(const std::vector<std::string>& cmd, std::chrono::duration<double> t) {
  std::ostringstream os;
  os << "Command '" << detail::py_repr(cmd) << "' timed out after " << t.count() << " seconds";
  return os.str();
}

}  // namespace

CalledProcessError::CalledProcessError(int rc, std::vector<std::string> c, std::optional<std::string> out,
                                       std::optional<std::string> err)
    : SubprocessError(called_message(rc, c)),
      returncode(rc),
      cmd(std::move(c)),
      output(std::move(out)),
      stderr_(std::move(err)) {}

TimeoutExpired::TimeoutExpired(std::vector<std::string> c, std::chrono::duration<double> t,
                               std::optional<std::string> out, std::optional<std::string> err)
    : SubprocessError(timeout_message(c, t)),
      cmd(std::move(c)),
      timeout(t),
      output(std::move(out)),
      stderr_(std::move(err)) {}

}  // namespace concur::subprocess
