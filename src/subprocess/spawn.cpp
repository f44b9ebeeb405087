// The spawning layer: see include/concur/detail/spawn.hpp for the contract.
#include "concur/detail/spawn.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <thread>

#include "concur/error.hpp"

extern char** environ;  // NOLINT

namespace concur::detail::spawn {
namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// RAII for posix_spawn_file_actions_t / posix_spawnattr_t.
struct FileActions {
  posix_spawn_file_actions_t fa;
  FileActions() {
    if (int e = posix_spawn_file_actions_init(&fa)) throw_errno(e, "posix_spawn_file_actions_init");
  }
  ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  void check(int e, const char* what) {
    if (e) throw_errno(e, what);
  }
  void dup2(int from, int to) { check(posix_spawn_file_actions_adddup2(&fa, from, to), "posix_spawn: dup2"); }
  void close(int fd) { check(posix_spawn_file_actions_addclose(&fa, fd), "posix_spawn: close"); }
  void open(int fd, const char* path, int flags) {
    check(posix_spawn_file_actions_addopen(&fa, fd, path, flags, 0), "posix_spawn: open");
  }
  void closefrom(int fd) { check(posix_spawn_file_actions_addclosefrom_np(&fa, fd), "posix_spawn: closefrom"); }
  void chdir(const char* dir) { check(posix_spawn_file_actions_addchdir_np(&fa, dir), "posix_spawn: chdir"); }
};

struct Attr {
  posix_spawnattr_t a;
  Attr() {
    if (int e = posix_spawnattr_init(&a)) throw_errno(e, "posix_spawnattr_init");
  }
  ~Attr() { posix_spawnattr_destroy(&a); }
  Attr(const Attr&) = delete;
  Attr& operator=(const Attr&) = delete;
};

// The parent's open fds (for close_fds with pass_fds leaving wide gaps).
std::vector<int> open_fds() {
  std::vector<int> fds;
  Fd dir_fd(::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return fds;
  DIR* d = ::fdopendir(dir_fd.get());
  if (!d) return fds;
  const int own = dir_fd.release();
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(d);
  return fds;
}

const char* find_env(const std::vector<std::string>* env, const char* name) {
  const std::size_t n = std::strlen(name);
  if (!env) return ::getenv(name);
  for (const auto& kv : *env)
    if (kv.size() > n && kv.compare(0, n, name) == 0 && kv[n] == '=') return kv.c_str() + n + 1;
  return nullptr;
}

bool is_executable_file(const std::string& path, int& error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  if (!S_ISREG(st.st_mode)) {
    error = EACCES;
    return false;
  }
  if (::access(path.c_str(), X_OK) != 0) {
    error = EACCES;
    return false;
  }
  return true;
}

std::atomic<bool> g_no_pidfd{false};

}  // namespace

std::pair<Fd, Fd> make_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  return {Fd(p[0]), Fd(p[1])};
}

Fd open_pidfd(pid_t pid) noexcept {
#ifdef SYS_pidfd_open
  if (g_no_pidfd.load(std::memory_order_relaxed)) return Fd();
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);  // always O_CLOEXEC
  if (fd >= 0) return Fd(static_cast<int>(fd));
  if (errno == ENOSYS) g_no_pidfd.store(true, std::memory_order_relaxed);
#else
  (void)pid;
#endif
  return Fd();
}

std::optional<std::string> find_program(const std::string& name, const std::vector<std::string>* env,
                                        int& error) {
  error = 0;
  if (name.empty()) {
    error = ENOENT;
    return std::nullopt;
  }
  if (name.find('/') != std::string::npos) return name;
  const char* path = find_env(env, "PATH");
  const std::string dirs = path ? path : "/bin:/usr/bin";
  int first_error = ENOENT;
  std::size_t pos = 0;
  std::string candidate;
  while (true) {
    const std::size_t end = dirs.find(':', pos);
    const std::string dir = dirs.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    // An empty PATH entry means the current directory.
    candidate = dir.empty() ? "./" + name : dir + (dir.back() == '/' ? "" : "/") + name;
    int err = 0;
    if (is_executable_file(candidate, err)) return candidate;
    if (err == EACCES) first_error = EACCES;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  error = first_error;
  return std::nullopt;
}

Child start(const Spec& spec) {
  if (spec.argv.empty()) throw ValueError("subprocess: args must not be empty");
  const std::string& program = spec.executable ? *spec.executable : spec.argv[0];

  // Environment and PATH lookup, in the parent.
  std::vector<char*> envp;
  if (spec.env) {
    envp.reserve(spec.env->size() + 1);
    for (const auto& kv : *spec.env) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
  }
  int lookup_error = 0;
  const std::optional<std::string> path =
      find_program(program, spec.env ? &*spec.env : nullptr, lookup_error);
  if (!path) throw_errno(lookup_error, "cannot execute " + quoted(program));

  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  Child child;
  std::vector<Fd> child_side;  // closed in the parent once the child exists
  FileActions fa;

  auto apply = [&](const Stdio& s, int target, Fd& parent_end) {
    switch (s.kind) {
      case StdioKind::inherit:
        break;
      case StdioKind::fd: {
        int src = s.fd;
        if (src < 0) throw_errno(EBADF, "subprocess: bad file descriptor for fd " + std::to_string(target));
        if (src != target && src <= 2) {
          // An earlier redirection may overwrite fd `src` in the child: use a private copy.
          const int copy = ::fcntl(src, F_DUPFD_CLOEXEC, 3);
          if (copy < 0) throw_errno(errno, "fcntl(F_DUPFD_CLOEXEC)");
          child_side.emplace_back(copy);
          src = copy;
        }
        fa.dup2(src, target);  // src == target: glibc clears FD_CLOEXEC in the child
        break;
      }
      case StdioKind::devnull:
        fa.open(target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
        break;
      case StdioKind::pipe: {
        auto [r, w] = make_pipe();
        Fd& mine = target == 0 ? w : r;
        Fd& theirs = target == 0 ? r : w;
        fa.dup2(theirs.get(), target);
        parent_end = std::move(mine);
        child_side.push_back(std::move(theirs));
        break;
      }
      case StdioKind::stdout_:
        if (target != 2) throw ValueError("subprocess: STDOUT is only valid for stderr");
        fa.dup2(1, 2);
        break;
    }
  };
  apply(spec.stdin_, 0, child.stdin_);
  apply(spec.stdout_, 1, child.stdout_);
  apply(spec.stderr_, 2, child.stderr_);

  // pass_fds, then close_fds around them.
  std::vector<int> pass;
  for (int fd : spec.pass_fds)
    if (fd > 2) pass.push_back(fd);
  std::sort(pass.begin(), pass.end());
  pass.erase(std::unique(pass.begin(), pass.end()), pass.end());
  for (int fd : pass) fa.dup2(fd, fd);
  if (spec.close_fds) {
    int prev = 2;
    std::optional<std::vector<int>> open_now;
    for (int p : pass) {
      if (p - prev - 1 <= 64) {
        for (int fd = prev + 1; fd < p; ++fd) fa.close(fd);
      } else {
        if (!open_now) open_now = open_fds();
        for (int fd : *open_now)
          if (fd > prev && fd < p) fa.close(fd);
      }
      prev = p;
    }
    fa.closefrom(prev + 1);
  }
  if (spec.cwd) fa.chdir(spec.cwd->c_str());

  Attr attr;
  short flags = POSIX_SPAWN_SETSIGMASK;
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr.a, &empty);
  if (spec.restore_signals) {
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGXFSZ);
    posix_spawnattr_setsigdefault(&attr.a, &def);
    flags |= POSIX_SPAWN_SETSIGDEF;
  }
  if (spec.start_new_session) {
    flags |= POSIX_SPAWN_SETSID;
  } else if (spec.process_group) {
    posix_spawnattr_setpgroup(&attr.a, *spec.process_group);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr.a, flags);

  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, path->c_str(), &fa.fa, &attr.a, argv.data(),
                                spec.env ? envp.data() : environ);
  if (err != 0) {
    // glibc has reaped the failed child already. Was it the cwd or the program?
    if (spec.cwd) {
      struct stat st;
      int cwd_err = 0;
      if (::stat(spec.cwd->c_str(), &st) != 0)
        cwd_err = errno;
      else if (!S_ISDIR(st.st_mode))
        cwd_err = ENOTDIR;
      else if (::access(spec.cwd->c_str(), X_OK) != 0)
        cwd_err = errno;
      if (cwd_err)
        throw_errno(cwd_err, "cannot change directory to " + quoted(*spec.cwd) + " for " + quoted(program));
    }
    throw_errno(err, "cannot execute " + quoted(program));
  }
  child.pid = pid;
  child.pidfd = open_pidfd(pid);
  return child;  // child_side fds close here
}

int returncode_from_status(int wstatus) noexcept {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return -WTERMSIG(wstatus);
  return wstatus;  // not reached for WEXITED waits
}

std::optional<int> try_reap(pid_t pid) {
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return returncode_from_status(status);
    if (r == 0) return std::nullopt;
    if (errno == EINTR) continue;
    if (errno == ECHILD) return 0;  // reaped elsewhere / SIGCHLD ignored: Python reports 0
    throw_errno(errno, "waitpid");
  }
}

bool wait_exited(pid_t pid, int pidfd, std::optional<std::chrono::steady_clock::time_point> deadline) {
  using Clock = std::chrono::steady_clock;
  if (pidfd >= 0) {
    while (true) {
      timespec ts{};
      timespec* tsp = nullptr;
      if (deadline) {
        const auto left = *deadline - Clock::now();
        if (left > left.zero()) {
          const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
          ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
          ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        }
        tsp = &ts;
      }
      pollfd p{pidfd, POLLIN, 0};
      const int r = ::ppoll(&p, 1, tsp, nullptr);
      if (r > 0) return true;
      if (r == 0) return false;
      if (errno != EINTR) throw_errno(errno, "ppoll(pidfd)");
    }
  }
  // No pidfd: waitid(WNOWAIT) leaves the child for try_reap, so concurrent waiters are safe.
  auto sleep_for = std::chrono::microseconds(500);
  while (true) {
    siginfo_t info{};
    const int opts = WEXITED | WNOWAIT | (deadline ? WNOHANG : 0);
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, opts) != 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return true;
      throw_errno(errno, "waitid");
    }
    if (info.si_pid != 0) return true;
    const auto now = Clock::now();
    if (now >= *deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(sleep_for, *deadline - now));
    sleep_for = std::min(sleep_for * 2, std::chrono::microseconds(50'000));
  }
}

bool send_signal(pid_t pid, int pidfd, int sig) {
#ifdef SYS_pidfd_send_signal
  if (pidfd >= 0) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0) return true;
    if (errno == ESRCH) return false;
    if (errno != ENOSYS) throw_errno(errno, "pidfd_send_signal");
  }
#else
  (void)pidfd;
#endif
  if (::kill(pid, sig) == 0) return true;
  if (errno == ESRCH) return false;
  throw_errno(errno, "kill");
}

}  // namespace concur::detail::spawn
