#include "concur/subprocess/run.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ostream>

#include "io.hpp"

namespace concur::subprocess {
namespace {

// After the child was killed: take what already sits in a pipe without waiting for EOF (a
// grandchild may hold the write end forever), bounded in case it keeps writing.
void drain_available(Stream& s, std::optional<std::string>& into) {
  if (s.closed()) return;
  try {
    detail::set_nonblocking(s.fileno(), true);
    std::string got = s.take_buffered();
    char buf[64 * 1024];
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::read(s.fileno(), buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;  // EOF, EAGAIN or an error: stop
    }
    if (into) *into += got;
  } catch (...) {
  }
  s.close();
}

}  // namespace

void CompletedProcess::check_returncode() const {
  if (returncode != 0) throw CalledProcessError(returncode, args, stdout_, stderr_);
}

std::ostream& operator<<(std::ostream& os, const CompletedProcess& p) {
  os << "CompletedProcess(args=" << detail::py_repr(p.args) << ", returncode=" << p.returncode;
  if (p.stdout_) os << ", stdout=" << detail::py_repr(*p.stdout_);
  if (p.stderr_) os << ", stderr=" << detail::py_repr(*p.stderr_);
  return os << ')';
}

CompletedProcess run(std::vector<std::string> args, RunOptions options) {
  if (options.input && !options.stdin_.is_inherit())
    throw ValueError("stdin and input arguments may not both be used.");
  if (options.capture_output) {
    if (!options.stdout_.is_inherit() || !options.stderr_.is_inherit())
      throw ValueError("stdout and stderr arguments may not be used with capture_output.");
    options.stdout_ = PIPE;
    options.stderr_ = PIPE;
  }
  PopenOptions po{
      .stdin_ = options.input ? Redirect(PIPE) : std::move(options.stdin_),
      .stdout_ = std::move(options.stdout_),
      .stderr_ = std::move(options.stderr_),
      .close_fds = options.close_fds,
      .cwd = std::move(options.cwd),
      .env = std::move(options.env),
      .start_new_session = options.start_new_session,
      .pass_fds = std::move(options.pass_fds),
      .text = options.text,
      .process_group = options.process_group,
  };
  Popen p(args, std::move(po));
  CommunicateResult r;
  try {
    r = p.communicate(std::move(options.input), options.timeout);
  } catch (TimeoutExpired& e) {
    // Python's run(): kill, reap, re-raise with the output. Unlike CPython on POSIX we do not
    // then wait for EOF on the pipes, so a grandchild holding them cannot make this hang.
    if (options.start_new_session && !p.returncode()) ::killpg(p.pid(), SIGKILL);
    p.kill();
    p.wait();
    drain_available(p.stdout_, e.output);
    drain_available(p.stderr_, e.stderr_);
    p.stdin_.close();
    throw;
  } catch (...) {
    p.kill();
    p.wait();
    throw;
  }
  const int rc = *p.returncode();
  if (options.check && rc != 0) throw CalledProcessError(rc, std::move(args), std::move(r.stdout_), std::move(r.stderr_));
  return CompletedProcess{std::move(args), rc, std::move(r.stdout_), std::move(r.stderr_)};
}

int call(std::vector<std::string> args, RunOptions options) {
  options.check = false;
  return run(std::move(args), std::move(options)).returncode;
}

void check_call(std::vector<std::string> args, RunOptions options) {
  options.check = true;
  run(std::move(args), std::move(options));
}

std::string check_output(std::vector<std::string> args, RunOptions options) {
  if (!options.stdout_.is_inherit() || options.capture_output)
    throw ValueError("stdout argument not allowed, it will be overridden.");
  options.stdout_ = PIPE;
  options.check = true;
  return std::move(*run(std::move(args), std::move(options)).stdout_);
}

}  // namespace concur::subprocess
