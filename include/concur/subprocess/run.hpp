// concur/subprocess/run.hpp — subprocess.run, call, check_call, check_output, CompletedProcess.
//
//   Python                                              concur
//   r = run(["ls", "-l"], capture_output=True,          auto r = subprocess::run({"ls", "-l"},
//           timeout=5, check=True)                          {.capture_output = true, .timeout = 5s, .check = true});
//   r.returncode, r.stdout, r.stderr                    r.returncode, *r.stdout_, *r.stderr_
//   r.check_returncode()                                r.check_returncode();
//   print(r)                                            std::cout << r;   // Python's repr
//   call(args), check_call(args)                        subprocess::call(args), subprocess::check_call(args)
//   out = check_output(args, text=True)                 auto out = subprocess::check_output(args, {.text = true});
//
// On timeout, run kills the child (the whole process group when start_new_session), reaps it,
// collects what is already in the pipes without waiting for EOF (a grandchild still holding the
// pipe cannot make it hang) and throws TimeoutExpired.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "concur/subprocess/environ.hpp"
#include "concur/subprocess/errors.hpp"
#include "concur/subprocess/popen.hpp"
#include "concur/subprocess/redirect.hpp"
#include "concur/timeout.hpp"

namespace concur::subprocess {

/// run()'s keyword arguments: run's own in Python's order, then Popen's remaining ones.
struct RunOptions {
  Redirect stdin_{};
  /// Sent to the child's stdin (implies stdin_ = PIPE; setting both is a ValueError).
  std::optional<std::string> input{};
  Redirect stdout_{};
  Redirect stderr_{};
  /// stdout_ = stderr_ = PIPE (setting either as well is a ValueError).
  bool capture_output = false;
  std::optional<std::filesystem::path> cwd{};
  /// Kill, reap and throw TimeoutExpired after this long; empty = no limit.
  Timeout timeout{};
  /// Throw CalledProcessError on a non-zero returncode.
  bool check = false;
  /// Universal newlines on the captured output (see PopenOptions::text).
  bool text = false;
  std::optional<Environment> env{};
  bool close_fds = true;
  bool start_new_session = false;
  std::vector<int> pass_fds{};
  std::optional<pid_t> process_group{};
};

/// The result of run() (Python: subprocess.CompletedProcess).
struct CompletedProcess {
  std::vector<std::string> args;
  /// Exit status, or -N when killed by signal N.
  int returncode = 0;
  /// Captured output; std::nullopt when not captured (Python's None).
  std::optional<std::string> stdout_;
  std::optional<std::string> stderr_;

  /// Throws CalledProcessError if returncode != 0.
  void check_returncode() const;
};

/// Python's repr: CompletedProcess(args=['echo', 'hi'], returncode=0, stdout='hi\n', stderr='').
std::ostream& operator<<(std::ostream& os, const CompletedProcess& p);

/// Runs the command, waits for it, returns its CompletedProcess. Blocks. Throws
/// std::system_error (cannot start), ValueError (bad options), TimeoutExpired,
/// CalledProcessError (check=true). Thread-safe: call it from as many threads as you like.
CompletedProcess run(std::vector<std::string> args, RunOptions options = {});

/// Runs the command and returns its returncode (check is ignored). Throws like run().
int call(std::vector<std::string> args, RunOptions options = {});

/// Runs the command; throws CalledProcessError on a non-zero returncode.
void check_call(std::vector<std::string> args, RunOptions options = {});

/// Runs the command with stdout captured and check=true; returns the output. Setting stdout_ is a
/// ValueError (Python: "stdout argument not allowed").
std::string check_output(std::vector<std::string> args, RunOptions options = {});

}  // namespace concur::subprocess
