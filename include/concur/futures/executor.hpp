// concur/futures/executor.hpp — concurrent.futures.Executor: the interface every pool shares.
//
//   Python                                        concur
//   with ThreadPoolExecutor() as ex:              { ThreadPoolExecutor ex;   // RAII
//       f = ex.submit(fn, a, b)                       auto f = ex.submit(fn, a, b);
//       for r in ex.map(fn, xs, timeout=5):           for (auto r : ex.map(fn, xs, {.timeout = 5s}))
//   ex.shutdown(wait=True, cancel_futures=False)  ex.shutdown({.wait = true, .cancel_futures = false});
//
// Differences forced by C++: map() takes one range (zip several with std::views::zip-like code
// before calling); map() of a function returning void is not supported (use submit()).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "concur/futures/future.hpp"
#include "concur/timeout.hpp"

namespace concur::futures {

/// shutdown()'s keywords, with Python's defaults.
struct ShutdownOptions {
  bool wait = true;             ///< block until every pending call has run and workers exited
  bool cancel_futures = false;  ///< cancel calls not yet started (and request stop on running ones)
};

/// map()'s keywords, with Python's defaults (buffersize as in Python 3.14).
struct MapOptions {
  Timeout timeout{};                      ///< for the whole iteration, from the map() call
  std::size_t chunksize = 1;              ///< calls per message (process pools; ignored by threads)
  std::optional<std::size_t> buffersize{};  ///< at most this many calls run ahead of the consumer
};

/// The abstract executor: what every pool implements.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Signals that no more calls will be submitted; see ShutdownOptions. Idempotent.
  virtual void shutdown(ShutdownOptions options = {}) = 0;
};

/// The lazy, ordered results of Executor::map(): an input range. Iterating blocks for the next
/// result in input order, rethrows a call's exception at that element, and throws TimeoutError
/// when the map's deadline passes. Destroying it cancels the calls not yet started (Python cancels
/// them when the generator is closed). Not thread-safe: iterate from one thread.
template <class R>
class MapResults {
 public:
  static_assert(!std::is_void_v<R>, "map() needs a function that returns a value; use submit()");
  /// Submits the next call, or returns nullopt when the input is exhausted.
  using Refill = std::function<std::optional<Future<R>>()>;

  MapResults(std::deque<Future<R>> pending, Refill refill,
             std::optional<std::chrono::steady_clock::time_point> deadline)
      : pending_(std::move(pending)), refill_(std::move(refill)), deadline_(deadline) {}
  MapResults(MapResults&&) noexcept = default;
  MapResults& operator=(MapResults&&) noexcept = default;
  ~MapResults() {
    for (auto& f : pending_) f.cancel();
  }

  struct sentinel {};
  class iterator;
  friend class iterator;
  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(MapResults* m) : m_(m) {}
    /// Blocks until the next result (in input order) is ready; the value is moved out.
    R operator*() const { return m_->take_front(); }
    iterator& operator++() {
      m_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, sentinel) { return it.m_->pending().empty(); }

   private:
    MapResults* m_ = nullptr;
  };
  iterator begin() { return iterator(this); }
  sentinel end() const { return {}; }

  /// The futures not yet consumed, in input order.
  const std::deque<Future<R>>& pending() const noexcept { return pending_; }

 private:
  R take_front() {
    Future<R>& f = pending_.front();
    if (deadline_ && !f.state()->wait_until(*deadline_)) throw TimeoutError();
    return f.take();
  }
  void advance() {
    pending_.pop_front();
    if (refill_) {
      if (auto next = refill_()) pending_.push_back(std::move(*next));
      else refill_ = nullptr;
    }
  }

  std::deque<Future<R>> pending_;
  Refill refill_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

namespace detail_map {

/// The generic map(): submits fn(x) for each x of the range through `submit_one`, all at once
/// or at most `buffersize` ahead. Executors call it from their map().
template <class R, class Range, class SubmitOne>
MapResults<R> map_range(Range&& range, const MapOptions& options, SubmitOne submit_one) {
  const auto deadline = deadline_from(options.timeout);
  std::deque<Future<R>> pending;
  if (!options.buffersize) {
    for (auto&& x : range) pending.push_back(submit_one(std::forward<decltype(x)>(x)));
    return MapResults<R>(std::move(pending), nullptr, deadline);
  }
  if (*options.buffersize == 0) throw ValueError("buffersize must be positive");
  // Keep the (viewed) input alive with its position, so calls are submitted as results are read.
  using View = std::views::all_t<Range>;
  struct Cursor {
    View view;
    std::ranges::iterator_t<View> it;
    explicit Cursor(View v) : view(std::move(v)), it(std::ranges::begin(view)) {}
  };
  auto cursor = std::make_shared<Cursor>(std::views::all(std::forward<Range>(range)));
  auto refill = [cursor, submit_one]() mutable -> std::optional<Future<R>> {
    if (cursor->it == std::ranges::end(cursor->view)) return std::nullopt;
    auto f = submit_one(*cursor->it);
    ++cursor->it;
    return f;
  };
  for (std::size_t i = 0; i < *options.buffersize; ++i) {
    auto f = refill();
    if (!f) return MapResults<R>(std::move(pending), nullptr, deadline);
    pending.push_back(std::move(*f));
  }
  return MapResults<R>(std::move(pending), std::move(refill), deadline);
}

}  // namespace detail_map
}  // namespace concur::futures
