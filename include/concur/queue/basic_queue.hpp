// concur/queue/basic_queue.hpp — the machinery shared by Queue, LifoQueue and PriorityQueue.
//
// BasicQueue<T, Store> is Python's queue.Queue with the item order left to `Store` (FIFO ring,
// LIFO stack, min-heap; see concur/detail/queue_store.hpp). Users name Queue<T>, LifoQueue<T> or
// PriorityQueue<T, Compare>; this header documents what they all do.
//
// Semantics are CPython 3.13's queue module, shutdown() included:
//   * put() raises ShutDown once shutdown() was called (even when there is room);
//   * get() keeps returning the items left after shutdown(), then raises ShutDown;
//   * shutdown(true) ("immediate") also drops every queued item, counting each one as done for
//     join(), and every blocked put()/get()/join() wakes up.
//   As in CPython, an item already taken by get() still needs its task_done() before join()
//   returns, even after shutdown(true).
// C++ additions: try_put()/try_get() report a Status instead of throwing; a std::stop_token
// interrupts a blocked put()/get() with concur::CancelledError; join(timeout) returns false when
// time runs out; `for (auto item : q)` yields items until the queue is shut down and drained,
// calling task_done() for each item once the loop body is done with it (the seeds'
// ClosableQueue.__iter__).
//
// Thread-safety: every member function may be called from any thread concurrently, except the
// destructor, which must not race with any other call. Items are moved in and out, never copied
// (a `const T&` put copies once into the queue, as you asked), so move-only types work.
// Blocking: put() (bounded queue, full), get() (empty) and join() block; everything else takes
// the queue's mutex briefly or nothing at all. A bounded Queue<T> of nothrow-movable items takes
// no lock at all: it runs on a lock-free ring (concur/detail/queue_ring.hpp) whose put()/get()
// make no system call while nobody sleeps. A thread that must wait first polls for a few
// microseconds without being registered as a sleeper (a futex sleep + wake costs tens of
// microseconds on a VM), then sleeps on a futex; wake-ups are issued only when someone sleeps.
// Memory ordering: everything the putting thread did before put() happens-before everything the
// getting thread does after get() returns that item; task_done() happens-before the join() it
// releases returns.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <mutex>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/queue_ring.hpp"
#include "concur/detail/queue_store.hpp"
#include "concur/detail/queue_sync.hpp"
#include "concur/error.hpp"
#include "concur/queue/errors.hpp"
#include "concur/queue/options.hpp"
#include "concur/timeout.hpp"

namespace concur::queue {

/// Python's queue.Queue, parametrized by the item order (see the file comment for semantics).
template <class T, class Store>
class BasicQueue {
 public:
  using value_type = T;
  class iterator;

  /// A queue holding at most `maxsize` items; 0 (Python's default, or any maxsize <= 0 in Python)
  /// means unbounded. Extra arguments construct the Store (e.g. a comparator).
  template <class... StoreArgs>
  explicit BasicQueue(std::size_t maxsize = 0, StoreArgs&&... store_args)
      : store_(std::forward<StoreArgs>(store_args)...), maxsize_(maxsize) {
    if constexpr (kRingCapable) {
      if (maxsize_ >= 2 && maxsize_ <= kRingMaxBytes / sizeof(T)) {
        ring_ = std::make_unique<detail::QueueRing<T>>(maxsize_);
        return;
      }
    }
    if (maxsize_ > 0) store_.reserve(std::min<std::size_t>(maxsize_, 1024));
  }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;
  ~BasicQueue() = default;

  // ---- put ------------------------------------------------------------------------------------

  /// Python's put(item, block=True, timeout=None). Blocks while a bounded queue is full.
  /// Throws ShutDown after shutdown(); Full when block is false or the timeout ran out.
  void put(T&& item, PutOptions options = {}) { raise_put(put_impl(std::move(item), options, nullptr)); }
  void put(const T& item, PutOptions options = {})
    requires std::copy_constructible<T>
  {
    raise_put(put_impl(item, options, nullptr));
  }
  /// put() that a stop request interrupts while blocked: throws concur::CancelledError.
  void put(T&& item, std::stop_token stop, PutOptions options = {}) {
    raise_put(put_impl(std::move(item), options, &stop));
  }
  void put(const T& item, std::stop_token stop, PutOptions options = {})
    requires std::copy_constructible<T>
  {
    raise_put(put_impl(item, options, &stop));
  }
  /// Python's put_nowait(item) == put(item, {.block = false}).
  void put_nowait(T&& item) { put(std::move(item), PutOptions{.block = false}); }
  void put_nowait(const T& item)
    requires std::copy_constructible<T>
  {
    put(item, PutOptions{.block = false});
  }
  /// put() without exceptions, non-blocking unless options say otherwise. The item is moved from
  /// only when the result is Status::ok; otherwise the caller still owns it.
  [[nodiscard]] Status try_put(T&& item, PutOptions options = PutOptions{.block = false}) {
    return put_impl(std::move(item), options, nullptr);
  }
  [[nodiscard]] Status try_put(const T& item, PutOptions options = PutOptions{.block = false})
    requires std::copy_constructible<T>
  {
    return put_impl(item, options, nullptr);
  }

  // ---- get ------------------------------------------------------------------------------------

  /// Python's get(block=True, timeout=None): removes and returns the next item, blocking while
  /// the queue is empty. Throws ShutDown when the queue is shut down and empty; Empty when block
  /// is false or the timeout ran out.
  T get(GetOptions options = {}) {
    std::optional<T> out;
    raise_get(get_impl(out, options, nullptr));
    return std::move(*out);
  }
  /// get() that a stop request interrupts while blocked: throws concur::CancelledError.
  T get(std::stop_token stop, GetOptions options = {}) {
    std::optional<T> out;
    raise_get(get_impl(out, options, &stop));
    return std::move(*out);
  }
  /// Python's get_nowait() == get({.block = false}).
  T get_nowait() { return get(GetOptions{.block = false}); }
  /// get() without exceptions, non-blocking unless options say otherwise: nullopt when empty
  /// (or timed out) or shut down and drained; is_shutdown() tells the two apart, since a queue
  /// that is shut down and empty stays so.
  [[nodiscard]] std::optional<T> try_get(GetOptions options = GetOptions{.block = false}) {
    std::optional<T> out;
    (void)get_impl(out, options, nullptr);
    return out;
  }
  /// try_get() into `out` (move-assigned only on Status::ok), reporting empty vs shut_down.
  [[nodiscard]] Status try_get(T& out, GetOptions options = GetOptions{.block = false}) {
    std::optional<T> got;
    const Status s = get_impl(got, options, nullptr);
    if (s == Status::ok) out = std::move(*got);
    return s;
  }

  // ---- size -----------------------------------------------------------------------------------

  /// Approximate number of items (exact when no other thread is active), lock-free.
  std::size_t qsize() const noexcept {
    if constexpr (kRingCapable)
      if (ring_) return ring_->size();
    return size_hint_.load(std::memory_order_relaxed);
  }
  /// qsize() == 0; like Python's, the answer may be stale when the caller acts on it.
  bool empty() const noexcept { return qsize() == 0; }
  /// A bounded queue holds maxsize() items (never true for an unbounded queue).
  bool full() const noexcept { return maxsize_ > 0 && qsize() >= maxsize_; }
  /// The bound given at construction; 0 = unbounded.
  std::size_t maxsize() const noexcept { return maxsize_; }

  // ---- task tracking --------------------------------------------------------------------------

  /// Marks one item taken by get() as processed. Throws concur::ValueError when called more
  /// times than items were put ("task_done() called too many times"). Never blocks.
  void task_done() {
    if constexpr (kRingCapable)
      if (ring_) {
        if (!ring_->task_done()) throw ValueError("task_done() called too many times");
        return;
      }
    bool wake = false;
    {
      std::unique_lock lock(mutex_);
      if (unfinished_ == 0) throw ValueError("task_done() called too many times");
      if (--unfinished_ == 0) wake = all_done_.arm_all();
    }
    if (wake) all_done_.wake_all();
  }
  /// Blocks until every item ever put has had its task_done() (or was dropped by
  /// shutdown(true)). Python's join().
  void join() { (void)join_until(std::nullopt); }
  /// join() bounded by `timeout` (C++ extension): true when all tasks are done, false on timeout.
  [[nodiscard]] bool join(Timeout timeout) { return join_until(deadline_from(timeout)); }
  /// Items put whose task_done() is still due (Python's unfinished_tasks attribute).
  std::size_t unfinished_tasks() const {
    if constexpr (kRingCapable)
      if (ring_) return ring_->unfinished();
    std::scoped_lock lock(mutex_);
    return unfinished_;
  }

  // ---- shutdown -------------------------------------------------------------------------------

  /// Python 3.13's shutdown(immediate=False): later puts raise ShutDown; gets drain what is left
  /// and then raise ShutDown. With immediate, the queued items are dropped now (destroyed after
  /// the mutex is released) and each counts as done for join(). Wakes every blocked put(),
  /// get() and (immediate) join(). Idempotent; never blocks beyond the mutex.
  void shutdown(bool immediate = false) {
    if constexpr (kRingCapable)
      if (ring_) return ring_->shutdown(immediate);
    std::vector<T> dropped;  // destroyed last, outside the mutex
    bool wake_get = false, wake_put = false, wake_join = false;
    {
      std::unique_lock lock(mutex_);
      shutdown_ = true;
      shutdown_hint_.store(true, std::memory_order_release);
      if (immediate) {
        dropped.reserve(store_.size());
        while (store_.size() > 0) {
          dropped.push_back(store_.pop());
          if (unfinished_ > 0) --unfinished_;
        }
        size_hint_.store(0, std::memory_order_relaxed);
        wake_join = all_done_.arm_all();
      }
      wake_get = not_empty_.arm_all();
      wake_put = not_full_.arm_all();
    }
    if (wake_get) not_empty_.wake_all();
    if (wake_put) not_full_.wake_all();
    if (wake_join) all_done_.wake_all();
  }
  /// shutdown() was called (Python 3.13's is_shutdown attribute).
  bool is_shutdown() const noexcept {
    if constexpr (kRingCapable)
      if (ring_) return ring_->is_shutdown();
    return shutdown_hint_.load(std::memory_order_acquire);
  }

  // ---- iteration ------------------------------------------------------------------------------

  /// Yields items (moved out: `*it` is T&&, as std::generator's) until the queue is shut down
  /// and drained. Each item's task_done() is called when the iterator moves past it or is
  /// destroyed (a `break` out of the loop). Several threads may iterate one queue at once.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    iterator(iterator&& other) noexcept : queue_(std::exchange(other.queue_, nullptr)), item_(std::move(other.item_)) {
      other.item_.reset();
    }
    iterator& operator=(iterator&& other) noexcept {
      if (this != &other) {
        settle();
        queue_ = std::exchange(other.queue_, nullptr);
        item_ = std::move(other.item_);
        other.item_.reset();
      }
      return *this;
    }
    ~iterator() { settle(); }

    T&& operator*() const { return std::move(*item_); }
    T* operator->() const { return &*item_; }
    iterator& operator++() {
      settle();
      advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return !it.item_.has_value(); }

   private:
    friend class BasicQueue;
    explicit iterator(BasicQueue* q) : queue_(q) { advance(); }
    void advance() {
      if (queue_ != nullptr && queue_->get_impl(item_, GetOptions{}, nullptr) != Status::ok) queue_ = nullptr;
    }
    void settle() noexcept {
      if (queue_ != nullptr && item_.has_value()) {
        item_.reset();
        queue_->task_done_quietly();
      }
    }
    BasicQueue* queue_ = nullptr;
    mutable std::optional<T> item_;  // holds the current item; its task_done() is owed
  };

  /// Starts an iteration: blocks for the first item (see iterator).
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const noexcept { return std::default_sentinel; }

 private:
  using Clock = std::chrono::steady_clock;
  using Deadline = std::optional<Clock::time_point>;

  static void raise_put(Status s) {
    if (s == Status::full) throw Full();
    if (s == Status::shut_down) throw ShutDown();
  }
  static void raise_get(Status s) {
    if (s == Status::empty) throw Empty();
    if (s == Status::shut_down) throw ShutDown();
  }

  template <class U>
  Status put_impl(U&& item, const PutOptions& options, const std::stop_token* stop) {
    if constexpr (kRingCapable)
      if (ring_) {
        if constexpr (std::is_same_v<U, T>) {
          return ring_->push(item, options.block, options.timeout, stop);  // moved from only on ok
        } else {
          T copy(item);  // copy before claiming a slot: a throwing copy leaves the queue untouched
          return ring_->push(copy, options.block, options.timeout, stop);
        }
      }
    std::unique_lock lock(mutex_);
    if (shutdown_) return Status::shut_down;
    if (maxsize_ > 0 && store_.size() >= maxsize_) {
      if (!options.block) return Status::full;
      const Status s = wait_for_slot(lock, deadline_from(options.timeout), stop);
      if (s != Status::ok) return s;
    }
    store_.push(std::forward<U>(item));
    ++unfinished_;
    size_hint_.store(store_.size(), std::memory_order_relaxed);
    const bool wake = not_empty_.arm_one();
    lock.unlock();
    if (wake) not_empty_.wake_one();
    return Status::ok;
  }

  Status get_impl(std::optional<T>& out, const GetOptions& options, const std::stop_token* stop) {
    if constexpr (kRingCapable)
      if (ring_) return ring_->pop(out, options.block, options.timeout, stop);
    std::unique_lock lock(mutex_);
    if (store_.size() == 0) {
      if (shutdown_) return Status::shut_down;
      if (!options.block) return Status::empty;
      const Status s = wait_for_item(lock, deadline_from(options.timeout), stop);
      if (s != Status::ok) return s;
    }
    out.emplace(store_.pop());
    size_hint_.store(store_.size(), std::memory_order_relaxed);
    const bool wake = maxsize_ > 0 && not_full_.arm_one();
    lock.unlock();
    if (wake) not_full_.wake_one();
    return Status::ok;
  }

  static bool expired(const Deadline& deadline) { return deadline && Clock::now() >= *deadline; }

  // Slow path of get(): the queue is empty, lock held. Returns ok with an item available.
  Status wait_for_item(std::unique_lock<detail::QueueLock>& lock, const Deadline& deadline, const std::stop_token* stop) {
    if (expired(deadline)) return Status::empty;
    // Poll briefly before sleeping, unlocked and not counted as a sleeper, so that a put meant
    // for a running getter makes no system call (see detail::queue_spin_until).
    lock.unlock();
    (void)detail::queue_spin_until([this] {
      return size_hint_.load(std::memory_order_relaxed) != 0 || shutdown_hint_.load(std::memory_order_relaxed);
    });
    lock.lock();
    std::optional<std::stop_callback<detail::QueueInterrupt>> on_stop;
    if (stop != nullptr && stop->stop_possible()) on_stop.emplace(*stop, detail::QueueInterrupt{&not_empty_});
    for (;;) {
      // An available item wins over a stop request or an expired deadline, so a wake-up meant
      // for this thread is never lost.
      if (store_.size() > 0) return Status::ok;
      if (shutdown_) return Status::shut_down;
      if (stop != nullptr && stop->stop_requested()) throw CancelledError("queue get() cancelled");
      if (expired(deadline)) return Status::empty;
      (void)not_empty_.wait(lock, deadline);
    }
  }

  // Slow path of put(): the bounded queue is full, lock held. Returns ok with a slot free.
  Status wait_for_slot(std::unique_lock<detail::QueueLock>& lock, const Deadline& deadline, const std::stop_token* stop) {
    if (expired(deadline)) return Status::full;
    lock.unlock();
    (void)detail::queue_spin_until([this] {
      return size_hint_.load(std::memory_order_relaxed) < maxsize_ || shutdown_hint_.load(std::memory_order_relaxed);
    });
    lock.lock();
    std::optional<std::stop_callback<detail::QueueInterrupt>> on_stop;
    if (stop != nullptr && stop->stop_possible()) on_stop.emplace(*stop, detail::QueueInterrupt{&not_full_});
    for (;;) {
      if (shutdown_) return Status::shut_down;  // CPython checks shutdown first after each wake
      if (store_.size() < maxsize_) return Status::ok;
      if (stop != nullptr && stop->stop_requested()) throw CancelledError("queue put() cancelled");
      if (expired(deadline)) return Status::full;
      (void)not_full_.wait(lock, deadline);
    }
  }

  bool join_until(const Deadline& deadline) {
    if constexpr (kRingCapable)
      if (ring_) return ring_->join_until(deadline);
    std::unique_lock lock(mutex_);
    for (;;) {
      if (unfinished_ == 0) return true;
      if (expired(deadline)) return false;
      (void)all_done_.wait(lock, deadline);
    }
  }

  void task_done_quietly() noexcept {
    if constexpr (kRingCapable)
      if (ring_) {
        (void)ring_->task_done();
        return;
      }
    bool wake = false;
    {
      std::unique_lock lock(mutex_);
      if (unfinished_ == 0) return;
      if (--unfinished_ == 0) wake = all_done_.arm_all();
    }
    if (wake) all_done_.wake_all();
  }

  // A bounded FIFO of nothrow-movable items runs on the lock-free ring (detail/queue_ring.hpp)
  // unless maxsize is 1 (one slot cannot tell "filled" from "freed") or the ring would take
  // more than kRingMaxBytes up front; everything else on mutex_ +
  // store_ below, which grow on demand.
  static constexpr bool kRingCapable =
      std::is_same_v<Store, detail::FifoStore<T>> && std::is_nothrow_move_constructible_v<T>;
  static constexpr std::size_t kRingMaxBytes = std::size_t{4} << 20;
  struct NoRing {};
  std::conditional_t<kRingCapable, std::unique_ptr<detail::QueueRing<T>>, NoRing> ring_{};

  mutable detail::QueueLock mutex_;
  Store store_;                        // guarded by mutex_
  const std::size_t maxsize_;
  std::size_t unfinished_ = 0;         // guarded by mutex_
  bool shutdown_ = false;              // guarded by mutex_
  detail::QueueCondition not_empty_;   // get() sleeps here
  detail::QueueCondition not_full_;    // put() sleeps here (bounded queues)
  detail::QueueCondition all_done_;    // join() sleeps here
  // Lock-free mirrors for qsize()/is_shutdown(); written under mutex_.
  std::atomic<std::size_t> size_hint_{0};
  std::atomic<bool> shutdown_hint_{false};
};

}  // namespace concur::queue
