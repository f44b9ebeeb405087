// The process-wide reaper: children handed over by reap_in_background() (e.g. by the destructor
// of a Popen whose child still runs) are reaped as soon as they exit, so none lingers as a zombie.
//
// One detached thread, started on first use, polls an eventfd (new work) and the children's
// pidfds. Children without a pidfd (old kernels) are checked with waitpid(WNOHANG) every 50 ms.
// The state is deliberately leaked: the thread may still be polling while static destructors run
// at exit, so nothing it touches is ever destroyed.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <thread>
#include <vector>

#include "concur/detail/spawn.hpp"

namespace concur::detail::spawn {
namespace {

class Reaper {
 public:
  Reaper() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    std::thread([this] { loop(); }).detach();
  }

  void add(pid_t pid, Fd pidfd) {
    {
      std::lock_guard lock(mu_);
      pending_.push_back({pid, std::move(pidfd)});
    }
    const std::uint64_t one = 1;
    if (wake_ >= 0) [[maybe_unused]] auto n = ::write(wake_, &one, sizeof one);
  }

 private:
  struct Entry {
    pid_t pid;
    Fd pidfd;
  };

  void loop() {
    std::vector<Entry> mine;
    std::vector<pollfd> pfds;
    while (true) {
      {
        std::lock_guard lock(mu_);
        for (auto& e : pending_) mine.push_back(std::move(e));
        pending_.clear();
      }
      // Reap whatever has exited.
      for (std::size_t i = 0; i < mine.size();) {
        if (try_reap(mine[i].pid)) {
          mine[i] = std::move(mine.back());
          mine.pop_back();
        } else {
          ++i;
        }
      }
      pfds.clear();
      pfds.push_back({wake_, POLLIN, 0});
      bool any_without_pidfd = false;
      for (auto& e : mine) {
        if (e.pidfd)
          pfds.push_back({e.pidfd.get(), POLLIN, 0});
        else
          any_without_pidfd = true;
      }
      const int timeout_ms = (any_without_pidfd || wake_ < 0) ? 50 : -1;
      const int r = ::poll(pfds.data(), pfds.size(), timeout_ms);
      if (r > 0 && (pfds[0].revents & POLLIN)) {
        std::uint64_t v;
        [[maybe_unused]] auto n = ::read(wake_, &v, sizeof v);
      }
    }
  }

  int wake_;
  std::mutex mu_;
  std::vector<Entry> pending_;
};

Reaper& reaper() {
  static Reaper* r = new Reaper();  // leaked on purpose (see above)
  return *r;
}

}  // namespace

void reap_in_background(pid_t pid, Fd pidfd) {
  if (try_reap(pid)) return;
  reaper().add(pid, std::move(pidfd));
}

}  // namespace concur::detail::spawn
