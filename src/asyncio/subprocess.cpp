// asyncio subprocesses: create_subprocess_exec over the subprocess module's spawning layer, child
// exit noticed through a pidfd registered with the loop.
#include "concur/asyncio/subprocess.hpp"

#include <fcntl.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>

#include "concur/detail/asyncio_io_transport.hpp"
#include "concur/detail/spawn.hpp"

namespace concur::asyncio {

namespace detail {

/// The loop-side state of one child: pid, pidfd and the returncode once reaped. A watcher task
/// (holding a reference) reaps the child as soon as the pidfd reports its exit.
struct ProcessState {
  pid_t pid = -1;
  concur::detail::spawn::Fd pidfd;
  std::optional<int> returncode;
  IoEvent exited;
};

namespace {

namespace spawn = concur::detail::spawn;

spawn::Stdio to_spawn(const subprocess::Stdio& s) {
  using K = subprocess::Stdio::Kind;
  switch (s.kind) {
    case K::inherit: return spawn::Stdio::inherit();
    case K::pipe: return spawn::Stdio::pipe();
    case K::devnull: return spawn::Stdio::devnull();
    case K::stdout_: return spawn::Stdio::to_stdout();
    case K::fd: return spawn::Stdio::from_fd(s.fd);
  }
  return spawn::Stdio::inherit();
}

UniqueFd nonblocking(spawn::Fd fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) throw_errno(errno, "fcntl(O_NONBLOCK)");
  return UniqueFd(fd.release());
}

Task<void> watch_child(std::shared_ptr<ProcessState> s) {
  try {
    if (s->pidfd) {
      FdWatch watch(s->pidfd.get());
      for (;;) {
        if (auto rc = spawn::try_reap(s->pid)) {
          s->returncode = *rc;
          break;
        }
        co_await watch.readable();
      }
    } else {
      // Kernel without pidfd_open (< 5.3): poll.
      for (;;) {
        if (auto rc = spawn::try_reap(s->pid)) {
          s->returncode = *rc;
          break;
        }
        co_await sleep(std::chrono::milliseconds(5));
      }
    }
  } catch (...) {
    // Cancelled (the loop is closing): nobody here will wait, so hand the child to the reaper.
    if (!s->returncode) spawn::reap_in_background(s->pid, std::move(s->pidfd));
    s->exited.set();
    co_return;
  }
  s->pidfd.reset();
  s->exited.set();
}

Task<void> feed_stdin(StreamWriter w, std::string input) {
  try {
    if (!input.empty()) {
      w.write(input);
      co_await w.drain();
    }
  } catch (const std::system_error& e) {
    // The child stopped reading (BrokenPipeError / ConnectionResetError): ignored, as Python.
    if (e.code().value() != EPIPE && e.code().value() != ECONNRESET) throw;
  }
  w.close();
}

Task<std::string> read_all(StreamReader r) {
  if (!r) co_return std::string();
  co_return co_await r.read();
}

}  // namespace
}  // namespace detail

namespace subprocess {

Process::~Process() = default;

pid_t Process::pid() const noexcept { return s_ ? s_->pid : -1; }
std::optional<int> Process::returncode() const noexcept { return s_ ? s_->returncode : std::nullopt; }

Task<int> Process::wait() {
  auto s = s_;
  if (!s) throw InvalidStateError("wait() on an empty Process");
  if (!s->returncode) co_await s->exited.wait();
  co_return s->returncode.value_or(0);
}

Task<std::pair<std::string, std::string>> Process::communicate(std::optional<std::string> input) {
  auto s = s_;
  if (!s) throw InvalidStateError("communicate() on an empty Process");
  Task<void> feeder;
  if (stdin_) {
    feeder = create_task(detail::feed_stdin(stdin_, input.value_or(std::string())));
  }
  Task<std::string> err_reader;
  if (stderr_) err_reader = create_task(detail::read_all(stderr_));
  std::string out = co_await detail::read_all(stdout_);
  std::string err;
  if (err_reader.valid()) err = co_await err_reader;
  if (feeder.valid()) co_await feeder;
  co_await wait();
  co_return std::pair<std::string, std::string>(std::move(out), std::move(err));
}

void Process::send_signal(int sig) {
  if (!s_ || s_->returncode) return;
  detail::spawn::send_signal(s_->pid, s_->pidfd.get(), sig);
}
void Process::terminate() { send_signal(SIGTERM); }
void Process::kill() { send_signal(SIGKILL); }

}  // namespace subprocess

namespace {
Task<subprocess::Process> ready_process(std::shared_ptr<detail::ProcessState> state, StreamWriter in, StreamReader out,
                                        StreamReader err) {
  subprocess::Process p(std::move(state));
  p.stdin_ = std::move(in);
  p.stdout_ = std::move(out);
  p.stderr_ = std::move(err);
  co_return p;
}
}  // namespace

// Not a coroutine itself: spawning never suspends, and keeping the options out of a coroutine
// frame sidesteps g++ 12's mishandling of by-value aggregate parameters of coroutines.
Task<subprocess::Process> create_subprocess_exec(std::string program, std::vector<std::string> args,
                                                 CreateSubprocessOptions options) {
  namespace spawn = concur::detail::spawn;
  spawn::Spec spec;
  spec.argv.reserve(args.size() + 1);
  spec.argv.push_back(std::move(program));
  for (auto& a : args) spec.argv.push_back(std::move(a));
  if (options.env) {
    std::vector<std::string> env;
    env.reserve(options.env->size());
    for (const auto& [k, v] : *options.env) env.push_back(k + "=" + v);
    spec.env = std::move(env);
  }
  spec.cwd = options.cwd;
  spec.stdin_ = detail::to_spawn(options.stdin_);
  spec.stdout_ = detail::to_spawn(options.stdout_);
  if (options.stderr_.kind == subprocess::Stdio::Kind::stdout_ &&
      options.stdout_.kind == subprocess::Stdio::Kind::inherit) {
    spec.stderr_ = spawn::Stdio::to_stdout();
  } else {
    spec.stderr_ = detail::to_spawn(options.stderr_);
  }
  spec.close_fds = options.close_fds;
  spec.pass_fds = options.pass_fds;
  spec.start_new_session = options.start_new_session;

  spawn::Child child = spawn::start(spec);
  auto state = std::make_shared<detail::ProcessState>();
  state->pid = child.pid;
  state->pidfd = std::move(child.pidfd);
  StreamWriter in;
  StreamReader out, err;
  try {
    if (child.stdin_) in = detail::StreamTransport::make_writer(detail::nonblocking(std::move(child.stdin_)));
    if (child.stdout_)
      out = detail::StreamTransport::make_reader(detail::nonblocking(std::move(child.stdout_)), options.limit);
    if (child.stderr_)
      err = detail::StreamTransport::make_reader(detail::nonblocking(std::move(child.stderr_)), options.limit);
  } catch (...) {
    spawn::reap_in_background(state->pid, std::move(state->pidfd));
    throw;
  }
  (void)create_task(detail::watch_child(state));
  return ready_process(std::move(state), std::move(in), std::move(out), std::move(err));
}

}  // namespace concur::asyncio
