// concur/queue/simple_queue.hpp — concur::queue::SimpleQueue<T>, Python's queue.SimpleQueue.
//
// An unbounded FIFO without task tracking: put() never blocks (Python accepts and ignores
// block/timeout there, and so does concur), get() blocks while empty. As in CPython 3.13 there is
// no task_done(), join(), shutdown() or full(). Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <stop_token>
#include <utility>

#include "concur/queue/options.hpp"
#include "concur/queue/queue.hpp"

namespace concur::queue {

/// Python's queue.SimpleQueue: unbounded FIFO, put() never blocks. Thread-safe.
template <class T>
class SimpleQueue {
 public:
  SimpleQueue() = default;

  /// Appends an item; never blocks, never fails (options accepted for Python compatibility).
  void put(T&& item, PutOptions = {}) { (void)queue_.try_put(std::move(item)); }
  void put(const T& item, PutOptions = {})
    requires std::copy_constructible<T>
  {
    (void)queue_.try_put(item);
  }
  /// Python's put_nowait(item) == put(item).
  void put_nowait(T&& item) { put(std::move(item)); }
  void put_nowait(const T& item)
    requires std::copy_constructible<T>
  {
    put(item);
  }
  /// Removes and returns the oldest item, blocking while empty; throws queue::Empty when block is
  /// false or the timeout runs out.
  T get(GetOptions options = {}) { return queue_.get(options); }
  /// get() that a stop request interrupts while blocked (throws concur::CancelledError).
  T get(std::stop_token stop, GetOptions options = {}) { return queue_.get(std::move(stop), options); }
  /// Python's get_nowait(); throws queue::Empty.
  T get_nowait() { return queue_.get_nowait(); }
  /// get() without exceptions (non-blocking unless options say otherwise).
  [[nodiscard]] std::optional<T> try_get(GetOptions options = GetOptions{.block = false}) {
    return queue_.try_get(options);
  }
  /// Approximate number of items.
  std::size_t qsize() const noexcept { return queue_.qsize(); }
  /// qsize() == 0.
  bool empty() const noexcept { return queue_.empty(); }

 private:
  Queue<T> queue_;  // its task counter is simply never consulted
};

}  // namespace concur::queue
