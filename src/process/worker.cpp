// The worker side of ProcessPoolExecutor: process_worker_main().
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "concur/detail/process_worker.hpp"
#include "concur/futures/process_pool.hpp"
#include "concur/process/frame.hpp"
#include "concur/process/protocol.hpp"

namespace concur::futures {
namespace {

namespace pw = concur::detail::process_worker;
using namespace concur::process;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "concur process worker %d: %s\n", static_cast<int>(getpid()), what);
  std::fflush(stderr);
  std::_Exit(2);
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The pool is gone (EPIPE): nothing to report to; leave quietly.
      std::fflush(stdout);
      std::_Exit(0);
    }
    off += static_cast<std::size_t>(n);
  }
}

// How long an idle worker keeps checking its channel after sending a result before it blocks.
// A caller that submits one call at a time sends the next one a few microseconds after the
// result reaches it; a worker that has gone to sleep by then costs a wake-up of an idle vCPU,
// which on a virtual machine is the largest part of the round trip (~45 -> ~25 us measured on
// the 2-vCPU bench VM). Bounded, and spent only once per idle period (after a result), so a
// worker never burns more than this per call it ran.
constexpr auto kIdleSpin = std::chrono::microseconds(15);

// Non-blocking reads for up to kIdleSpin; returns what recv() returned last (-1 with
// errno == EAGAIN when nothing came, and the caller then blocks in read()).
ssize_t poll_briefly(int fd, std::string& buf) {
  const auto until = std::chrono::steady_clock::now() + kIdleSpin;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return n;
    if (std::chrono::steady_clock::now() >= until) return -1;
    for (int i = 0; i < 16; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }
}

[[noreturn]] void leave(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::exit(status);
}

}  // namespace

void process_worker_main(int argc, char** argv) {
  if (argc < 2 || argv[1] == nullptr || std::strcmp(argv[1], pw::kArgvMarker) != 0) return;
  ::unsetenv(pw::kEnvMarker);  // a task may itself build a pool: it is a parent then

  std::size_t max_tasks = 0;
  std::size_t memory_limit = 0;
  long cpu_limit = 0;
  std::string initializer;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view key) -> std::optional<std::string_view> {
      if (a.size() > key.size() && a.substr(0, key.size()) == key) return a.substr(key.size());
      return std::nullopt;
    };
    if (auto v = value("max_tasks=")) max_tasks = std::strtoull(std::string(*v).c_str(), nullptr, 10);
    else if (auto v2 = value("memory_limit=")) memory_limit = std::strtoull(std::string(*v2).c_str(), nullptr, 10);
    else if (auto v3 = value("cpu_limit=")) cpu_limit = std::strtol(std::string(*v3).c_str(), nullptr, 10);
    else if (auto v4 = value("initializer=")) initializer = *v4;
  }
  const int fd = pw::kChannelFd;
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) die("no channel on fd 3 (not started by a ProcessPoolExecutor?)");

  if (memory_limit) {
    rlimit r{memory_limit, memory_limit};
    if (::setrlimit(RLIMIT_AS, &r) != 0) die("setrlimit(RLIMIT_AS) failed");
  }
  if (cpu_limit > 0) {
    rlimit r{static_cast<rlim_t>(cpu_limit), static_cast<rlim_t>(cpu_limit) + 1};
    if (::setrlimit(RLIMIT_CPU, &r) != 0) die("setrlimit(RLIMIT_CPU) failed");
  }

  std::string out;
  if (!initializer.empty()) {
    try {
      const TaskEntry* t = find_task(initializer);
      if (!t) throw RemoteError("concur::process", "initializer '" + initializer + "' is not registered in the worker");
      std::string ignored;
      t->invoke(t->fn, {}, ignored);
    } catch (...) {
      const auto at = begin_frame(out, FrameKind::init_failed, 0);
      PayloadWriter w(out);
      write_exception(w, describe_current_exception());
      finish_frame(out, at);
      write_all(fd, out);
      leave(1);
    }
  }
  {
    const auto at = begin_frame(out, FrameKind::hello, 0);
    PayloadWriter w(out);
    w.u32(static_cast<std::uint32_t>(getpid()));
    w.u32(kFrameVersion);
    finish_frame(out, at);
    write_all(fd, out);
    out.clear();
  }

  FrameDecoder dec;
  std::size_t done = 0;
  std::string buf(1 << 16, '\0');
  bool just_worked = false;  // a result was just sent: the next call often follows at once
  for (;;) {
    ssize_t n = just_worked ? poll_briefly(fd, buf) : -1;
    just_worked = false;
    if (n < 0) n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read from the pool failed");
    }
    if (n == 0) {
      if (dec.buffered() != 0) die("the pool closed the channel in the middle of a frame");
      leave(0);  // the pool let us go
    }
    dec.feed(buf.data(), static_cast<std::size_t>(n));
    try {
      while (auto f = dec.next()) {
        if (f->kind == FrameKind::shutdown) leave(0);
        if (f->kind != FrameKind::call) throw ProtocolError("unexpected frame kind from the pool");
        try {
          execute_call_frame(*f, out, memory_limit != 0);
        } catch (const std::bad_alloc&) {
          out.clear();
          const auto at = begin_frame(out, FrameKind::fatal, f->id);
          PayloadWriter w(out);
          w.str("worker exceeded its memory limit (RLIMIT_AS = " + std::to_string(memory_limit) + " bytes)");
          finish_frame(out, at);
          write_all(fd, out);
          leave(pw::kMemoryLimitStatus);
        }
        write_all(fd, out);
        out.clear();
        just_worked = true;
        if (max_tasks && ++done >= max_tasks) leave(0);  // recycled: the pool sends no more
      }
    } catch (const ProtocolError& e) {
      die(e.what());
    }
  }
}

}  // namespace concur::futures
