// ThreadPoolExecutor's compiled core: queues, workers, idle protocol, shutdown.
#include "concur/futures/thread_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <typeinfo>
#include <vector>

#include <cxxabi.h>

#include "concur/detail/future_state.hpp"
#include "concur/error.hpp"

namespace concur::detail {

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// The global queue of calls submitted from outside the pool: a lock-free intrusive stack that
/// submitters push onto (one CAS, never a lock a preempted worker could hold) and a worker empties
/// at once, restoring submission order (see take_all()). A submitter thus never blocks, and
/// workers take the queue's content in one batch rather than item by item.
struct GlobalQueue {
  std::atomic<PoolWork*> top{nullptr};

  void push(PoolWork* w) noexcept {
    PoolWork* old = top.load(std::memory_order_relaxed);
    do {
      w->next = old;
    } while (!top.compare_exchange_weak(old, w, std::memory_order_seq_cst,
                                        std::memory_order_relaxed));
  }
  /// Detaches everything, oldest first, as a next-linked list.
  PoolWork* take_all() noexcept {
    PoolWork* newest_first = top.exchange(nullptr, std::memory_order_acq_rel);
    PoolWork* oldest_first = nullptr;
    while (newest_first) {
      PoolWork* next = newest_first->next;
      newest_first->next = oldest_first;
      oldest_first = newest_first;
      newest_first = next;
    }
    return oldest_first;
  }
  bool looks_empty() const noexcept { return top.load(std::memory_order_seq_cst) == nullptr; }
};

/// A worker's own deque: a growable ring of pointers guarded by its mutex. The owner pushes and
/// pops at the front (newest first); thieves and batches use the back (oldest first).
struct LocalDeque {
  std::mutex mutex;
  std::vector<PoolWork*> ring = std::vector<PoolWork*>(64);
  std::size_t first = 0;  // index of the front item
  std::atomic<std::size_t> size{0};

  std::size_t mask() const noexcept { return ring.size() - 1; }
  void grow_if_full() {
    const std::size_t n = size.load(std::memory_order_relaxed);
    if (n < ring.size()) return;
    std::vector<PoolWork*> bigger(ring.size() * 2);
    for (std::size_t i = 0; i < n; ++i) bigger[i] = ring[(first + i) & mask()];
    ring.swap(bigger);
    first = 0;
  }
  void push_front_locked(PoolWork* w) {
    grow_if_full();
    first = (first - 1) & mask();
    ring[first] = w;
    size.fetch_add(1, std::memory_order_seq_cst);
  }
  void push_back_locked(PoolWork* w) {
    grow_if_full();
    ring[(first + size.load(std::memory_order_relaxed)) & mask()] = w;
    size.fetch_add(1, std::memory_order_seq_cst);
  }
  PoolWork* pop_front_locked() noexcept {
    if (size.load(std::memory_order_relaxed) == 0) return nullptr;
    PoolWork* w = ring[first];
    first = (first + 1) & mask();
    size.fetch_sub(1, std::memory_order_relaxed);
    return w;
  }
  PoolWork* pop_back_locked() noexcept {
    const std::size_t n = size.load(std::memory_order_relaxed);
    if (n == 0) return nullptr;
    PoolWork* w = ring[(first + n - 1) & mask()];
    size.fetch_sub(1, std::memory_order_relaxed);
    return w;
  }
  /// Detaches every item as a next-linked list (for shutdown/broken).
  PoolWork* take_all_locked() noexcept {
    PoolWork* all = nullptr;
    while (PoolWork* w = pop_back_locked()) {
      w->next = all;
      all = w;
    }
    return all;
  }
  bool looks_empty() const noexcept { return size.load(std::memory_order_seq_cst) == 0; }
};

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    int status = 0;
    char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
    std::string s = std::string(status == 0 && name ? name : typeid(e).name()) + ": " + e.what();
    std::free(name);
    return s;
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

class ThreadPoolCore final : public WaitHelper {
 public:
  struct alignas(64) Worker {
    LocalDeque local;
    std::thread thread;
    std::size_t index = 0;
  };

  explicit ThreadPoolCore(ThreadPoolConfig config)
      : config_(std::move(config)), workers_(config_.max_workers) {
    for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i].index = i;
  }

  ~ThreadPoolCore() { shutdown(true, false); }

  void submit(PoolWork* w) {
    Worker* self = tl_worker_;
    if (self && tl_core_ == this) {
      // From one of our own tasks: onto our own deque (no global contention). A shutdown racing
      // with this is harmless: workers drain every deque before they exit.
      if (broken_.load(std::memory_order_acquire)) throw_broken();
      if (shutdown_.load(std::memory_order_acquire))
        throw RuntimeError("cannot schedule new futures after shutdown");
      std::lock_guard lock(self->local.mutex);
      self->local.push_front_locked(w);
    } else {
      // Dekker pairing with shutdown()/fail_everything(): they set their flag, then wait for
      // `submitting_` to drain, so a call is either refused or queued before they take the queue.
      submitting_.fetch_add(1, std::memory_order_seq_cst);
      if (broken_.load(std::memory_order_seq_cst)) {
        submitting_.fetch_sub(1, std::memory_order_release);
        throw_broken();
      }
      if (shutdown_.load(std::memory_order_seq_cst)) {
        submitting_.fetch_sub(1, std::memory_order_release);
        throw RuntimeError("cannot schedule new futures after shutdown");
      }
      global_.push(w);
      submitting_.fetch_sub(1, std::memory_order_release);
    }
    notify_after_push();
  }

  void shutdown(bool wait, bool cancel_futures) {
    shutdown_.store(true, std::memory_order_seq_cst);
    wait_for_submitters();
    if (cancel_futures) {
      stop_.request_stop();
      drain(global_.take_all(), [](PoolWork* w) { w->cancel_work(); });
      drain_worker_deques([](PoolWork* w) { w->cancel_work(); });
    }
    wake(INT_MAX);
    if (!wait) return;
    // Join until no thread is left: a worker may still start another one while queued work
    // remains (see ensure_another_looks), and that one must run it before the pool is gone.
    for (;;) {
      std::vector<std::thread> to_join;
      {
        std::lock_guard lock(spawn_mutex_);
        for (auto& worker : workers_) {
          if (!worker.thread.joinable()) continue;
          if (worker.thread.get_id() == std::this_thread::get_id()) {
            worker.thread.detach();  // shutdown(wait) from our own task: cannot join ourselves
            continue;
          }
          to_join.push_back(std::move(worker.thread));
        }
      }
      if (to_join.empty()) break;
      for (auto& t : to_join) t.join();
    }
  }

  bool help_one() override {
    Worker* self = tl_worker_;
    if (!self || tl_core_ != this) return false;
    PoolWork* w = find_work(*self);
    if (!w) return false;
    execute(w);
    return true;
  }

  std::size_t thread_count() const noexcept { return started_.load(std::memory_order_relaxed); }

 private:
  template <class F>
  static void drain(PoolWork* list, F f) noexcept {
    while (list) {
      PoolWork* next = list->next;
      list->next = nullptr;
      f(list);
      list = next;
    }
  }

  /// Empties every worker's deque, applying f to each item (shutdown(cancel_futures), broken).
  template <class F>
  void drain_worker_deques(F f) noexcept {
    for (auto& worker : workers_) {
      PoolWork* all;
      {
        std::lock_guard lock(worker.local.mutex);
        all = worker.local.take_all_locked();
      }
      drain(all, f);
    }
  }

  [[noreturn]] void throw_broken() const {
    throw futures::BrokenThreadPool(
        "A thread initializer failed, the thread pool is not usable anymore");
  }

  bool has_work() const noexcept {
    if (!global_.looks_empty()) return true;
    for (std::size_t i = 0, n = started_.load(std::memory_order_acquire); i < n; ++i)
      if (!workers_[i].local.looks_empty()) return true;
    return false;
  }

  /// Waits until no outside submit is between its flag check and its push.
  void wait_for_submitters() const noexcept {
    while (submitting_.load(std::memory_order_seq_cst) != 0) sched_yield();
  }

  void notify_after_push() {
    // Dekker pairing with the idle protocol: the push above is a seq_cst RMW; an idle worker
    // decrements `searching_` (seq_cst) before its last look at the queues. A searching worker
    // will take this call, and the last searcher to find work hands the search on (see
    // worker_main), so one searcher is enough.
    if (searching_.load(std::memory_order_seq_cst) > 0) return;
    ensure_another_looks();
  }

  /// True when ensure_another_looks() could do something: a thread sleeps or can be started.
  bool someone_to_ask() const noexcept {
    return sleeping_.load(std::memory_order_seq_cst) > 0 ||
           started_.load(std::memory_order_relaxed) < workers_.size();
  }

  /// Makes sure some thread will look at the queues: wakes a sleeper, or starts a thread up to
  /// max_workers (Python starts one whenever no idle thread can take a call, so calls that block
  /// on each other still get up to max_workers threads).
  ///
  /// One wake-up in flight at a time: until the woken thread runs, more wakes would only repeat
  /// the system call. `wake_pending_` is set before sleeping_ is read and cleared by every
  /// worker leaving the sleep path, so once set, some sleeper counted after the set leaves and
  /// clears it (the wake below guarantees that one leaves), and looks at the queues after.
  void ensure_another_looks() {
    if (sleeping_.load(std::memory_order_seq_cst) > 0) {
      if (wake_pending_.load(std::memory_order_seq_cst) ||
          wake_pending_.exchange(true, std::memory_order_seq_cst))
        return;  // a wake-up is in flight; its sleeper will see the queued work
      if (sleeping_.load(std::memory_order_seq_cst) > 0) {
        wake(1);
        return;
      }
      wake_pending_.store(false, std::memory_order_seq_cst);
    }
    maybe_start_thread();
  }

  void wake(int n) noexcept {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(epoch_, n);
  }

  void maybe_start_thread() {
    if (started_.load(std::memory_order_relaxed) >= workers_.size()) return;
    std::lock_guard lock(spawn_mutex_);
    const std::size_t i = started_.load(std::memory_order_relaxed);
    if (i >= workers_.size()) return;
    // Count the worker before it starts: it may take queued work into its deque at once, and
    // has_work() (the check that keeps work from being stranded behind blocked tasks) only
    // looks at the deques of counted workers.
    started_.store(i + 1, std::memory_order_seq_cst);
    try {
      workers_[i].thread = std::thread([this, i] { worker_main(workers_[i]); });
    } catch (...) {
      started_.store(i, std::memory_order_seq_cst);
      throw;
    }
  }

  // Own deque first (newest first), then a batch from the global FIFO, then steal the oldest
  // item of another worker.
  PoolWork* find_work(Worker& self) noexcept {
    if (!self.local.looks_empty()) {
      std::lock_guard lock(self.local.mutex);
      if (PoolWork* w = self.local.pop_front_locked()) return w;
    }
    if (!global_.looks_empty()) {
      // Take everything: the rest goes to the back of our deque in submission order, where
      // idle workers steal it.
      if (PoolWork* first = global_.take_all()) {
        if (PoolWork* rest = first->next) {
          first->next = nullptr;
          std::lock_guard lock(self.local.mutex);
          while (rest) {
            PoolWork* next = rest->next;
            rest->next = nullptr;
            self.local.push_back_locked(rest);
            rest = next;
          }
        }
        return first;
      }
    }
    // Steal half of another worker's deque (up to kStealMax) from its back, so two workers
    // sharing a burst do not meet on one lock per call.
    constexpr std::size_t kStealMax = 64;
    const std::size_t n = started_.load(std::memory_order_acquire);
    for (std::size_t k = 1; k < n; ++k) {
      Worker& victim = workers_[(self.index + k) % n];
      if (victim.local.looks_empty()) continue;
      PoolWork* stolen[kStealMax];
      std::size_t count = 0;
      {
        std::lock_guard lock(victim.local.mutex);
        const std::size_t want =
            std::min(kStealMax, (victim.local.size.load(std::memory_order_relaxed) + 1) / 2);
        while (count < want) {
          PoolWork* w = victim.local.pop_back_locked();
          if (!w) break;
          stolen[count++] = w;
        }
      }
      if (count == 0) continue;
      if (count > 1) {
        // Run the oldest stolen first; the rest go to our front in the order they were queued.
        std::lock_guard lock(self.local.mutex);
        for (std::size_t i = 0; i + 1 < count; ++i) self.local.push_front_locked(stolen[i]);
      }
      return stolen[count - 1];
    }
    return nullptr;
  }

  void execute(PoolWork* w) noexcept {
    if (broken_.load(std::memory_order_acquire)) {
      w->fail_work(std::make_exception_ptr(futures::BrokenThreadPool(
          "A thread initializer failed, the thread pool is not usable anymore")));
      return;
    }
    w->run(stop_.get_token());
  }

  void set_thread_name(std::size_t i) {
    std::string name = config_.thread_name_prefix + "_" + std::to_string(i);
    if (name.size() > 15) name = name.substr(name.size() - 15);
    pthread_setname_np(pthread_self(), name.c_str());
  }

  void fail_everything() noexcept {
    const auto err = std::make_exception_ptr(futures::BrokenThreadPool(
        "A thread initializer failed, the thread pool is not usable anymore"));
    broken_.store(true, std::memory_order_seq_cst);
    wait_for_submitters();
    drain(global_.take_all(), [&](PoolWork* w) { w->fail_work(err); });
    drain_worker_deques([&](PoolWork* w) { w->fail_work(err); });
    wake(INT_MAX);
  }

  void worker_main(Worker& self) {
    set_thread_name(self.index);
    if (config_.initializer) {
      try {
        config_.initializer();
      } catch (...) {
        std::fprintf(stderr, "concur: Exception in initializer: %s\n",
                     describe_current_exception().c_str());
        fail_everything();
        return;
      }
    }
    tl_worker_ = &self;
    tl_core_ = this;
    current_wait_helper() = this;

    for (;;) {
      if (PoolWork* w = find_work(self)) {
        // This task may block; if work is left queued and nobody is looking for it, make sure
        // another thread will (a sleeper, or a new one up to max_workers). When every thread
        // is started and none sleeps there is nobody to hand it to: skip the look at the
        // queues (it reads counters the submitters keep writing).
        if (searching_.load(std::memory_order_seq_cst) == 0 && someone_to_ask() && has_work())
          ensure_another_looks();
        execute(w);
        continue;
      }
      // Idle: search for a while, then sleep. See notify_after_push() for the pairing.
      searching_.fetch_add(1, std::memory_order_seq_cst);
      PoolWork* found = nullptr;
      // A few µs of pause, then yields: a yielding searcher gives its CPU to any runnable
      // thread (the submitter, on a machine with fewer cores than threads) yet is still awake
      // when the next burst comes — waking a sleeper costs a system call and, on a VM, an
      // idle vCPU's wake-up; sleeping sooner made 1,000-task rounds several times slower here.
      constexpr int kSearch = 512, kPause = 64;
      for (int spin = 0; spin < kSearch && !found; ++spin) {
        if (spin & 1) found = find_work(self);
        if (!found) {
          if (spin < kPause) cpu_relax();
          else sched_yield();
        }
      }
      if (found) {
        // The last searcher hands searching over (a sleeper, or a new thread up to max_workers)
        // when work is left: this task may block, and the rest must not wait for it.
        if (searching_.fetch_sub(1, std::memory_order_seq_cst) == 1 && has_work())
          ensure_another_looks();
        execute(found);
        continue;
      }
      sleeping_.fetch_add(1, std::memory_order_seq_cst);
      searching_.fetch_sub(1, std::memory_order_seq_cst);
      const std::uint32_t epoch = epoch_.load(std::memory_order_seq_cst);
      if (has_work()) {
        sleeping_.fetch_sub(1, std::memory_order_seq_cst);
        wake_pending_.store(false, std::memory_order_seq_cst);
        continue;
      }
      if (shutdown_.load(std::memory_order_seq_cst) || broken_.load(std::memory_order_seq_cst)) {
        sleeping_.fetch_sub(1, std::memory_order_seq_cst);
        wake_pending_.store(false, std::memory_order_seq_cst);
        break;
      }
      futex_wait(epoch_, epoch, std::nullopt);
      sleeping_.fetch_sub(1, std::memory_order_seq_cst);
      // Awake (woken or not): the next submit may wake another sleeper again.
      wake_pending_.store(false, std::memory_order_seq_cst);
    }
    current_wait_helper() = nullptr;
    tl_worker_ = nullptr;
    tl_core_ = nullptr;
  }

  ThreadPoolConfig config_;
  std::vector<Worker> workers_;
  GlobalQueue global_;
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> broken_{false};
  std::atomic<int> searching_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> wake_pending_{false};  // a submit's wake(1) not yet answered by a sleeper
  std::atomic<int> submitting_{0};         // outside submits between flag check and push
  std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::size_t> started_{0};
  std::mutex spawn_mutex_;
  std::stop_source stop_;

  static thread_local Worker* tl_worker_;
  static thread_local ThreadPoolCore* tl_core_;
};

thread_local ThreadPoolCore::Worker* ThreadPoolCore::tl_worker_ = nullptr;
thread_local ThreadPoolCore* ThreadPoolCore::tl_core_ = nullptr;

ThreadPoolCore* thread_pool_create(ThreadPoolConfig config) {
  return new ThreadPoolCore(std::move(config));
}
void thread_pool_destroy(ThreadPoolCore* core) noexcept { delete core; }
void thread_pool_submit(ThreadPoolCore* core, PoolWork* work) { core->submit(work); }
void thread_pool_shutdown(ThreadPoolCore* core, bool wait, bool cancel_futures) {
  core->shutdown(wait, cancel_futures);
}
std::size_t thread_pool_thread_count(const ThreadPoolCore* core) noexcept {
  return core->thread_count();
}

}  // namespace concur::detail

namespace concur::futures {

namespace {
std::atomic<unsigned> g_pool_counter{0};

std::size_t default_max_workers() {
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cpus + 4);
}
}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options)
    : core_(nullptr), max_workers_(options.max_workers.value_or(default_max_workers())) {
  if (max_workers_ == 0) throw ValueError("max_workers must be greater than 0");
  if (options.thread_name_prefix.empty())
    options.thread_name_prefix =
        "ThreadPoolExecutor-" + std::to_string(g_pool_counter.fetch_add(1));
  core_ = detail::thread_pool_create(
      {max_workers_, std::move(options.thread_name_prefix), std::move(options.initializer)});
}

ThreadPoolExecutor::~ThreadPoolExecutor() { detail::thread_pool_destroy(core_); }

void ThreadPoolExecutor::shutdown(ShutdownOptions options) {
  detail::thread_pool_shutdown(core_, options.wait, options.cancel_futures);
}

std::size_t ThreadPoolExecutor::thread_count() const noexcept {
  return detail::thread_pool_thread_count(core_);
}

}  // namespace concur::futures
