// concur/detail/spawn.hpp — the low-level child-process layer shared by concur::subprocess,
// asyncio's create_subprocess_exec and ProcessPoolExecutor's workers.
//
// STABLE INTERNAL API (other modules build on it; extend, do not break):
//
//   namespace concur::detail::spawn
//     Fd                       move-only owner of one file descriptor (closes on destruction)
//     Stdio                    what the child's fd 0/1/2 becomes: inherit / fd / devnull / pipe /
//                              stdout (stderr only)
//     Spec                     argv, executable, env, cwd, stdio, close_fds, pass_fds,
//                              start_new_session, process_group, restore_signals
//     Child                    {pid, pidfd, stdin_, stdout_, stderr_} — the parent's ends
//     start(spec) -> Child     spawn; throws std::system_error / concur::ValueError
//     returncode_from_status   exit code, or -signal (Python's returncode)
//     try_reap(pid)            non-blocking waitpid -> optional returncode
//     wait_exited(pid, pidfd, deadline)   block until exited (does NOT reap), pidfd-based
//     send_signal(pid, pidfd, sig)        pidfd_send_signal when possible (no pid-reuse race)
//     reap_in_background(pid, pidfd)      hand a still-running child to the reaper thread
//     make_pipe()              pipe2(O_CLOEXEC) as two Fd
//     find_program(name, env)  Python's PATH lookup (PATH of `env` when given), in the parent
//
// How a child is started (and why it is safe in a multi-threaded program):
//   * posix_spawn, which glibc implements with clone(CLONE_VM | CLONE_VFORK) on a private stack:
//     the child never runs our code, never allocates, never takes a lock; it only executes the
//     file actions and execve. There is no fork() anywhere.
//   * Everything the child needs — argv/envp arrays, the PATH lookup, file actions — is built in
//     the parent before the call.
//   * Every fd this layer creates is O_CLOEXEC; the child's copies on 0/1/2 are made by dup2 in
//     the child, so a concurrent spawn in another thread never inherits our pipe ends.
//   * close_fds=true closes every fd >= 3 in the child with close_range (glibc's
//     posix_spawn_file_actions_addclosefrom_np), except pass_fds, which are kept at their number
//     with FD_CLOEXEC cleared in the child only.
//   * The child starts with an empty signal mask, and with SIGPIPE/SIGXFSZ reset to SIG_DFL when
//     restore_signals (Python's default): a parent that ignores SIGPIPE does not pass that on.
//   * Exec and file-action failures (ENOENT, EACCES, ENOTDIR, bad cwd, ...) are reported by
//     posix_spawn's own return value (glibc >= 2.24 carries the child's errno back over the vfork
//     handshake) and become std::system_error naming the program or the cwd.
//   * The pidfd is opened right after the spawn, while the child cannot have been reaped yet, so
//     it always refers to our child; waits poll it (no sleep loops) and signals go through it (no
//     pid-reuse race). On kernels without pidfd_open (< 5.3) pidfd is -1 and the helpers fall
//     back to waitpid.
//
// Event loops: the parent's pipe ends are blocking; set O_NONBLOCK on them freely — they are
// separate open file descriptions from the child's ends, which stay blocking.
//
// Thread-safety: every function here may be called from any thread concurrently. A Child's fds
// belong to the caller; nothing here reaps a child unless asked (try_reap / reap_in_background).
#pragma once

#include "concur/detail/unique_fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace concur::detail::spawn {

/// Owns one file descriptor; -1 means "none" (concur::detail::UniqueFd).
using Fd = concur::detail::UniqueFd;

/// What the child's fd 0, 1 or 2 becomes.
enum class StdioKind : unsigned char {
  inherit,  ///< the parent's own fd 0/1/2
  fd,       ///< dup2 of an fd of the parent (Stdio::fd), which the parent keeps and still owns
  devnull,  ///< /dev/null, opened in the child (read-only for 0, write-only for 1/2)
  pipe,     ///< a new pipe; the parent's end is returned in Child (O_CLOEXEC, blocking)
  stdout_,  ///< only for fd 2: the same file as the child's fd 1 (Python's STDOUT)
};

struct Stdio {
  StdioKind kind = StdioKind::inherit;
  int fd = -1;  ///< for StdioKind::fd only

  static Stdio inherit() noexcept { return {}; }
  static Stdio from_fd(int fd) noexcept { return {StdioKind::fd, fd}; }
  static Stdio devnull() noexcept { return {StdioKind::devnull, -1}; }
  static Stdio pipe() noexcept { return {StdioKind::pipe, -1}; }
  static Stdio to_stdout() noexcept { return {StdioKind::stdout_, -1}; }
};

/// Everything about the child, decided in the parent.
struct Spec {
  /// argv[0] is the program (looked up on PATH when it has no '/'); must not be empty.
  std::vector<std::string> argv;
  /// When set, exec this path (PATH lookup applies likewise) and pass argv[0] unchanged.
  std::optional<std::string> executable;
  /// The child's whole environment as "NAME=value" entries; nullopt = the parent's `environ`.
  /// When set, the PATH lookup uses its PATH (Python's os.get_exec_path(env)).
  std::optional<std::vector<std::string>> env;
  /// The child's working directory. A relative program path is resolved after the chdir.
  std::optional<std::string> cwd;
  Stdio stdin_, stdout_, stderr_;
  /// Close every fd >= 3 in the child except pass_fds (they are O_CLOEXEC already when made by
  /// concur; this catches fds other code opened without O_CLOEXEC).
  bool close_fds = true;
  /// Fds kept open in the child at the same number (FD_CLOEXEC cleared in the child only).
  std::vector<int> pass_fds;
  /// setsid() in the child: a new session and process group whose id is the child's pid.
  bool start_new_session = false;
  /// setpgid(0, pgid) in the child (0 = a new group led by the child). Ignored with
  /// start_new_session.
  std::optional<pid_t> process_group;
  /// Reset SIGPIPE and SIGXFSZ to SIG_DFL in the child (Python's restore_signals=True).
  bool restore_signals = true;
};

/// A started child: its pid, a pidfd (or an empty Fd on kernels without pidfd_open) and the
/// parent's ends of the pipes the Spec asked for (stdin_ is the write end; the others read ends).
/// The caller must eventually reap the pid (try_reap / wait_exited + try_reap /
/// reap_in_background) or it stays a zombie.
struct Child {
  pid_t pid = -1;
  Fd pidfd;
  Fd stdin_, stdout_, stderr_;
};

/// Starts a child as described. Throws concur::ValueError when argv is empty;
/// std::system_error with the errno when the program cannot be found or executed ("cannot
/// execute 'prog'") or the cwd is unusable ("cannot change directory to '/x' for 'prog'"), or when
/// pipe2/posix_spawn fail for lack of resources (EMFILE, EAGAIN, ENOMEM). On failure nothing
/// leaks: no fd, no zombie. Blocks only for the duration of the vfork-style spawn.
Child start(const Spec& spec);

/// Python's returncode for a waitpid status: the exit code, or -N when killed by signal N.
int returncode_from_status(int wstatus) noexcept;

/// Reaps the child if it has exited, without blocking; returns its returncode, or nullopt while
/// it runs. ECHILD (someone else reaped it, or SIGCHLD is SIG_IGN) gives 0, as in Python.
std::optional<int> try_reap(pid_t pid);

/// Blocks until the child has exited (it is left unreaped: call try_reap), or until the deadline.
/// Returns true when it has exited. Polls the pidfd when there is one; otherwise uses
/// waitid(WNOWAIT) without a deadline and a short sleep loop with one. Safe to call from several
/// threads at once. Also returns true if the pid is no longer our child (ECHILD).
bool wait_exited(pid_t pid, int pidfd,
                 std::optional<std::chrono::steady_clock::time_point> deadline);

/// Sends `sig` through the pidfd (pidfd_send_signal) when there is one, else kill(pid). Returns
/// false if the process is already gone (ESRCH); throws std::system_error on other errors.
/// Precondition: the child has not been reaped (else the pid may belong to another process).
bool send_signal(pid_t pid, int pidfd, int sig);

/// Gives a child nobody will wait for to a process-wide reaper thread (started on first use),
/// which reaps it as soon as it exits, so it never lingers as a zombie. Takes the pidfd.
void reap_in_background(pid_t pid, Fd pidfd);

/// pipe2(O_CLOEXEC): {read end, write end}. Throws std::system_error.
std::pair<Fd, Fd> make_pipe();

/// Opens a pidfd for `pid`; an empty Fd when the kernel lacks pidfd_open.
Fd open_pidfd(pid_t pid) noexcept;

/// Python's PATH lookup, done in the parent: a name containing '/' is returned as is; otherwise
/// the first executable regular file `dir/name` for dir in PATH (taken from `env` when given,
/// else from the parent's environment; "/bin:/usr/bin" when unset). Returns nullopt and sets
/// `error` (ENOENT, or EACCES when only non-executable candidates exist) when nothing fits.
std::optional<std::string> find_program(const std::string& name,
                                        const std::vector<std::string>* env, int& error);

}  // namespace concur::detail::spawn
