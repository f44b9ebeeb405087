// concur/queue/options.hpp — the keyword arguments of put()/get() and the non-throwing status.
//
// `q.put(item, {.block = true, .timeout = 2s})` is Python's `q.put(item, block=True, timeout=2)`.
// Fields follow Python's signature order and defaults. A timeout is ignored when block is false
// (as in Python); an empty timeout waits forever; zero or negative polls (Python raises
// ValueError for a negative timeout; concur treats it as zero, like every concur timeout).
#pragma once

#include "concur/timeout.hpp"

namespace concur::queue {

/// Keyword arguments of put(): Python's `block=True, timeout=None`.
struct PutOptions {
  bool block = true;
  Timeout timeout{};
};

/// Keyword arguments of get(): Python's `block=True, timeout=None`.
struct GetOptions {
  bool block = true;
  Timeout timeout{};
};

/// Outcome of the non-throwing forms try_put() / try_get(): which exception the Python-named
/// form would have raised, or ok.
enum class Status : unsigned char {
  ok,         ///< the item was put / got
  full,       ///< put: no free slot in time (Python would raise queue.Full)
  empty,      ///< get: no item in time (Python would raise queue.Empty)
  shut_down,  ///< put after shutdown(), or get on a shut-down, drained queue (queue.ShutDown)
};

/// The name of a status, for messages and tests ("ok", "full", "empty", "shut_down").
constexpr const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::ok: return "ok";
    case Status::full: return "full";
    case Status::empty: return "empty";
    case Status::shut_down: return "shut_down";
  }
  return "?";
}

}  // namespace concur::queue
