// examples/queue/stage.hpp — one stage of a thread pipeline, as the seeds' StoppableWorker.
//
// Stage(in, out, f, workers) starts `workers` threads that each run
//     for (auto item : in) out.put(f(std::move(item)));
// and the last one to finish shuts `out` down, so the next stage's loop ends once it has drained
// `out` — 3.13's Queue.shutdown() replaces the seeds' ClosableQueue sentinel, and the queue's
// iteration replaces StoppableWorker.run.
//
// When f throws, the stage keeps the first exception (error()), shuts `in` down (the upstream
// stage's next put() raises queue::ShutDown, so it stops too), and counts every item it can no
// longer process instead of dropping it silently: unprocessed() = items left in `in` plus results
// the downstream stage refused. The destructor joins the threads.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "concur/queue.hpp"

template <class In, class Out, class F>
class Stage {
 public:
  Stage(concur::queue::Queue<In>& in, concur::queue::Queue<Out>& out, F f, int workers = 1)
      : in_(in), out_(out), f_(std::move(f)), running_(workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~Stage() { join(); }

  /// Waits for every worker of this stage.
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  /// The first exception f threw (null when none did). Call after join().
  std::exception_ptr error() const { return error_; }
  /// Items this stage could not process after a failure (its own or a downstream one).
  long unprocessed() const { return unprocessed_.load(); }

 private:
  void work() {
    try {
      for (auto item : in_) out_.put(f_(std::move(item)));
    } catch (const concur::queue::ShutDown&) {
      ++unprocessed_;  // downstream stopped: the result in hand cannot be delivered
      give_up();
    } catch (...) {
      {
        std::scoped_lock lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      give_up();
    }
    if (--running_ == 0) out_.shutdown();  // last worker out closes the next stage's input
  }
  // Refuse further input and count what is left, so that nothing vanishes unseen.
  void give_up() {
    in_.shutdown();
    while (in_.try_get()) {
      ++unprocessed_;
      in_.task_done();
    }
  }

  concur::queue::Queue<In>& in_;
  concur::queue::Queue<Out>& out_;
  F f_;
  std::atomic<int> running_;
  std::atomic<long> unprocessed_{0};
  std::mutex mutex_;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};
