#include "concur/subprocess/popen.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
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
  // The input, written from input_off on. Once the writing is over (all written, or EPIPE),
  // input_off is set to input.size().
  std::string input;
  std::size_t input_off = 0;
  // stdout collected so far is input[0, out_len) followed by `out` (see read_stdout()).
  bool reuse_input = false;
  std::size_t out_len = 0;
  std::string out;
  std::string err;

  // stdout read so far, as one string (a copy: for TimeoutExpired).
  std::string stdout_so_far() const {
    if (out_len == 0) return out;
    std::string r;
    r.reserve(out_len + out.size());
    r.append(input.data(), out_len).append(out);
    return r;
  }

  // Hands over all of stdout and resets the collecting state.
  std::string take_stdout();

  // One read of stdout: the byte count, 0 at EOF, -1 for nothing now. See place_stdout() for
  // where the bytes go.
  ssize_t read_stdout(int fd);
  void place_stdout(const char* p, std::size_t n);

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
  const std::size_t want = std::max(s.capacity() * 2, s.size() + extra);
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

// Size of each per-thread staging buffer (below).
constexpr std::size_t kStage = std::size_t{256} << 10;

// communicate() moves every byte through a pipe via one of two small per-thread staging buffers:
// user-space memcpy between the caller's memory and the staging buffer, and read(2)/write(2)
// between the staging buffer and the pipe. The kernel thus only ever copies to and from the same
// 512 KiB, never to or from the caller's big buffers directly. That costs one extra user-space
// copy (cheap: ~10 GB/s here) and avoids a cost that dominated large transfers on the project's
// VM, where the first access BY THE KERNEL to each 4 KiB page of user memory costs ~3 us even when
// the page is already mapped (measured: write(2) of 256 MiB from a freshly filled buffer into a
// pipe 0.20 s, the same buffer a second time 0.03 s, a huge-page-backed one 0.04 s; the pipeline
// through cat went from 0.9 to ~2 GB/s). Allocated on the first communicate() of a thread; the
// pages are touched only as far as used.
struct Staging {
  std::unique_ptr<char[]> to_child{new char[kStage]};
  std::unique_ptr<char[]> from_child{new char[kStage]};
};

Staging& staging() {
  thread_local Staging s;
  return s;
}

// read(2) of up to `len` bytes: the count, 0 at EOF, -1 when there is nothing now (EAGAIN,
// EINTR). Throws std::system_error on other errors.
ssize_t read_chunk(int fd, char* buf, std::size_t len) {
  const ssize_t n = ::read(fd, buf, len);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EINTR) return -1;
  throw std::system_error(errno, std::generic_category(), "read from child");
}

// One read of what `fd` has (it is readable: poll said so; the fd stays blocking), appended to
// `into`: the byte count, 0 at EOF, -1 for nothing now.
ssize_t read_some(int fd, std::string& into) {
  char* const buf = staging().from_child.get();
  const ssize_t n = read_chunk(fd, buf, kStage);
  if (n > 0) {
    grow_for(into, static_cast<std::size_t>(n));
    into.append(buf, static_cast<std::size_t>(n));
  }
  return n;
}

// Pipes of a large transfer are enlarged to 1 MiB (the default /proc/sys/fs/pipe-max-size):
// 16x fewer wake-ups per byte than the default 64 KiB; the kernel allocates the pages only as
// data arrives. Only large transfers: the kernel charges a pipe's full size to the user's
// pipe-user-pages-soft budget (64 MiB by default), and once that is used up, every pipe the user
// creates anywhere is cut to 8 KiB — so small communicate() calls keep the default. Failure
// (limits) is harmless.
constexpr std::size_t kLargeTransfer = std::size_t{64} << 10;
void enlarge_pipe(int fd) noexcept { ::fcntl(fd, F_SETPIPE_SZ, 1 << 20); }

}  // namespace

// Where communicate() puts stdout. The input string is ours (taken by value) and every byte of it
// that has been written to the pipe is dead, so its storage — already allocated and faulted in by
// the caller — receives stdout while that stays behind input_off. A filter (cat, gzip, openssl
// enc, sort ...) therefore needs no new memory for its answer: on the project's VM a first-touch
// page fault costs ~17 us per 4 KiB page (256 MiB of fresh output: over 1 s). Output that runs
// ahead of the written input (a child that answers before or beyond what it was fed) goes to
// `out` instead, and is moved back into the input's storage as soon as there is room, so the
// result is always input[0, out_len) + out, in order.
void Popen::Impl::place_stdout(const char* p, std::size_t n) {
  if (reuse_input) {
    if (!out.empty() && input_off - out_len >= out.size() + n) {
      std::memcpy(input.data() + out_len, out.data(), out.size());
      out_len += out.size();
      out.clear();
    }
    if (out.empty() && input_off - out_len >= n) {
      std::memcpy(input.data() + out_len, p, n);
      out_len += n;
      return;
    }
  }
  grow_for(out, n);
  out.append(p, n);
}

ssize_t Popen::Impl::read_stdout(int fd) {
  char* const buf = staging().from_child.get();
  const ssize_t n = read_chunk(fd, buf, kStage);
  if (n > 0) place_stdout(buf, static_cast<std::size_t>(n));
  return n;
}

std::string Popen::Impl::take_stdout() {
  std::string r;
  if (out_len == 0) {
    r = std::move(out);
  } else {
    r = std::move(input);
    r.resize(out_len);  // shrinks: no fill, no reallocation
    if (!out.empty()) {
      grow_for(r, out.size());
      r.append(out);
    }
    // A short answer to a long input must not keep the input's whole allocation alive.
    if (r.size() < r.capacity() / 2) r.shrink_to_fit();
  }
  input.clear();
  input.shrink_to_fit();
  input_off = 0;
  out_len = 0;
  out.clear();
  return r;
}

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
    s.out = stdout_.take_buffered();  // read through stdout_ before: comes first (moved back later)
    s.err = stderr_.take_buffered();
    s.reuse_input = s.want_out && s.input.size() >= kStage;
  } else if (input && !input->empty()) {
    throw ValueError("Cannot send input after starting communication");
  }
  const auto deadline = deadline_from(timeout);
  auto timed_out = [&] {
    return TimeoutExpired(s.args, *timeout, s.want_out ? std::optional<std::string>(s.stdout_so_far()) : std::nullopt,
                          s.want_err ? std::optional<std::string>(s.err) : std::nullopt);
  };

  if (!stdin_.closed() || !stdout_.closed() || !stderr_.closed()) {
    detail::SigpipeGuard guard;
    if (!stdin_.closed()) detail::set_nonblocking(stdin_.fileno(), true);
    // stdin's pipe is enlarged up front for a large input, stdout's and stderr's once a read
    // returns a full default pipe's worth (see enlarge_pipe).
    if (!stdin_.closed() && s.input.size() - s.input_off >= kLargeTransfer) enlarge_pipe(stdin_.fileno());
    bool enlarged_out = false;
    bool enlarged_err = false;
    // Input bytes on their way to the pipe: staged[staged_pos, staged_end) holds
    // input[input_off, input_off + staged_end - staged_pos). Not kept across calls (another
    // communicate() may use this thread's buffer meanwhile): input_off counts written bytes only.
    char* const staged = staging().to_child.get();
    std::size_t staged_pos = 0;
    std::size_t staged_end = 0;
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
          // Fill the pipe: stage, write, until it takes less than offered (full) or all is sent.
          for (int k = 0; k < 16 && !stdin_.closed(); ++k) {
            if (staged_pos == staged_end) {
              staged_end = std::min(s.input.size() - s.input_off, kStage);
              std::memcpy(staged, s.input.data() + s.input_off, staged_end);
              staged_pos = 0;
            }
            const ssize_t w = ::write(stdin_.fileno(), staged + staged_pos, staged_end - staged_pos);
            if (w > 0) {
              staged_pos += static_cast<std::size_t>(w);
              s.input_off += static_cast<std::size_t>(w);
              if (s.input_off == s.input.size()) stdin_.close();
              if (staged_pos < staged_end) break;
            } else if (w < 0 && errno == EPIPE) {
              stdin_.close();  // the child stopped reading: not an error (Python ignores it too)
              s.input_off = s.input.size();  // the rest will never be sent: free for stdout
            } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
              break;
            } else {
              throw std::system_error(errno, std::generic_category(), "write to child");
            }
          }
          if (stdin_.closed() && !s.reuse_input) {
            s.input.clear();
            s.input.shrink_to_fit();
          }
        } else if (owners[i] == &stdout_) {
          const ssize_t got = s.read_stdout(stdout_.fileno());
          if (got == 0) {
            stdout_.close();
          } else if (!enlarged_out && got >= static_cast<ssize_t>(kLargeTransfer)) {
            enlarge_pipe(stdout_.fileno());
            enlarged_out = true;
          }
        } else {
          const ssize_t got = read_some(stderr_.fileno(), s.err);
          if (got == 0) {
            stderr_.close();
          } else if (!enlarged_err && got >= static_cast<ssize_t>(kLargeTransfer)) {
            enlarge_pipe(stderr_.fileno());
            enlarged_err = true;
          }
        }
      }
    }
  }

  if (!s.wait_until(deadline)) throw timed_out();
  CommunicateResult result;
  if (s.want_out) result.stdout_ = s.text ? detail::translate_newlines(s.take_stdout()) : s.take_stdout();
  if (s.want_err) result.stderr_ = s.text ? detail::translate_newlines(std::move(s.err)) : std::move(s.err);
  s.out.clear();
  s.err.clear();
  return result;
}

}  // namespace concur::subprocess
