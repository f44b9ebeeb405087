// concur/subprocess/errors.hpp — subprocess's exceptions, with Python's fields.
//
//   Python                                   concur
//   except subprocess.SubprocessError        catch (const subprocess::SubprocessError&)
//   except subprocess.CalledProcessError     catch (const subprocess::CalledProcessError& e)
//       e.returncode, e.cmd, e.output,           e.returncode, e.cmd, e.output,
//       e.stderr                                 e.stderr_
//   except subprocess.TimeoutExpired         catch (const subprocess::TimeoutExpired& e)
//       e.cmd, e.timeout, e.output, e.stderr     e.cmd, e.timeout, e.output, e.stderr_
//   except FileNotFoundError / OSError       catch (const std::system_error& e)  // e.code() = errno
//
// `output` and `stderr_` are std::nullopt when that stream was not captured (Python's None).
// Python's `.stdout` alias of `.output` is not repeated here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "concur/error.hpp"

namespace concur::subprocess {

/// Base class of the exceptions below (Python: subprocess.SubprocessError).
class SubprocessError : public Error {
 public:
  using Error::Error;
};

/// A child run with check=true (run, check_call, check_output, check_returncode) exited with a
/// non-zero status. what() is Python's message: "Command '['false']' returned non-zero exit
/// status 1." or "Command '[...]' died with signal 9 (SIGKILL)." for a negative returncode.
class CalledProcessError : public SubprocessError {
 public:
  CalledProcessError(int returncode, std::vector<std::string> cmd,
                     std::optional<std::string> output = std::nullopt,
                     std::optional<std::string> stderr_ = std::nullopt);

  int returncode;                      ///< exit status, or -N when killed by signal N
  std::vector<std::string> cmd;        ///< the args the child was started with
  std::optional<std::string> output;   ///< captured stdout, if any
  std::optional<std::string> stderr_;  ///< captured stderr, if any
};

/// A timeout passed to run / communicate / wait / call ran out. what(): "Command '[...]' timed
/// out after 0.5 seconds". After Popen::communicate/wait the child is still running (call again
/// to go on waiting); after run/call/check_* it has been killed and reaped.
class TimeoutExpired : public SubprocessError {
 public:
  TimeoutExpired(std::vector<std::string> cmd, std::chrono::duration<double> timeout,
                 std::optional<std::string> output = std::nullopt,
                 std::optional<std::string> stderr_ = std::nullopt);

  std::vector<std::string> cmd;
  std::chrono::duration<double> timeout;
  std::optional<std::string> output;   ///< stdout read before the timeout, if captured
  std::optional<std::string> stderr_;  ///< stderr read before the timeout, if captured
};

}  // namespace concur::subprocess
