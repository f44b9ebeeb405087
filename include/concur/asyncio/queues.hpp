// concur/asyncio/queues.hpp — asyncio.Queue, LifoQueue, PriorityQueue (3.13 semantics, with
// shutdown). For tasks of ONE loop; to feed a loop from threads use call_soon_threadsafe, as in
// Python.
//
//   Python                                   concur
//   q = asyncio.Queue(maxsize=10)            asyncio::Queue<int> q(10);
//   await q.put(x); x = await q.get()        co_await q.put(x); int x = co_await q.get();
//   q.put_nowait(x); q.get_nowait()          q.put_nowait(x); q.get_nowait();   // QueueFull / QueueEmpty
//   q.task_done(); await q.join()            q.task_done(); co_await q.join();
//   q.shutdown(immediate=False)              q.shutdown(false);                 // then QueueShutDown
//
// Waiting getters and putters are served in FIFO order; a waiter cancelled after being woken
// passes the wake-up on, so no item or slot is ever stranded. try_get()/try_put() are the
// non-throwing twins of get_nowait()/put_nowait().
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "concur/asyncio/locks.hpp"
#include "concur/asyncio/task.hpp"
#include "concur/detail/asyncio_waiters.hpp"
#include "concur/error.hpp"

namespace concur::asyncio {

/// get_nowait() on an empty queue (Python's asyncio.QueueEmpty).
class QueueEmpty : public Error {
 public:
  QueueEmpty() : Error("queue is empty") {}
};
/// put_nowait() on a full queue (Python's asyncio.QueueFull).
class QueueFull : public Error {
 public:
  QueueFull() : Error("queue is full") {}
};
/// put/get on a shut-down queue (Python 3.13's asyncio.QueueShutDown).
class QueueShutDown : public Error {
 public:
  QueueShutDown() : Error("queue is shut down") {}
};

namespace detail {
template <class T>
struct FifoOrder {
  std::deque<T> c;
  void push(T v) { c.push_back(std::move(v)); }
  T pop() {
    T v = std::move(c.front());
    c.pop_front();
    return v;
  }
  std::size_t size() const noexcept { return c.size(); }
};
template <class T>
struct LifoOrder {
  std::vector<T> c;
  void push(T v) { c.push_back(std::move(v)); }
  T pop() {
    T v = std::move(c.back());
    c.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return c.size(); }
};
template <class T, class Compare = std::greater<T>>
struct PriorityOrder {  // smallest first, as heapq
  std::vector<T> c;
  void push(T v) {
    c.push_back(std::move(v));
    std::push_heap(c.begin(), c.end(), Compare{});
  }
  T pop() {
    std::pop_heap(c.begin(), c.end(), Compare{});
    T v = std::move(c.back());
    c.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return c.size(); }
};
}  // namespace detail

/// Python's asyncio.Queue over an ordering policy (FIFO by default).
template <class T, class Order = detail::FifoOrder<T>>
class BasicQueue {
 public:
  /// maxsize 0: unbounded.
  explicit BasicQueue(std::size_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  std::size_t qsize() const noexcept { return items_.size(); }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool empty() const noexcept { return items_.size() == 0; }
  bool full() const noexcept { return maxsize_ > 0 && items_.size() >= maxsize_; }

  /// Puts an item, waiting while full. Throws QueueShutDown, CancelledError.
  Task<void> put(T item) {
    while (full()) {
      if (shutdown_) throw QueueShutDown();
      detail::Waiter w(putters_);
      try {
        co_await w;
      } catch (...) {
        if (w.woken() && !full()) putters_.wake_one();
        throw;
      }
    }
    put_nowait(std::move(item));
  }
  /// Throws QueueFull or QueueShutDown.
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) throw QueueFull();
    push(std::move(item));
  }
  /// put_nowait without exceptions: false if full or shut down.
  bool try_put(T item) {
    if (shutdown_ || full()) return false;
    push(std::move(item));
    return true;
  }

  /// Removes and returns an item, waiting while empty. Throws QueueShutDown (shut down and
  /// empty, or shut down immediately), CancelledError.
  Task<T> get() {
    while (empty()) {
      if (shutdown_) throw QueueShutDown();
      detail::Waiter w(getters_);
      try {
        co_await w;
      } catch (...) {
        if (w.woken() && !empty()) getters_.wake_one();
        throw;
      }
    }
    co_return pop();
  }
  /// Throws QueueEmpty (or QueueShutDown if shut down and empty).
  T get_nowait() {
    if (empty()) {
      if (shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    return pop();
  }
  /// get_nowait without exceptions.
  std::optional<T> try_get() {
    if (empty()) return std::nullopt;
    return pop();
  }

  /// One put item is fully processed. Throws ValueError if called more times than items put.
  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  /// Waits until every item put has been task_done()'d.
  Task<void> join() {
    if (unfinished_ > 0) co_await finished_.wait();
  }
  /// Python 3.13's shutdown(immediate): put raises QueueShutDown from now on; get raises it once
  /// the queue is empty (at once if immediate, which also drops the items and counts them done).
  /// Wakes every waiting getter and putter.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!empty()) {
        (void)items_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    getters_.wake_all();
    putters_.wake_all();
  }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  void push(T item) {
    items_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.wake_one();
  }
  T pop() {
    T v = items_.pop();
    putters_.wake_one();
    return v;
  }
  Order items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  detail::WaitQueue getters_;
  detail::WaitQueue putters_;
  Event finished_;
};

/// Python's asyncio.Queue (FIFO).
template <class T>
using Queue = BasicQueue<T, detail::FifoOrder<T>>;
/// Python's asyncio.LifoQueue.
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoOrder<T>>;
/// Python's asyncio.PriorityQueue: smallest item first (use std::pair<priority, data>).
template <class T, class Compare = std::greater<T>>
using PriorityQueue = BasicQueue<T, detail::PriorityOrder<T, Compare>>;

}  // namespace concur::asyncio
