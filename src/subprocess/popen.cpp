#include "concur/subprocess/popen.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>

#include "concur/detail/spawn.hpp"
#include "io.hpp"

namespace concur::subprocess {

namespace sp = concur::detail::spawn;
using Clock = std::chrono::steady_clock;

struct Popen::Impl {
  std::vector<std::string> args;
  pid_t pid = -1;
  sp::Fd pidfd;
  bool text = false;

  mutable std::mutex mu;  // guards rc and every reap / signal
  std::optional<int> rc;

  // communicate() state, kept across a TimeoutExpired so a second call resumes.
  bool comm_started = false;
  bool want_out = false;
  bool want_err = false;
  std::string input;
  std::size_t input_off = 0;
  std::string out;
  std::string err;

  std::optional<int> poll() {
    std::lock_guard lock(mu);
    if (!rc) rc = sp::try_reap(pid);
    return rc;
  }

  // Waits until the child is reaped or the deadline passes (nullopt then).
  std::optional<int> wait_until(std::optional<Clock::time_point> deadline) {
    while (true) {
      {
        std::lock_guard lock(mu);
        if (rc) return rc;
      }
      if (!sp::wait_exited(pid, pidfd.get(), deadline)) return std::nullopt;
      if (auto r = poll()) return r;
    }
  }
};

namespace {

sp::Stdio to_stdio(const Redirect& r, int target, std::vector<sp::Fd>& opened) {
  switch (r.kind()) {
    case Redirect::Kind::inherit:
      return sp::Stdio::inherit();
    case Redirect::Kind::pipe:
      return sp::Stdio::pipe();
    case Redirect::Kind::devnull:
      return sp::Stdio::devnull();
    case Redirect::Kind::stdout_:
      if (target != 2) throw ValueError("subprocess: STDOUT is only valid for stderr_");
      return sp::Stdio::to_stdout();
    case Redirect::Kind::fd:
      if (r.fd() < 0) throw ValueError("subprocess: redirecting to a closed stream / negative fd");
      return sp::Stdio::from_fd(r.fd());
    case Redirect::Kind::path: {
      const int flags = target == 0 ? O_RDONLY : (O_WRONLY | O_CREAT | O_TRUNC);
      const int fd = ::open(r.path().c_str(), flags | O_CLOEXEC, 0666);
      if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open '" + r.path().string() + "'");
      opened.emplace_back(fd);
      return sp::Stdio::from_fd(fd);
    }
  }
  return sp::Stdio::inherit();
}

// Makes room for `extra` more bytes, doubling. Big buffers are marked for transparent huge pages
// BEFORE their first touch: on VMs a first-touch page fault costs tens of microseconds, so
// 4 KiB faults otherwise dominate collecting a large output (measured: 256 MiB fresh memset
// 2.2 s with 4 KiB pages, 0.66 s with huge pages, on the project's VM). The copy into the new
// buffer is therefore done by hand after the hint, not by reserve().
void grow_for(std::string& s, std::size_t extra) {
  if (s.capacity() - s.size() >= extra) return;
  const std::size_t want = std::max({s.capacity() * 2, s.size() + extra, std::size_t{1} << 20});
  std::string bigger;
  bigger.reserve(want);  // allocates without touching the pages
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (bigger.capacity() >= 2 * kHuge) {
    const auto begin = reinterpret_cast<std::uintptr_t>(bigger.data());
    const std::uintptr_t lo = (begin + kHuge - 1) & ~(kHuge - 1);
    const std::uintptr_t hi = (begin + bigger.capacity()) & ~(kHuge - 1);
    if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // a hint only
  }
  bigger.append(s);
  s.swap(bigger);
}

// Reads what `fd` has; returns false at EOF. Throws on errors other than EAGAIN/EINTR.
bool read_some(int fd, std::string& into) {
  // One buffer per thread, reused: a fresh 256 KiB allocation per call would pay its first-touch
  // page faults on every run(capture_output=true).
  thread_local std::vector<char> buf(256 * 1024);
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  if (n > 0) {
    grow_for(into, static_cast<std::size_t>(n));
    into.append(buf.data(), static_cast<std::size_t>(n));
    return true;
  }
  if (n == 0) return false;
  if (errno == EAGAIN || errno == EINTR) return true;
  throw std::system_error(errno, std::generic_category(), "read from child");
}

}  // namespace

Popen::Popen(std::vector<std::string> args, PopenOptions options) : impl_(std::make_unique<Impl>()) {
  sp::Spec spec;
  spec.argv = args;
  if (options.env) {
    std::vector<std::string> env;
    env.reserve(options.env->size());
    for (const auto& [k, v] : *options.env) env.push_back(k + "=" + v);
    spec.env = std::move(env);
  }
  if (options.cwd) spec.cwd = options.cwd->string();
  std::vector<sp::Fd> opened;  // files opened from paths, closed once the child has them
  spec.stdin_ = to_stdio(options.stdin_, 0, opened);
  spec.stdout_ = to_stdio(options.stdout_, 1, opened);
  spec.stderr_ = to_stdio(options.stderr_, 2, opened);
  spec.close_fds = options.close_fds;
  spec.pass_fds = options.pass_fds;
  spec.start_new_session = options.start_new_session;
  spec.process_group = options.process_group;

  sp::Child child = sp::start(spec);
  stdin_ = Stream(child.stdin_.release());
  stdout_ = Stream(child.stdout_.release());
  stderr_ = Stream(child.stderr_.release());
  impl_->args = std::move(args);
  impl_->pid = child.pid;
  impl_->pidfd = std::move(child.pidfd);
  impl_->text = options.text;
}

Popen::Popen(Popen&& o) noexcept = default;

Popen& Popen::operator=(Popen&& o) noexcept {
  if (this != &o) {
    Popen dying(std::move(*this));  // its destructor lets the old child go (see ~Popen)
    stdin_ = std::move(o.stdin_);
    stdout_ = std::move(o.stdout_);
    stderr_ = std::move(o.stderr_);
    impl_ = std::move(o.impl_);
  }
  return *this;
}

Popen::~Popen() {
  stdin_.close();
  stdout_.close();
  stderr_.close();
  if (!impl_) return;
  std::lock_guard lock(impl_->mu);
  if (impl_->rc) return;
  try {
    if (sp::try_reap(impl_->pid)) return;
    sp::reap_in_background(impl_->pid, std::move(impl_->pidfd));
  } catch (...) {
    // Out of memory or threads: nothing better to do than leave the child to init at our exit.
  }
}

const std::vector<std::string>& Popen::args() const noexcept { return impl_->args; }

pid_t Popen::pid() const noexcept { return impl_->pid; }

std::optional<int> Popen::returncode() const {
  std::lock_guard lock(impl_->mu);
  return impl_->rc;
}

std::optional<int> Popen::poll() { return impl_->poll(); }

int Popen::wait(Timeout timeout) {
  if (auto rc = impl_->wait_until(deadline_from(timeout))) return *rc;
  throw TimeoutExpired(impl_->args, *timeout);
}

void Popen::send_signal(int sig) {
  std::lock_guard lock(impl_->mu);  // no reap can happen meanwhile: the pid is still ours
  if (impl_->rc) return;
  sp::send_signal(impl_->pid, impl_->pidfd.get(), sig);
}

void Popen::terminate() { send_signal(SIGTERM); }

void Popen::kill() { send_signal(SIGKILL); }

CommunicateResult Popen::communicate(std::optional<std::string> input, Timeout timeout) {
  Impl& s = *impl_;
  if (!s.comm_started) {
    s.comm_started = true;
    s.want_out = !stdout_.closed();
    s.want_err = !stderr_.closed();
    if (input && !stdin_.closed()) s.input = std::move(*input);
    if (!stdin_.closed() && s.input.empty()) stdin_.close();
    s.out = stdout_.take_buffered();
    s.err = stderr_.take_buffered();
    // A filter (cat, openssl, gzip -d, ...) usually answers about as much as it is fed: reserving
    // that much up front saves the doubling copies. reserve() does not touch the pages, so an
    // over-estimate costs address space only.
    if (s.want_out && s.input.size() >= (std::size_t{1} << 20)) grow_for(s.out, s.input.size());
  } else if (input && !input->empty()) {
    throw ValueError("Cannot send input after starting communication");
  }
  const auto deadline = deadline_from(timeout);
  auto timed_out = [&] {
    return TimeoutExpired(s.args, *timeout, s.want_out ? std::optional<std::string>(s.out) : std::nullopt,
                          s.want_err ? std::optional<std::string>(s.err) : std::nullopt);
  };

  if (!stdin_.closed() || !stdout_.closed() || !stderr_.closed()) {
    detail::SigpipeGuard guard;
    if (!stdin_.closed()) detail::set_nonblocking(stdin_.fileno(), true);
    // Bigger pipes (1 MiB, the default /proc/sys/fs/pipe-max-size) mean 16x fewer wake-ups per
    // byte; the kernel allocates their pages only as data arrives. Failure (limits) is harmless.
    for (Stream* st : {&stdin_, &stdout_, &stderr_})
      if (!st->closed()) ::fcntl(st->fileno(), F_SETPIPE_SZ, 1 << 20);
    while (!stdin_.closed() || !stdout_.closed() || !stderr_.closed()) {
      pollfd fds[3];
      Stream* owners[3];
      nfds_t n = 0;
      if (!stdin_.closed()) {
        fds[n] = {stdin_.fileno(), POLLOUT, 0};
        owners[n++] = &stdin_;
      }
      if (!stdout_.closed()) {
        fds[n] = {stdout_.fileno(), POLLIN, 0};
        owners[n++] = &stdout_;
      }
      if (!stderr_.closed()) {
        fds[n] = {stderr_.fileno(), POLLIN, 0};
        owners[n++] = &stderr_;
      }
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
      const int r = ::ppoll(fds, n, tsp, nullptr);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "poll");
      }
      if (r == 0) throw timed_out();
      for (nfds_t i = 0; i < n; ++i) {
        if (!fds[i].revents) continue;
        if (owners[i] == &stdin_) {
          const std::size_t left = s.input.size() - s.input_off;
          const std::size_t chunk = left < (1u << 20) ? left : (1u << 20);
          const ssize_t w = ::write(stdin_.fileno(), s.input.data() + s.input_off, chunk);
          if (w > 0) {
            s.input_off += static_cast<std::size_t>(w);
            if (s.input_off == s.input.size()) stdin_.close();
          } else if (w < 0 && errno == EPIPE) {
            stdin_.close();  // the child stopped reading: not an error (Python ignores it too)
          } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "write to child");
          }
          if (stdin_.closed()) {
            s.input.clear();
            s.input.shrink_to_fit();
          }
        } else {
          std::string& into = owners[i] == &stdout_ ? s.out : s.err;
          if (!read_some(owners[i]->fileno(), into)) owners[i]->close();
        }
      }
    }
  }

  if (!s.wait_until(deadline)) throw timed_out();
  CommunicateResult result;
  if (s.want_out) result.stdout_ = s.text ? detail::translate_newlines(std::move(s.out)) : std::move(s.out);
  if (s.want_err) result.stderr_ = s.text ? detail::translate_newlines(std::move(s.err)) : std::move(s.err);
  s.out.clear();
  s.err.clear();
  return result;
}

}  // namespace concur::subprocess
