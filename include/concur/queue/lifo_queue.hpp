// concur/queue/lifo_queue.hpp — concur::queue::LifoQueue<T>, Python's queue.LifoQueue.
//
// get() returns the most recently put item. Everything else (bounds, task_done/join, 3.13
// shutdown, try_*, stop tokens, iteration) is BasicQueue's, documented in
// concur/queue/basic_queue.hpp.
#pragma once

#include "concur/detail/queue_store.hpp"
#include "concur/queue/basic_queue.hpp"

namespace concur::queue {

/// Python's queue.LifoQueue: last in, first out; `maxsize` 0 = unbounded. Thread-safe.
template <class T>
class LifoQueue : public BasicQueue<T, detail::LifoStore<T>> {
 public:
  /// A LIFO queue holding at most `maxsize` items (0 = unbounded).
  explicit LifoQueue(std::size_t maxsize = 0) : BasicQueue<T, detail::LifoStore<T>>(maxsize) {}
};

}  // namespace concur::queue
