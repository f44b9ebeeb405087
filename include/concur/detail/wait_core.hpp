// concur/detail/wait_core.hpp — the compiled core of futures::wait() and futures::as_completed().
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "concur/detail/future_state.hpp"

namespace concur::detail {

enum class WaitCondition { first_completed, first_exception, all_completed };

/// Blocks until the condition holds for `states` or the deadline passes; returns, per state,
/// whether it was done at the end. Pool workers run queued pool work while they wait.
std::vector<char> wait_states(const std::vector<FutureStateBase*>& states, WaitCondition cond,
                              std::optional<Clock::time_point> deadline);

/// Yields the indices of `states` as they complete: those already done first (in input order),
/// then in completion order. Listeners are removed on destruction. Not thread-safe.
class CompletionQueue {
 public:
  explicit CompletionQueue(std::vector<FutureStateBase*> states);
  ~CompletionQueue();
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;
  /// The next completed index; nullopt when every state was yielded. Throws TimeoutError.
  std::optional<std::size_t> next(std::optional<Clock::time_point> deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace concur::detail
