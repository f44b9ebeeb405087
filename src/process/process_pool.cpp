// ProcessPoolExecutor's compiled core: spawning and reaping workers, the manager thread that
// moves frames, crash attribution.
//
// Design: one manager thread runs the workers (spawns them, polls their sockets, pidfds and an
// eventfd that submit()/shutdown() poke, reads results, reaps). All pool state, workers included,
// is guarded by `mu_`; the manager holds it except while it polls and while it completes futures
// (done callbacks may call submit()). A submit() that finds the queue empty and a worker idle
// sends the call to that worker itself, saving the manager's wake-up on the round trip; the
// manager completes futures as soon as it has read their results (after handing the workers
// their next calls), before its bookkeeping. A worker is sent at most kDepth calls; it
// runs them in order, so when its socket reaches EOF the oldest call it was sent is the one that
// was running: that call fails with BrokenProcessPool (naming the wait status) and the others are
// queued again. Workers are reaped with waitpid on their own pid (never -1), so nothing else in the
// program loses its children's statuses.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "concur/detail/process_worker.hpp"
#include "concur/futures/process_pool.hpp"
#include "concur/process/frame.hpp"
#include "concur/process/protocol.hpp"

extern char** environ;

namespace concur::futures {
namespace detail {

namespace pw = concur::detail::process_worker;
using namespace concur::process;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kDepth = 2;  // calls in flight per worker: one running, one ready
constexpr auto kExitGrace = std::chrono::seconds(3);  // channel closed -> SIGKILL if still alive

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    std::string s = "killed by signal " + std::to_string(sig) + " (SIG" + (abbrev ? abbrev : "?") + ": " +
                    strsignal(sig) + ")";
    if (sig == SIGKILL) s += "; the OOM killer or a resource limit may have sent it";
    if (sig == SIGXCPU) s += "; the cpu_time_limit was reached";
    return s;
  }
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code == pw::kForgotMainStatus) return "exit status " + std::to_string(code) + " (main() forgot process_worker_main)";
    return "exit status " + std::to_string(code);
  }
  return "wait status " + std::to_string(status);
}

std::exception_ptr broken(const std::string& msg) { return std::make_exception_ptr(BrokenProcessPool(msg)); }

}  // namespace

struct WorkItem {
  std::uint64_t id = 0;
  std::string frame;       // the complete Call frame
  ProcessSinks sinks;      // one per call in the frame
  std::vector<char> live;  // live[i]: sinks[i] was set running (not cancelled)
  bool started = false;    // set_running() already called for every sink
};

// A future completion decided under the lock and performed after releasing it.
struct Done {
  enum Kind { result, broken, cancelled } kind = result;
  WorkItem item;
  std::string payload;  // kind == result: the Result frame's payload
  std::string message;  // kind == broken
};

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  bool ready = false;        // said hello
  bool retiring = false;     // reached max_tasks_per_child or being let go: no more calls
  Clock::time_point spawned_at;
  FrameDecoder decoder;
  std::string out;           // bytes not yet written
  std::size_t out_pos = 0;
  std::deque<WorkItem> sent;  // in the order sent; front() is the running one
  std::size_t calls_sent = 0;
  std::string fatal;          // a Fatal frame's message, reported with the exit status
  std::string kill_reason;    // why the pool killed it
  int pidfd = -1;             // readable once the process has exited (-1: kernel without pidfd)
  bool gone = false;          // channel closed; waiting to reap the process
  std::string gone_extra;     // what was wrong with the channel, for the message
  Clock::time_point gone_at;
};

class ProcessPoolCore {
 public:
  explicit ProcessPoolCore(ProcessPoolOptions o) : opts_(std::move(o)) {
    if (std::getenv(pw::kEnvMarker) != nullptr) {
      std::fprintf(stderr,
                   "concur: this process was spawned as a ProcessPoolExecutor worker, but main() did not call "
                   "concur::futures::process_worker_main(argc, argv) first. Add that call as the first line "
                   "of main().\n");
      std::fflush(stderr);
      std::_Exit(pw::kForgotMainStatus);
    }
    if (opts_.mp_context && *opts_.mp_context != "spawn") {
      throw ValueError("ProcessPoolExecutor: mp_context must be \"spawn\" (fork is unsafe in a threaded C++ program)");
    }
    max_workers_ = opts_.max_workers.value_or(std::max(1u, std::thread::hardware_concurrency()));
    if (max_workers_ == 0) throw ValueError("max_workers must be greater than 0");
    if (opts_.max_tasks_per_child && *opts_.max_tasks_per_child == 0) {
      throw ValueError("max_tasks_per_child must be >= 1");
    }
    if (opts_.initializer) initializer_ = task_name(process::detail::fn_address(opts_.initializer));
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    manager_ = std::thread([this] { run(); });
  }

  ~ProcessPoolCore() {
    shutdown(true, false);
    if (manager_.joinable()) manager_.detach();  // destroyed from a done callback: cannot join self
    ::close(wake_fd_);
  }

  std::size_t max_workers() const noexcept { return max_workers_; }

  std::vector<int> pids() const {
    std::lock_guard lock(mu_);
    return pids_;
  }

  void submit(const std::string& name, std::vector<std::string> args, ProcessSinks sinks) {
    WorkItem item;
    item.id = next_id_.fetch_add(1, std::memory_order_relaxed);
    append_call_frame(item.frame, item.id, name, args);
    item.sinks = std::move(sinks);
    {
      std::lock_guard lock(mu_);
      if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
      if (!broken_.empty()) throw BrokenProcessPool(broken_);
      Worker* idle = nullptr;
      if (queue_.empty()) {
        for (auto& w : workers_) {
          if (accepts(*w, 1) && w->out_pos == w->out.size()) {
            idle = w.get();
            break;
          }
        }
      }
      if (!idle) {
        queue_.push_back(std::move(item));
      } else {
        if (!start(item)) return;  // cancelled already
        const ssize_t n = ::send(idle->fd, item.frame.data(), item.frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        const std::size_t sent = n > 0 ? static_cast<std::size_t>(n) : 0;
        const bool complete = sent == item.frame.size();
        if (!complete) idle->out.assign(item.frame, sent);  // the manager writes the rest
        hand_to(*idle, std::move(item));
        if (complete) return;  // no wake-up needed: the reply wakes the manager
      }
    }
    wake();
  }

  void shutdown(bool wait, bool cancel_futures) {
    std::deque<WorkItem> cancelled;
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
      if (cancel_futures && !cancel_futures_) {
        cancel_futures_ = true;
        kill_at_ = Clock::now() + std::chrono::ceil<Clock::duration>(opts_.shutdown_grace);
        cancelled.swap(queue_);
      }
    }
    for (auto& item : cancelled) {
      for (auto& s : item.sinks) s->cancel();
    }
    wake();
    if (!wait || std::this_thread::get_id() == manager_id_.load()) return;
    std::lock_guard join_lock(join_mu_);
    if (manager_.joinable()) manager_.join();
  }

 private:
  // Can worker `w` take a call while it already has `depth - 1`? Requires mu_.
  bool accepts(const Worker& w, std::size_t depth) const {
    return w.ready && !w.gone && !w.retiring && w.kill_reason.empty() && w.sent.size() < depth;
  }

  // Marks the item's futures running; false if every one of them was cancelled. Requires mu_.
  static bool start(WorkItem& item) {
    if (item.started) return true;
    item.started = true;
    item.live.assign(item.sinks.size(), 0);
    bool any = false;
    for (std::size_t i = 0; i < item.sinks.size(); ++i) {
      item.live[i] = item.sinks[i]->set_running() ? 1 : 0;
      any = any || item.live[i];
    }
    return any;
  }

  // Records that `item` was sent to `w`. Requires mu_.
  void hand_to(Worker& w, WorkItem item) {
    w.sent.push_back(std::move(item));
    if (opts_.max_tasks_per_child && ++w.calls_sent >= *opts_.max_tasks_per_child) w.retiring = true;
  }

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
  }

  // ---- manager thread ----

  void run() {
    manager_id_.store(std::this_thread::get_id());
    std::vector<pollfd> fds;
    std::vector<Done> done;
    std::vector<std::pair<Worker*, short>> events;
    std::unique_lock lock(mu_);
    for (;;) {
      dispatch();
      flush_all();
      if (finished()) break;
      fds.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      for (auto& w : workers_) {
        if (w->gone) {
          fds.push_back({w->pidfd, POLLIN, 0});  // -1 is ignored by poll: the timeout polls then
          continue;
        }
        short ev = POLLIN;
        if (w->out_pos < w->out.size()) ev |= POLLOUT;
        fds.push_back({w->fd, ev, 0});
      }
      const int timeout_ms = next_timeout_ms();
      done.swap(done_);
      lock.unlock();
      complete(done);
      const int n = ::poll(fds.data(), fds.size(), timeout_ms);
      lock.lock();
      if (n < 0 && errno != EINTR) break;  // cannot happen with valid fds; fail safe below
      if (fds[0].revents) {
        std::uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
      }
      // Workers may be removed while handling: walk a snapshot of (worker, revents).
      events.clear();
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents && !workers_[i - 1]->gone) events.emplace_back(workers_[i - 1].get(), fds[i].revents);
      }
      for (auto [w, rev] : events) {
        if (rev & POLLOUT) flush(*w);
        if (rev & (POLLIN | POLLHUP | POLLERR)) read_from(*w);
      }
      if (!done_.empty()) {
        // Results arrived: hand the workers their next calls, then complete the futures at once
        // (the waiting thread wakes now, not after the bookkeeping below and the next loop's).
        dispatch();
        flush_all();
        done.swap(done_);
        lock.unlock();
        complete(done);
        lock.lock();
      }
      reap_gone();
      enforce_deadlines();
    }
    stop_all_workers();
    done.swap(done_);
    lock.unlock();
    complete(done);
  }

  // Completes futures; runs without mu_ (done callbacks may submit()).
  static void complete(std::vector<Done>& done) {
    for (auto& d : done) {
      auto& sinks = d.item.sinks;
      if (d.kind == Done::result) {
        std::vector<CallOutcome> outcomes;
        try {
          outcomes = parse_result(d.payload);  // validated when received
        } catch (...) {
        }
        for (std::size_t i = 0; i < sinks.size() && i < outcomes.size(); ++i) {
          if (!d.item.live[i]) continue;
          if (outcomes[i].ok) sinks[i]->set_value(outcomes[i].value);
          else sinks[i]->set_exception(rebuild_exception(outcomes[i].error));
        }
        continue;
      }
      // Each future gets its own exception object: futures completed together are consumed by
      // different threads, and one shared object would be destroyed by whichever drops it last.
      for (std::size_t i = 0; i < sinks.size(); ++i) {
        if (d.item.started && !d.item.live[i]) continue;
        sinks[i]->set_exception(d.kind == Done::broken
                                    ? broken(d.message)
                                    : std::make_exception_ptr(CancelledError("cancelled by shutdown(cancel_futures=true)")));
      }
    }
    done.clear();
  }

  bool finished() {
    if (!shutdown_ || !queue_.empty()) return false;
    for (auto& w : workers_) {
      if (!w->sent.empty()) return false;
    }
    return true;
  }

  int next_timeout_ms() {
    auto next = Clock::time_point::max();
    for (auto& w : workers_) {
      if (w->gone) {
        next = std::min(next, w->pidfd >= 0 ? w->gone_at + kExitGrace : Clock::now() + std::chrono::milliseconds(2));
      } else if (!w->ready) {
        next = std::min(next, w->spawned_at + std::chrono::ceil<Clock::duration>(opts_.handshake_timeout));
      }
    }
    if (kill_at_) next = std::min(next, *kill_at_);
    if (next == Clock::time_point::max()) return -1;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
  }

  void enforce_deadlines() {
    const auto now = Clock::now();
    const std::optional<Clock::time_point> kill_at = kill_at_;
    for (auto& w : workers_) {
      if (w->gone) {
        if (now >= w->gone_at + kExitGrace && w->kill_reason.empty()) {
          w->kill_reason = "it did not exit after closing its channel";
          ::kill(w->pid, SIGKILL);
        }
        continue;
      }
      if (!w->ready && w->kill_reason.empty() &&
          now >= w->spawned_at + std::chrono::ceil<Clock::duration>(opts_.handshake_timeout)) {
        w->kill_reason = "the worker did not complete its handshake in time";
        ::kill(w->pid, SIGKILL);
      }
      if (kill_at && now >= *kill_at && !w->sent.empty() && w->kill_reason.empty()) {
        w->kill_reason = "killed by shutdown(cancel_futures=true) after the grace period";
        ::kill(w->pid, SIGKILL);
      }
    }
  }

  // Moves queued calls to workers with room; spawns workers when calls wait and none has room.
  void dispatch() {
    std::size_t waiting = 0;
    std::size_t starting = 0;
    {
      if (!broken_.empty()) return;
      while (!queue_.empty()) {
        // A second call is queued behind a running one only while plenty of work waits: near the
        // end, calls go to whichever worker is idle first (list scheduling), so a long call never
        // holds a short one hostage while another worker idles.
        const std::size_t depth = queue_.size() > workers_.size() ? kDepth : 1;
        Worker* best = nullptr;
        for (auto& w : workers_) {
          if (!accepts(*w, depth)) continue;
          if (!best || w->sent.size() < best->sent.size()) best = w.get();
        }
        if (!best) break;
        WorkItem item = std::move(queue_.front());
        queue_.pop_front();
        if (!start(item)) continue;  // every call of it was cancelled
        best->out.append(item.frame);
        hand_to(*best, std::move(item));
      }
      waiting = queue_.size();
      if (waiting == 0) return;
      for (auto& w : workers_) {
        if (!w->ready && !w->gone) ++starting;
      }
    }
    while (waiting > starting && workers_.size() < max_workers_) {
      if (!spawn()) return;
      ++starting;
    }
  }

  bool spawn() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      break_pool("cannot create a worker channel: " + std::string(std::strerror(errno)));
      return false;
    }
    // The child's end moves to fd 3; a high CLOEXEC duplicate makes dup2 always clear CLOEXEC.
    const int child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);

    std::vector<std::string> args = {program_invocation_name ? program_invocation_name : "concur-worker",
                                     pw::kArgvMarker};
    if (opts_.max_tasks_per_child) args.push_back("max_tasks=" + std::to_string(*opts_.max_tasks_per_child));
    if (opts_.memory_limit) args.push_back("memory_limit=" + std::to_string(*opts_.memory_limit));
    if (opts_.cpu_time_limit) args.push_back("cpu_limit=" + std::to_string(opts_.cpu_time_limit->count()));
    if (!initializer_.empty()) args.push_back("initializer=" + initializer_);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::string marker = std::string(pw::kEnvMarker) + "=1";
    std::vector<char*> envp;
    const std::size_t key_len = std::strlen(pw::kEnvMarker);
    for (char** e = environ; e && *e; ++e) {
      if (std::strncmp(*e, pw::kEnvMarker, key_len) == 0 && (*e)[key_len] == '=') continue;
      envp.push_back(*e);
    }
    envp.push_back(marker.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child_end, pw::kChannelFd);
    posix_spawn_file_actions_addclosefrom_np(&fa, pw::kChannelFd + 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(child_end);
    if (rc != 0) {
      ::close(sv[0]);
      break_pool("cannot spawn a worker (posix_spawn of /proc/self/exe): " + std::string(std::strerror(rc)));
      return false;
    }
    auto w = std::make_unique<Worker>();
    w->pid = pid;
    w->fd = sv[0];
    // Opened before anyone can reap the child, so it refers to it; O_CLOEXEC is implied.
    w->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    w->spawned_at = Clock::now();
    workers_.push_back(std::move(w));
    pids_.push_back(pid);
    return true;
  }

  void flush_all() {
    for (auto& w : workers_) {
      if (!w->gone && w->out_pos < w->out.size()) flush(*w);
    }
  }

  void flush(Worker& w) {
    while (w.out_pos < w.out.size()) {
      const ssize_t n = ::send(w.fd, w.out.data() + w.out_pos, w.out.size() - w.out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return;  // EPIPE/ECONNRESET: the worker died; its EOF is handled by read_from()
      }
      w.out_pos += static_cast<std::size_t>(n);
    }
    w.out.clear();
    w.out_pos = 0;
  }

  void read_from(Worker& w) {
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::recv(w.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        worker_gone(w, std::string());  // ECONNRESET
        return;
      }
      if (n == 0) {
        worker_gone(w, w.decoder.buffered() ? "the worker's last frame was truncated" : std::string());
        return;
      }
      w.decoder.feed(buf, static_cast<std::size_t>(n));
      try {
        while (auto f = w.decoder.next()) {
          if (!handle_frame(w, std::move(*f))) return;  // the worker was removed
        }
      } catch (const ProtocolError& e) {
        protocol_failure(w, e.what());
        return;
      }
      // A short read emptied the socket (a stream socket's recv takes everything queued up to
      // the buffer size): skip the recv that would only say EAGAIN. Bytes or an EOF arriving
      // from now on make the next poll() report the socket again.
      if (static_cast<std::size_t>(n) < sizeof buf) return;
    }
  }

  // Returns false when `w` no longer exists.
  bool handle_frame(Worker& w, Frame f) {
    switch (f.kind) {
      case FrameKind::hello:
        w.ready = true;
        return true;
      case FrameKind::result: {
        if (w.sent.empty() || w.sent.front().id != f.id) {
          throw ProtocolError("concur::process: a result for a call the worker was not running");
        }
        if (parse_result(f.payload).size() != w.sent.front().sinks.size()) {
          throw ProtocolError("concur::process: wrong number of results");
        }
        done_.push_back(Done{Done::result, std::move(w.sent.front()), std::move(f.payload), {}});
        w.sent.pop_front();
        return true;
      }
      case FrameKind::init_failed: {
        PayloadReader r(f.payload);
        const RemoteException e = read_exception(r);
        break_pool("A child process's initializer failed: " + e.type_name + ": " + e.what);
        return false;
      }
      case FrameKind::fatal: {
        PayloadReader r(f.payload);
        w.fatal = std::string(r.str());
        return true;
      }
      default:
        throw ProtocolError("concur::process: unexpected frame kind from a worker");
    }
  }

  // A corrupt stream: the worker cannot be trusted any more. Kill it; its call fails.
  void protocol_failure(Worker& w, const std::string& what) {
    w.kill_reason = std::string("its channel carried garbage (") + what + ")";
    ::kill(w.pid, SIGKILL);
    worker_gone(w, std::string());
  }

  // The worker's channel closed: the process is exiting. Reap it now if it already has, else
  // when its pidfd says so (the manager never blocks on a dying worker).
  void worker_gone(Worker& w, const std::string& extra) {
    if (w.fd >= 0) ::close(w.fd);
    w.fd = -1;
    w.gone = true;
    w.gone_extra = extra;
    w.gone_at = Clock::now();
    try_reap(w);
  }

  void reap_gone() {
    std::vector<Worker*> gone;
    for (auto& w : workers_) {
      if (w->gone) gone.push_back(w.get());
    }
    for (Worker* w : gone) try_reap(*w);
  }

  void try_reap(Worker& w) {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(w.pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == w.pid) finalize(w, status);
    else if (r < 0) finalize(w, -1);  // ECHILD: someone else reaped it
  }

  // The worker is reaped: fail the call it was running, requeue the others, forget it.
  void finalize(Worker& w, int status) {
    if (w.pidfd >= 0) ::close(w.pidfd);
    w.pidfd = -1;
    const std::string extra = w.gone_extra;
    std::string how = "worker process " + std::to_string(w.pid) + " " +
                      (status < 0 ? std::string("vanished") : describe_status(status));
    if (!w.fatal.empty()) how += "; " + w.fatal;
    if (!w.kill_reason.empty()) how += "; " + w.kill_reason;
    if (!extra.empty()) how += "; " + extra;

    std::deque<WorkItem> orphans = std::move(w.sent);
    const bool was_ready = w.ready;
    const bool clean_exit = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::erase(pids_, w.pid);
    std::erase_if(workers_, [&](const std::unique_ptr<Worker>& p) { return p.get() == &w; });  // w is gone

    if (!was_ready) {
      std::string msg = "A process in the process pool exited before its handshake (" + how + "). ";
      if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == pw::kForgotMainStatus) {
        msg += "main() must call concur::futures::process_worker_main(argc, argv) as its first line.";
      } else {
        msg += "Does main() call concur::futures::process_worker_main(argc, argv) as its first line?";
      }
      break_pool(msg);
      fail_items(orphans, Done::broken, msg);
      return;
    }
    if (orphans.empty()) return;  // an idle worker left (recycled, or killed while idle)
    WorkItem running = std::move(orphans.front());
    orphans.pop_front();
    const std::string msg =
        clean_exit
            ? "A process in the process pool exited while the future was running (" + how + ")"
            : "A process in the process pool was terminated abruptly while the future was running (" + how + ")";
    done_.push_back(Done{Done::broken, std::move(running), {}, msg});
    if (cancel_futures_ || !broken_.empty()) {
      fail_items(orphans, Done::cancelled, {});
    } else {
      for (auto it = orphans.rbegin(); it != orphans.rend(); ++it) queue_.push_front(std::move(*it));
    }
  }

  // Schedules the failure of every future of `items` (completed after mu_ is released).
  void fail_items(std::deque<WorkItem>& items, Done::Kind kind, const std::string& message) {
    for (auto& item : items) done_.push_back(Done{kind, std::move(item), {}, message});
    items.clear();
  }

  // The pool can no longer run calls (initializer failure, workers that cannot start): fail
  // everything queued and in flight, refuse new submissions, let the workers go.
  void break_pool(const std::string& msg) {
    if (broken_.empty()) broken_ = msg;
    fail_items(queue_, Done::broken, msg);
    for (auto& w : workers_) {
      fail_items(w->sent, Done::broken, msg);
      w->kill_reason = "the pool is broken";
      ::kill(w->pid, SIGKILL);
    }
  }

  // At the end: close every channel (a worker reading EOF exits 0) and reap every worker.
  void stop_all_workers() {
    for (auto& w : workers_) {
      if (w->fd >= 0) ::close(w->fd);
      w->fd = -1;
    }
    const auto grace = Clock::now() + std::chrono::seconds(5);
    for (auto& w : workers_) {
      int status = 0;
      for (;;) {
        const pid_t r = ::waitpid(w->pid, &status, WNOHANG);
        if (r == w->pid || (r < 0 && errno != EINTR)) break;
        const auto now = Clock::now();
        if (now >= grace) {
          ::kill(w->pid, SIGKILL);
          while (::waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
          }
          break;
        }
        if (w->pidfd >= 0) {
          // Sleep until the process exits (its pidfd turns readable), not a fixed tick: the
          // pool's shutdown(wait=true) returns as soon as the last worker is gone.
          pollfd p{w->pidfd, POLLIN, 0};
          const auto ms = std::chrono::ceil<std::chrono::milliseconds>(grace - now).count();
          ::poll(&p, 1, static_cast<int>(std::clamp<long long>(ms, 1, 5000)));
        } else {
          ::usleep(1000);
        }
      }
      if (w->pidfd >= 0) ::close(w->pidfd);
      w->pidfd = -1;
    }
    workers_.clear();
    pids_.clear();
  }

  ProcessPoolOptions opts_;
  std::size_t max_workers_ = 1;
  std::string initializer_;
  int wake_fd_ = -1;

  mutable std::mutex mu_;
  std::deque<WorkItem> queue_;  // guarded by mu_
  std::vector<int> pids_;       // guarded by mu_
  bool shutdown_ = false;       // guarded by mu_
  bool cancel_futures_ = false; // guarded by mu_
  std::optional<Clock::time_point> kill_at_;  // guarded by mu_
  std::string broken_;          // guarded by mu_; non-empty once broken

  std::vector<std::unique_ptr<Worker>> workers_;  // guarded by mu_
  std::vector<Done> done_;                        // guarded by mu_; completed by the manager
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<std::thread::id> manager_id_{};
  std::mutex join_mu_;
  std::thread manager_;
};

}  // namespace detail

ProcessPoolExecutor::ProcessPoolExecutor(ProcessPoolOptions options)
    : core_(std::make_unique<detail::ProcessPoolCore>(std::move(options))) {}

ProcessPoolExecutor::~ProcessPoolExecutor() = default;  // the core's destructor shuts down and waits

void ProcessPoolExecutor::shutdown(ShutdownOptions options) { core_->shutdown(options.wait, options.cancel_futures); }

std::size_t ProcessPoolExecutor::max_workers() const noexcept { return core_->max_workers(); }

std::vector<int> ProcessPoolExecutor::worker_pids() const { return core_->pids(); }

void ProcessPoolExecutor::submit_calls(const std::string& name, std::vector<std::string> args,
                                       detail::ProcessSinks sinks) {
  core_->submit(name, std::move(args), std::move(sinks));
}

}  // namespace concur::futures
