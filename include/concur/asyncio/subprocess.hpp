// concur/asyncio/subprocess.hpp — asyncio's subprocesses: create_subprocess_exec and Process.
//
//   Python                                                concur
//   p = await asyncio.create_subprocess_exec(             auto p = co_await asyncio::create_subprocess_exec(
//         "cat", stdin=PIPE, stdout=PIPE)                       "cat", {}, {.stdin_ = subprocess::PIPE,
//                                                                          .stdout_ = subprocess::PIPE});
//   out, err = await p.communicate(b"hi")                 auto [out, err] = co_await p.communicate("hi");
//   rc = await p.wait()                                   int rc = co_await p.wait();
//   line = await p.stdout.readline()                      std::string line = co_await p.stdout_.readline();
//
// The child is started by the subprocess module's spawning layer (posix_spawn, no fork); its exit
// is noticed through a pidfd registered with the loop, and it is reaped at once, even if nobody
// waits (a Process never leaves a zombie; one still running when the loop ends is reaped in the
// background). Pipe ends are non-blocking StreamReader/StreamWriter (stdin_ is a StreamWriter).
// Errors: a program that cannot be executed throws std::system_error (ENOENT, EACCES).
// Threading: use a Process from the loop that created it.
// g++ 12 caveat: a braced argument list or options holding std::string temporaries written inside
// the co_await expression can be miscompiled (double destruction); build them in a statement of
// their own, then co_await create_subprocess_exec(prog, std::move(args), std::move(options)).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "concur/asyncio/streams.hpp"
#include "concur/asyncio/task.hpp"

namespace concur::asyncio {

namespace detail {
struct ProcessState;
}

namespace subprocess {

/// What a child's stdin/stdout/stderr becomes (Python: None, PIPE, DEVNULL, STDOUT or an fd).
struct Stdio {
  enum class Kind : unsigned char { inherit, pipe, devnull, stdout_, fd };
  Kind kind = Kind::inherit;
  int fd = -1;
  constexpr Stdio() noexcept = default;
  constexpr Stdio(Kind k) noexcept : kind(k) {}  // NOLINT(implicit): PIPE, DEVNULL, STDOUT
  /// An fd of ours (the caller keeps owning it), e.g. another pipe's end or a file.
  constexpr Stdio(int file_descriptor) noexcept : kind(Kind::fd), fd(file_descriptor) {}  // NOLINT
};

inline constexpr Stdio PIPE{Stdio::Kind::pipe};
inline constexpr Stdio DEVNULL{Stdio::Kind::devnull};
/// For stderr_ only: the same file as the child's stdout.
inline constexpr Stdio STDOUT{Stdio::Kind::stdout_};

/// A child started by create_subprocess_exec (Python: asyncio.subprocess.Process).
/// Move-only. Destroying it neither waits nor kills: the child is reaped when it exits.
class Process {
 public:
  Process() = default;
  Process(Process&&) noexcept = default;
  Process& operator=(Process&&) noexcept = default;
  ~Process();

  /// The child's pid.
  pid_t pid() const noexcept;
  /// The exit code, -N when killed by signal N, nullopt while running (as Python's attribute,
  /// updated when the loop notices the exit).
  std::optional<int> returncode() const noexcept;
  /// Suspends until the child exits; returns its returncode. Cancellation leaves the child alone.
  Task<int> wait();
  /// Sends `input` to stdin_ (then closes it), reads stdout_ and stderr_ to EOF concurrently, and
  /// waits for the child. Returns (stdout data, stderr data); "" for a stream that is not PIPE.
  /// A child that stops reading its stdin early (EPIPE) is not an error, as in Python.
  Task<std::pair<std::string, std::string>> communicate(std::optional<std::string> input = std::nullopt);
  /// Sends a signal; a no-op once the child has exited.
  void send_signal(int sig);
  void terminate();  ///< SIGTERM
  void kill();       ///< SIGKILL

  /// The pipe ends for stdin/stdout/stderr given as PIPE; empty handles otherwise.
  StreamWriter stdin_;
  StreamReader stdout_;
  StreamReader stderr_;

  /// Internal: made by create_subprocess_exec.
  explicit Process(std::shared_ptr<detail::ProcessState> s) noexcept : s_(std::move(s)) {}

 private:
  std::shared_ptr<detail::ProcessState> s_;
};

}  // namespace subprocess

/// Python: create_subprocess_exec(program, *args, stdin, stdout, stderr, limit, **Popen kwargs);
/// the Popen keywords follow in Popen's order.
struct CreateSubprocessOptions {
  subprocess::Stdio stdin_{};
  subprocess::Stdio stdout_{};
  subprocess::Stdio stderr_{};
  std::size_t limit = DEFAULT_STREAM_LIMIT;  ///< of the stdout_/stderr_ StreamReaders
  bool close_fds = true;
  std::optional<std::string> cwd{};
  /// The child's whole environment (NAME -> value); nullopt inherits ours.
  std::optional<std::map<std::string, std::string>> env{};
  bool start_new_session = false;
  std::vector<int> pass_fds{};
};

/// Starts `program` with `args` (program looked up on PATH when it has no '/'). Never blocks the
/// loop beyond the spawn itself. Throws std::system_error when the program cannot be executed.
Task<subprocess::Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                                 CreateSubprocessOptions options = {});

}  // namespace concur::asyncio
