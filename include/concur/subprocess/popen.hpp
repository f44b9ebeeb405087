// concur/subprocess/popen.hpp — subprocess.Popen.
//
//   Python                                        concur
//   p = Popen(["sleep", "1"])                     subprocess::Popen p({"sleep", "1"});
//   p = Popen(args, stdin=PIPE, stdout=PIPE)      subprocess::Popen p(args, {.stdin_ = PIPE, .stdout_ = PIPE});
//   while p.poll() is None: ...                   while (!p.poll()) { ... }
//   p.wait(timeout=5)                             p.wait(5s);
//   out, err = p.communicate(data, timeout=5)     auto [out, err] = p.communicate(data, 5s);
//   p.stdin.write(b"..."); p.stdout.read()        p.stdin_.write("..."); p.stdout_.read();
//   p.returncode                                  p.returncode()
//
// Pipelines (a | b | c), parent's copies closed so EOF and SIGPIPE propagate:
//   Popen a({"gen"}, {.stdout_ = PIPE});
//   Popen b({"filter"}, {.stdin_ = std::move(a.stdout_), .stdout_ = PIPE});
//   Popen c({"sink"}, {.stdin_ = std::move(b.stdout_), .stdout_ = PIPE});
//   auto [out, _] = c.communicate();
//
// Spawning is posix_spawn (vfork-style, never fork) with every fd O_CLOEXEC: safe while other
// threads spawn, open files or hold locks. Waiting polls a pidfd (no sleep loops).
//
// Destructor (Python's __del__ warns and leaves the child to a later reaping): closes the pipe
// ends, reaps the child if it has exited, and otherwise hands it to concur's reaper thread, which
// reaps it the moment it exits. The child is NOT killed and the destructor never blocks; no
// zombie outlives the child. To wait, call wait(); to stop it, kill() then wait().
//
// Thread-safety: pid(), returncode(), poll(), wait(), send_signal(), terminate() and kill() may be
// called concurrently from any threads (a signal never reaches a recycled pid). communicate() and
// the stdin_/stdout_/stderr_ streams are for one thread at a time.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concur/subprocess/environ.hpp"
#include "concur/subprocess/errors.hpp"
#include "concur/subprocess/redirect.hpp"
#include "concur/subprocess/stream.hpp"
#include "concur/timeout.hpp"

namespace concur::subprocess {

/// Popen's keyword arguments, in the order of Python's signature.
struct PopenOptions {
  Redirect stdin_{};
  Redirect stdout_{};
  Redirect stderr_{};
  /// Close every fd >= 3 in the child except pass_fds (close_range in the child).
  bool close_fds = true;
  /// The child's working directory; a relative program path is resolved from it.
  std::optional<std::filesystem::path> cwd{};
  /// Replaces the child's whole environment (see environ.hpp); empty = inherit.
  std::optional<Environment> env{};
  /// setsid() in the child; run()'s timeout then kills the whole process group.
  bool start_new_session = false;
  /// Fds the child keeps at the same number.
  std::vector<int> pass_fds{};
  /// Python's text mode. Data stays std::string (bytes) either way; text=true applies universal
  /// newlines to what communicate() returns ("\r\n" and "\r" become "\n"), as Python's text
  /// streams do. Stream::read/readline stay raw bytes.
  bool text = false;
  /// setpgid() in the child: 0 makes it lead a new group (Python 3.11's process_group).
  std::optional<pid_t> process_group{};
};

/// What communicate() returns (Python's (stdout_data, stderr_data) tuple; structured bindings
/// work). A member is std::nullopt when that stream was not a pipe.
struct CommunicateResult {
  std::optional<std::string> stdout_{};
  std::optional<std::string> stderr_{};
};

/// A running child process (Python: subprocess.Popen). Movable, not copyable.
class Popen {
 public:
  /// Starts `args` (args[0] is looked up on PATH, the one of `env` when given). Throws
  /// concur::ValueError for empty args or an invalid combination, std::system_error with the
  /// errno for a missing/non-executable program or a bad cwd (what() names it) and for resource
  /// exhaustion. Returns once the child has exec'd (or failed to).
  explicit Popen(std::vector<std::string> args, PopenOptions options = {});
  Popen(Popen&&) noexcept;
  Popen& operator=(Popen&&) noexcept;
  Popen(const Popen&) = delete;
  Popen& operator=(const Popen&) = delete;
  /// See the header comment: closes the pipes; never blocks; never leaves a zombie.
  ~Popen();

  /// The parent's pipe ends (closed Streams when not PIPE). Write/read them directly, pass them
  /// to another Popen, or close them.
  Stream stdin_;
  Stream stdout_;
  Stream stderr_;

  const std::vector<std::string>& args() const noexcept;
  pid_t pid() const noexcept;
  /// The exit status once known (negative signal number when killed by a signal); else nullopt.
  std::optional<int> returncode() const;

  /// Reaps the child if it has exited; returns returncode(). Never blocks.
  std::optional<int> poll();
  /// Waits for the child to exit and returns its returncode. Throws TimeoutExpired when the
  /// timeout runs out (the child keeps running). Does not touch the pipes: a child blocked on a
  /// full stdout pipe never exits — use communicate() for that.
  int wait(Timeout timeout = std::nullopt);

  /// Writes `input` to stdin_ (then closes it), reads stdout_ and stderr_ to EOF, all at once
  /// with poll(2) so no amount of output deadlocks, then waits for the child. On timeout throws
  /// TimeoutExpired carrying the output read so far; the child keeps running and a later
  /// communicate() resumes (input is remembered; passing new input then is a ValueError).
  /// Pipes are closed on return. Writing to a child that exited early is not an error (EPIPE is
  /// ignored, as in Python).
  /// Memory: `input` is taken by value and its storage, once written, receives stdout, so the
  /// output of a filter (cat, gzip, openssl, ...) needs no new allocation (the returned stdout_
  /// may be that string; it never keeps more than twice its size). Pipe I/O goes through two
  /// 256 KiB per-thread buffers, allocated on a thread's first communicate().
  CommunicateResult communicate(std::optional<std::string> input = std::nullopt,
                                Timeout timeout = std::nullopt);

  /// Sends `sig` unless the child has already been reaped (then does nothing).
  void send_signal(int sig);
  /// send_signal(SIGTERM).
  void terminate();
  /// send_signal(SIGKILL).
  void kill();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace concur::subprocess
