// concur/detail/thread_pool_core.hpp — the compiled core of ThreadPoolExecutor.
//
// Scheduling: calls submitted from outside the pool go to a global lock-free queue (a submit is
// one CAS and never waits for a lock); a worker takes its whole content at once, in submission
// order, onto its own deque. Calls submitted by a pool task go to that worker's own deque (LIFO
// for the owner; others steal from the back). Idle workers search briefly, then sleep on a
// futex; a submit wakes a sleeper only when no worker is searching and no wake-up is already in
// flight, so a burst of submits costs at most one wake-up system call.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <stop_token>
#include <string>

namespace concur::detail {

/// A unit of queued work. The queue owns one reference to the object behind it.
class PoolWork {
 public:
  PoolWork* next = nullptr;  // link in the global queue and in batches
  /// Runs the call unless it was cancelled, completes its future, drops the queue's reference.
  virtual void run(const std::stop_token& pool_stop) noexcept = 0;
  /// Cancels the future (shutdown(cancel_futures)) and drops the queue's reference.
  virtual void cancel_work() noexcept = 0;
  /// Fails the future with `e` (broken pool) and drops the queue's reference.
  virtual void fail_work(std::exception_ptr e) noexcept = 0;

 protected:
  ~PoolWork() = default;
};

struct ThreadPoolConfig {
  std::size_t max_workers;
  std::string thread_name_prefix;
  std::function<void()> initializer;
};

class ThreadPoolCore;

ThreadPoolCore* thread_pool_create(ThreadPoolConfig config);
/// Shuts down (wait=true) if needed, then frees the core.
void thread_pool_destroy(ThreadPoolCore* core) noexcept;
/// Queues the work (adopting the queue's reference). Throws RuntimeError after shutdown and
/// BrokenThreadPool when the pool is broken; the caller keeps ownership then.
void thread_pool_submit(ThreadPoolCore* core, PoolWork* work);
void thread_pool_shutdown(ThreadPoolCore* core, bool wait, bool cancel_futures);
/// The number of threads started so far (they start lazily, as in Python).
std::size_t thread_pool_thread_count(const ThreadPoolCore* core) noexcept;

}  // namespace concur::detail
