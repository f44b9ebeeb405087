// concur/detail/queue_ring.hpp — the lock-free core of a bounded concur::queue::Queue (not
// public API).
//
// QueueRing<T> is a bounded multi-producer multi-consumer ring with one sequence number per slot
// (D. Vyukov's bounded MPMC queue), extended with everything Python's queue.Queue promises:
// blocking with deadlines and stop tokens, task_done()/join() and 3.13's shutdown(immediate).
// Queue<T>(maxsize > 0) uses it when T's move constructor is noexcept; every other queue uses the
// mutex-guarded stores of queue_store.hpp.
//
// How it stays exactly Python's queue while taking no lock:
//   * `enq_` counts the slots producers have claimed, `deq_` those consumers have claimed. A put
//     takes effect when its claim (a CAS on enq_) succeeds, a get when its claim on deq_ does.
//     A get that finds a slot claimed but not yet filled waits for that producer (a few
//     instructions, unless the producer was preempted) instead of reporting Empty, and a put
//     that finds a slot claimed but not yet emptied waits likewise; so Empty means
//     enq_ == deq_ and Full means enq_ - deq_ == maxsize at one instant, as under a mutex.
//   * The shutdown flag is the top bit of enq_, so a put either claims its slot before shutdown()
//     or fails with ShutDown; shutdown(immediate) then drains exactly the items claimed before it.
//   * The unfinished-task count is enq_ - done_: a put adds nothing beyond its claim, and
//     task_done() increments done_ with a CAS that refuses to pass enq_ (ValueError).
//   * Sleeping uses QueueEvent (an event count): a put or get that changes nothing anybody
//     waits for makes no system call and writes no shared line beyond its claim and its slot.
//     Before sleeping, a waiter polls for kQueueSpinBudget without registering, so a hand-off
//     between two running threads never reaches the kernel.
// Cache layout: enq_, deq_, the three events and the read-only fields sit on separate lines, so
// producers and consumers share only the slots they hand over.
// Memory ordering: filling a slot happens-before the get that empties it (release/acquire on the
// slot's sequence); task_done() happens-before the join() it releases returns.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "concur/detail/queue_sync.hpp"
#include "concur/error.hpp"
#include "concur/queue/options.hpp"

namespace concur::detail {

/// Bounded lock-free MPMC ring with Python queue semantics (see the file comment).
/// Thread-safety: every member may be called concurrently, except the destructor.
template <class T>
class QueueRing {
  static_assert(std::is_nothrow_move_constructible_v<T>, "QueueRing moves items in after claiming a slot");

 public:
  using Clock = std::chrono::steady_clock;
  using Deadline = std::optional<Clock::time_point>;
  using Status = queue::Status;

  /// A ring of exactly `capacity` slots (Python's maxsize). Requires capacity >= 2: with one slot
  /// the sequence of a filled slot equals that of the freed one.
  explicit QueueRing(std::size_t capacity)
      : cap_(capacity),
        mask_(std::has_single_bit(capacity) ? capacity - 1 : 0),
        slots_(std::make_unique<Slot[]>(capacity)) {
    for (std::size_t i = 0; i < capacity; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  QueueRing(const QueueRing&) = delete;
  QueueRing& operator=(const QueueRing&) = delete;
  /// Destroys the items left. Must not race with any other call.
  ~QueueRing() {
    const std::uint64_t end = enq_.load(std::memory_order_acquire) & kCount;
    for (std::uint64_t pos = deq_.load(std::memory_order_acquire); pos < end; ++pos) std::destroy_at(slot(pos).item());
  }

  // ---- put ------------------------------------------------------------------------------------

  /// One attempt, never sleeps: ok (item moved in), full or shut_down (item untouched).
  Status try_push(T& item) noexcept {
    std::uint64_t pos = enq_.load(std::memory_order_relaxed);
    for (unsigned spins = 0;; ++spins) {
      if (pos & kClosed) return Status::shut_down;
      Slot& s = slot(pos);
      const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq == pos) {
        if (enq_.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(s.storage)) T(std::move(item));
          s.seq.store(pos + 1, std::memory_order_release);
          not_empty_.notify_one();
          return Status::ok;
        }
        continue;  // pos was reloaded by the failed CAS
      }
      if (seq < pos) {
        // The slot still holds the item put cap_ claims ago: full, unless a consumer has claimed
        // it and is moving it out right now.
        const std::uint64_t taken = deq_.load(std::memory_order_seq_cst);
        const std::uint64_t now = enq_.load(std::memory_order_seq_cst);
        if (now != pos) {
          pos = now;
          continue;
        }
        if (pos - taken >= cap_) return Status::full;
        backoff(spins);
      }
      pos = enq_.load(std::memory_order_relaxed);
    }
  }

  /// Python's put(): try_push(), then (block) spin briefly and sleep until there is room, the
  /// queue is shut down, `deadline` passes (full) or `stop` is requested (CancelledError).
  Status push(T& item, bool block, const Timeout& timeout, const std::stop_token* stop) {
    Status s = try_push(item);
    if (s != Status::full || !block) return s;
    const Deadline deadline = deadline_from(timeout);
    if (expired(deadline)) return Status::full;
    if (spin_first(put_spinners_, [&] { return !looks_full(); })) {
      s = try_push(item);
      if (s != Status::full) return s;
    }
    std::optional<std::stop_callback<QueueEventInterrupt>> on_stop;
    if (stop != nullptr && stop->stop_possible()) on_stop.emplace(*stop, QueueEventInterrupt{&not_full_});
    for (;;) {
      const std::uint32_t epoch = not_full_.prepare_wait();
      s = try_push(item);  // shutdown is checked first, as CPython does after each wake
      if (s != Status::full) {
        not_full_.finish_wait();
        return s;
      }
      if (stop != nullptr && stop->stop_requested()) {
        not_full_.finish_wait();
        throw CancelledError("queue put() cancelled");
      }
      if (expired(deadline)) {
        not_full_.finish_wait();
        return Status::full;
      }
      (void)not_full_.wait(epoch, deadline);
      not_full_.finish_wait();
    }
  }

  // ---- get ------------------------------------------------------------------------------------

  /// One attempt, never sleeps: ok (out holds the item), empty, or shut_down (shut down and
  /// drained).
  Status try_pop(std::optional<T>& out) noexcept {
    std::uint64_t pos = deq_.load(std::memory_order_relaxed);
    for (unsigned spins = 0;; ++spins) {
      Slot& s = slot(pos);
      const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
      if (seq == pos + 1) {
        if (deq_.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
          T* item = s.item();
          out.emplace(std::move(*item));
          std::destroy_at(item);
          s.seq.store(pos + cap_, std::memory_order_release);
          not_full_.notify_one();
          return Status::ok;
        }
        continue;
      }
      if (seq < pos + 1) {
        // Not filled yet: empty, unless a producer has claimed the slot and is filling it.
        const std::uint64_t put = enq_.load(std::memory_order_seq_cst);
        const std::uint64_t now = deq_.load(std::memory_order_seq_cst);
        if (now != pos) {
          pos = now;
          continue;
        }
        if ((put & kCount) <= pos) return (put & kClosed) ? Status::shut_down : Status::empty;
        backoff(spins);
      }
      pos = deq_.load(std::memory_order_relaxed);
    }
  }

  /// Python's get(): try_pop(), then (block) spin briefly and sleep until an item arrives, the
  /// queue is shut down and drained, `deadline` passes (empty) or `stop` is requested
  /// (CancelledError). An available item wins over a stop request or an expired deadline.
  Status pop(std::optional<T>& out, bool block, const Timeout& timeout, const std::stop_token* stop) {
    Status s = try_pop(out);
    if (s != Status::empty || !block) return s;
    const Deadline deadline = deadline_from(timeout);
    if (expired(deadline)) return Status::empty;
    if (spin_first(get_spinners_, [&] { return !looks_empty(); })) {
      s = try_pop(out);
      if (s != Status::empty) return s;
    }
    std::optional<std::stop_callback<QueueEventInterrupt>> on_stop;
    if (stop != nullptr && stop->stop_possible()) on_stop.emplace(*stop, QueueEventInterrupt{&not_empty_});
    for (;;) {
      const std::uint32_t epoch = not_empty_.prepare_wait();
      s = try_pop(out);
      if (s != Status::empty) {
        not_empty_.finish_wait();
        return s;
      }
      if (stop != nullptr && stop->stop_requested()) {
        not_empty_.finish_wait();
        throw CancelledError("queue get() cancelled");
      }
      if (expired(deadline)) {
        not_empty_.finish_wait();
        return Status::empty;
      }
      (void)not_empty_.wait(epoch, deadline);
      not_empty_.finish_wait();
    }
  }

  // ---- sizes ----------------------------------------------------------------------------------

  /// Items claimed by puts and not yet claimed by gets (exact when no other thread is active).
  std::size_t size() const noexcept {
    const std::uint64_t taken = deq_.load(std::memory_order_acquire);
    const std::uint64_t put = enq_.load(std::memory_order_acquire) & kCount;
    const std::uint64_t n = put > taken ? put - taken : 0;
    return static_cast<std::size_t>(n < cap_ ? n : cap_);
  }
  bool is_shutdown() const noexcept { return (enq_.load(std::memory_order_acquire) & kClosed) != 0; }

  // ---- task tracking --------------------------------------------------------------------------

  /// Python's task_done(): false (and no change) when called more often than items were put.
  [[nodiscard]] bool task_done() noexcept {
    std::uint64_t done = done_.load(std::memory_order_relaxed);
    std::uint64_t put = 0;
    do {
      put = enq_.load(std::memory_order_seq_cst) & kCount;
      if (done >= put) return false;
    } while (!done_.compare_exchange_weak(done, done + 1, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (done + 1 == (enq_.load(std::memory_order_seq_cst) & kCount)) all_done_.notify_all();
    return true;
  }
  /// Python's unfinished_tasks.
  std::size_t unfinished() const noexcept {
    // done_ first: if enq_ read afterwards equals it, the count was zero at that instant.
    const std::uint64_t done = done_.load(std::memory_order_seq_cst);
    const std::uint64_t put = enq_.load(std::memory_order_seq_cst) & kCount;
    return static_cast<std::size_t>(put - done);
  }
  /// join() with an optional deadline: true once the unfinished count is zero.
  bool join_until(const Deadline& deadline) {
    for (;;) {
      if (unfinished() == 0) return true;
      if (expired(deadline)) return false;
      const std::uint32_t epoch = all_done_.prepare_wait();
      if (unfinished() == 0) {
        all_done_.finish_wait();
        return true;
      }
      (void)all_done_.wait(epoch, deadline);
      all_done_.finish_wait();
    }
  }

  // ---- shutdown -------------------------------------------------------------------------------

  /// Python 3.13's shutdown(immediate): see BasicQueue::shutdown. Never blocks (an immediate
  /// shutdown waits only for puts already claimed to finish filling their slots).
  void shutdown(bool immediate) noexcept {
    enq_.fetch_or(kClosed, std::memory_order_seq_cst);
    if (immediate) {
      std::uint64_t dropped = 0;
      std::optional<T> item;
      while (try_pop(item) == Status::ok) {
        item.reset();
        ++dropped;
      }
      // Each dropped item counts as done, but never more than were put (CPython: "if
      // unfinished_tasks > 0: unfinished_tasks -= 1").
      std::uint64_t done = done_.load(std::memory_order_relaxed);
      const std::uint64_t put = enq_.load(std::memory_order_seq_cst) & kCount;
      std::uint64_t next = 0;
      do {
        next = done + dropped < put ? done + dropped : put;
      } while (!done_.compare_exchange_weak(done, next, std::memory_order_seq_cst, std::memory_order_relaxed));
      all_done_.notify_all();
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  static constexpr std::uint64_t kClosed = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kCount = kClosed - 1;
  // 128: AMD and Intel prefetch cache lines in adjacent pairs.
  static constexpr std::size_t kLine = 128;

  struct Slot {
    std::atomic<std::uint64_t> seq{0};  // == pos: free for put `pos`; == pos + 1: filled for get `pos`
    alignas(T) unsigned char storage[sizeof(T)];
    T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  Slot& slot(std::uint64_t pos) const noexcept {
    return slots_[mask_ != 0 ? (pos & mask_) : pos % cap_];
  }
  static bool expired(const Deadline& deadline) { return deadline && Clock::now() >= *deadline; }
  // Cheap predicates for the pre-sleep poll: they watch the next slot itself, which the other
  // side writes anyway, and not the other side's counter (reading enq_ on every poll would pull
  // the producers' line away from them on every put). A wrong answer only costs one more
  // attempt, and shutdown needs no check here: the poll is short and the sleep that follows
  // re-checks everything.
  bool looks_empty() const noexcept {
    const std::uint64_t pos = deq_.load(std::memory_order_relaxed);
    return slot(pos).seq.load(std::memory_order_relaxed) != pos + 1;
  }
  bool looks_full() const noexcept {
    const std::uint64_t pos = enq_.load(std::memory_order_relaxed) & kCount;
    return slot(pos).seq.load(std::memory_order_relaxed) != pos;
  }
  // The pre-sleep poll, by at most one thread per side at a time: with more threads than CPUs, a
  // second producer polling a full queue (or consumer polling an empty one) would only keep a
  // CPU from the thread that can make progress; it sleeps at once instead.
  template <class Ready>
  static bool spin_first(std::atomic<std::uint32_t>& spinners, Ready&& ready) noexcept {
    if (spinners.load(std::memory_order_relaxed) != 0 || spinners.exchange(1, std::memory_order_relaxed) != 0)
      return ready();
    const bool ok = queue_spin_until(ready);
    spinners.store(0, std::memory_order_relaxed);
    return ok;
  }
  // Waiting for another thread to finish a few-instruction step (fill or empty one slot).
  static void backoff(unsigned spins) noexcept {
    if (spins < 64) queue_cpu_relax();
    else queue_yield();  // it was preempted there; let it run
  }

  // Producers' line, consumers' line, then the events each side reads on every operation.
  alignas(kLine) std::atomic<std::uint64_t> enq_{0};  // claimed by puts | kClosed
  alignas(kLine) std::atomic<std::uint64_t> deq_{0};  // claimed by gets
  alignas(kLine) QueueEvent not_empty_;                // get() sleeps here
  alignas(kLine) QueueEvent not_full_;                 // put() sleeps here
  alignas(kLine) std::atomic<std::uint32_t> put_spinners_{0};  // 1 while a put() polls (spin_first)
  std::atomic<std::uint32_t> get_spinners_{0};                 // 1 while a get() polls
  alignas(kLine) std::atomic<std::uint64_t> done_{0};  // task_done() calls + items dropped
  QueueEvent all_done_;                                // join() sleeps here
  alignas(kLine) const std::size_t cap_;
  const std::size_t mask_;  // cap_ - 1 when cap_ is a power of two (cap_ >= 2), else 0
  const std::unique_ptr<Slot[]> slots_;
};

}  // namespace concur::detail
