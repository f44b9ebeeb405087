// concur/queue/queue.hpp — concur::queue::Queue<T>, Python's queue.Queue (first in, first out).
//
//   concur::queue::Queue<std::string> q(/*maxsize=*/64);
//   q.put("job");                    // blocks while 64 items wait
//   auto job = q.get();              // blocks while empty; throws queue::ShutDown when drained
//   q.task_done();  q.join();        // as in Python
//   q.shutdown();                    // 3.13: no more puts; getters drain, then stop
//   for (auto item : q) { ... }      // until shut down and drained (calls task_done for you)
//
// Every member is documented in concur/queue/basic_queue.hpp. A bounded queue (maxsize >= 2) of
// items whose move constructor is noexcept runs on a lock-free ring of exactly maxsize slots
// (concur/detail/queue_ring.hpp; up to 4 MiB, allocated at construction): put() and get() take
// no lock and make no system call while nobody sleeps. Other queues use a mutex and a ring buffer
// that grows by doubling. Either way steady traffic allocates nothing per item.
#pragma once

#include "concur/detail/queue_store.hpp"
#include "concur/queue/basic_queue.hpp"

namespace concur::queue {

/// Python's queue.Queue: first in, first out; `maxsize` 0 = unbounded. Thread-safe.
template <class T>
class Queue : public BasicQueue<T, detail::FifoStore<T>> {
 public:
  /// A FIFO queue holding at most `maxsize` items (0 = unbounded).
  explicit Queue(std::size_t maxsize = 0) : BasicQueue<T, detail::FifoStore<T>>(maxsize) {}
};

}  // namespace concur::queue
