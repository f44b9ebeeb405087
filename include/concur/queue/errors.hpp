// concur/queue/errors.hpp — the exceptions of Python's `queue` module.
//
// queue::Full     — put_nowait() on a full queue, or put() whose timeout ran out (Python: queue.Full).
// queue::Empty    — get_nowait() on an empty queue, or get() whose timeout ran out (queue.Empty).
// queue::ShutDown — put() after shutdown(), or get() on a queue shut down and drained (3.13's
//                   queue.ShutDown).
// All derive from concur::Error. A std::stop_token that interrupts a blocked put()/get() throws
// concur::CancelledError instead.
#pragma once

#include "concur/error.hpp"

namespace concur::queue {

/// Raised by put()/put_nowait() when no slot frees up in time (Python: queue.Full).
class Full : public Error {
 public:
  Full() : Error("queue.Full: the queue is full") {}
  using Error::Error;
};

/// Raised by get()/get_nowait() when no item arrives in time (Python: queue.Empty).
class Empty : public Error {
 public:
  Empty() : Error("queue.Empty: the queue is empty") {}
  using Error::Error;
};

/// Raised by put() on a queue that was shut down, and by get() on a queue that was shut down and
/// has no item left (Python 3.13: queue.ShutDown).
class ShutDown : public Error {
 public:
  ShutDown() : Error("queue.ShutDown: the queue was shut down") {}
  using Error::Error;
};

}  // namespace concur::queue
