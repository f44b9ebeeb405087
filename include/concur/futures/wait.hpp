// concur/futures/wait.hpp — concurrent.futures.wait() and as_completed().
//
//   Python                                               concur
//   done, not_done = wait(fs, timeout=5,                 auto [done, not_done] = wait(fs, {.timeout = 5s,
//                         return_when=FIRST_COMPLETED)          .return_when = FIRST_COMPLETED});
//   for f in as_completed(fs, timeout=10): ...           for (auto f : as_completed(fs, 10s)) ...
//
// Both take any range of Future<T> (or AnyFuture, to mix result types and executors:
// `wait({AnyFuture(f1), f2})`). Differences forced by C++: done/not_done are vectors in input
// order (Python: sets); duplicates are kept in wait() and yielded once by as_completed().
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/wait_core.hpp"
#include "concur/futures/future.hpp"
#include "concur/timeout.hpp"

namespace concur::futures {

/// wait()'s return_when.
enum class ReturnWhen {
  FIRST_COMPLETED = static_cast<int>(concur::detail::WaitCondition::first_completed),
  FIRST_EXCEPTION = static_cast<int>(concur::detail::WaitCondition::first_exception),
  ALL_COMPLETED = static_cast<int>(concur::detail::WaitCondition::all_completed),
};
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
/// Returns when any future finishes with an exception (cancelled ones do not count), or when
/// all are done.
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// wait()'s keywords with Python's defaults.
struct WaitOptions {
  Timeout timeout{};
  ReturnWhen return_when = ALL_COMPLETED;
};

/// wait()'s result: Python's named tuple DoneAndNotDoneFutures.
template <class F>
struct DoneAndNotDone {
  std::vector<F> done;
  std::vector<F> not_done;
};

template <class F>
concept FutureHandle = requires(const F& f) {
  { f.state() } -> std::convertible_to<concur::detail::FutureStateBase*>;
};

/// Blocks until the return_when condition holds or the timeout passes (no TimeoutError: the
/// futures still pending are in not_done). On a pool worker, runs queued pool work meanwhile.
template <std::ranges::input_range Range>
  requires FutureHandle<std::ranges::range_value_t<Range>>
auto wait(const Range& fs, WaitOptions options = {}) {
  using F = std::ranges::range_value_t<Range>;
  std::vector<F> all(std::ranges::begin(fs), std::ranges::end(fs));
  std::vector<concur::detail::FutureStateBase*> states;
  states.reserve(all.size());
  for (const F& f : all) states.push_back(f.state());
  const auto flags = concur::detail::wait_states(
      states, static_cast<concur::detail::WaitCondition>(options.return_when), deadline_from(options.timeout));
  DoneAndNotDone<F> r;
  for (std::size_t i = 0; i < all.size(); ++i) (flags[i] ? r.done : r.not_done).push_back(all[i]);
  return r;
}
inline DoneAndNotDone<AnyFuture> wait(std::initializer_list<AnyFuture> fs, WaitOptions options = {}) {
  return wait(std::vector<AnyFuture>(fs), options);
}

/// The range returned by as_completed(): an input range of futures, each yielded once when
/// done. Incrementing past the last done future blocks; it throws TimeoutError when the
/// timeout (measured from the as_completed() call) passes first. Not thread-safe.
template <class F>
class AsCompleted {
 public:
  class iterator;
  friend class iterator;
  AsCompleted(std::vector<F> fs, Timeout timeout) : deadline_(deadline_from(timeout)) {
    std::vector<concur::detail::FutureStateBase*> states;
    for (F& f : fs) {
      bool seen = false;  // Python takes a set: each future once
      for (const F& g : futures_) seen = seen || g.state() == f.state();
      if (!seen) {
        states.push_back(f.state());
        futures_.push_back(std::move(f));
      }
    }
    queue_ = std::make_unique<concur::detail::CompletionQueue>(std::move(states));
  }

  struct sentinel {};
  class iterator {
   public:
    using value_type = F;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(AsCompleted* r) : r_(r) { r_->advance(); }
    const F& operator*() const { return r_->futures_[*r_->current_]; }
    iterator& operator++() {
      r_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, sentinel) { return it.done(); }
    bool done() const noexcept { return !r_->current_; }

   private:
    AsCompleted* r_ = nullptr;
  };
  /// Starts the iteration (blocks until the first future is done).
  iterator begin() { return iterator(this); }
  sentinel end() const { return {}; }

 private:
  void advance() { current_ = queue_->next(deadline_); }


  std::vector<F> futures_;
  std::unique_ptr<concur::detail::CompletionQueue> queue_;
  std::optional<concur::detail::Clock::time_point> deadline_;
  std::optional<std::size_t> current_;
};

/// Yields the futures as they complete (finished or cancelled): those already done first.
template <std::ranges::input_range Range>
  requires FutureHandle<std::ranges::range_value_t<Range>>
auto as_completed(const Range& fs, Timeout timeout = std::nullopt) {
  using F = std::ranges::range_value_t<Range>;
  return AsCompleted<F>(std::vector<F>(std::ranges::begin(fs), std::ranges::end(fs)), timeout);
}
inline AsCompleted<AnyFuture> as_completed(std::initializer_list<AnyFuture> fs,
                                           Timeout timeout = std::nullopt) {
  return AsCompleted<AnyFuture>(std::vector<AnyFuture>(fs), timeout);
}

}  // namespace concur::futures
