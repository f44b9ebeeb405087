// concur/queue/priority_queue.hpp — concur::queue::PriorityQueue<T, Compare>, Python's
// queue.PriorityQueue.
//
// get() returns the *smallest* item under Compare (default std::less<T>), as Python's heapq-based
// PriorityQueue does — the opposite of std::priority_queue. Python's idiom of putting
// `(priority, data)` tuples works with std::pair / std::tuple. Equal items come out in no
// particular order (as in Python). Everything else is BasicQueue's
// (concur/queue/basic_queue.hpp).
#pragma once

#include <functional>

#include "concur/detail/queue_store.hpp"
#include "concur/queue/basic_queue.hpp"

namespace concur::queue {

/// Python's queue.PriorityQueue: lowest first under Compare; `maxsize` 0 = unbounded.
/// Thread-safe; Compare is called under the queue's mutex and must not use the queue.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, detail::HeapStore<T, Compare>> {
  using Base = BasicQueue<T, detail::HeapStore<T, Compare>>;

 public:
  /// A priority queue holding at most `maxsize` items (0 = unbounded).
  explicit PriorityQueue(std::size_t maxsize = 0) : Base(maxsize) {}
  /// The same, ordering items with `compare` (a strict weak "less than").
  PriorityQueue(std::size_t maxsize, Compare compare) : Base(maxsize, std::move(compare)) {}
};

}  // namespace concur::queue
