// futures::wait() and as_completed().
//
// ALL_COMPLETED waits on each future in turn (newest first). FIRST_COMPLETED / FIRST_EXCEPTION
// and as_completed put one listener on each unfinished future; a listener wakes the (single)
// waiting thread only when the condition may hold, and only issues a futex wake when that thread
// actually sleeps.
#include "concur/detail/wait_core.hpp"

#include <climits>
#include <deque>
#include <mutex>

#include "concur/error.hpp"

namespace concur::detail {

namespace {

bool failed(const FutureStateBase& s) {
  return s.status() == Status::finished && s.stored_exception() != nullptr;
}

/// A single-consumer event counter: bit 0 = the consumer sleeps; the rest counts notify() calls.
class Signal {
 public:
  std::uint32_t seen() const noexcept { return word_.load(std::memory_order_acquire) & ~1u; }
  void notify() noexcept {
    if (word_.fetch_add(2, std::memory_order_acq_rel) & 1u) futex_wake(word_, 1);
  }
  /// Waits until notify() was called after `seen` was read, or the deadline passes (false).
  /// On a pool worker, runs queued pool work first.
  bool wait(std::uint32_t seen, std::optional<Clock::time_point> deadline) noexcept {
    if (WaitHelper* helper = current_wait_helper()) {
      while (this->seen() == seen) {
        if (deadline && Clock::now() >= *deadline) return false;
        if (!helper->help_one()) break;
      }
    }
    std::uint32_t w = word_.load(std::memory_order_acquire);
    bool in_time = true;
    while ((w & ~1u) == seen && in_time) {
      if (!(w & 1u)) {
        if (!word_.compare_exchange_weak(w, w | 1u, std::memory_order_acq_rel)) continue;
        w |= 1u;
      }
      in_time = futex_wait(word_, w, deadline);
      w = word_.load(std::memory_order_acquire);
    }
    word_.fetch_and(~1u, std::memory_order_relaxed);
    return (w & ~1u) != seen;
  }

 private:
  std::atomic<std::uint32_t> word_{0};
};

struct Counter {
  WaitCondition cond = WaitCondition::all_completed;
  std::atomic<std::size_t> pending{0};  // futures with a listener (grows while registering)
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> failed{0};
  Signal signal;
};

struct CountingListener final : Listener {
  Counter* counter = nullptr;
  void on_done(FutureStateBase& s) noexcept override {
    const bool bad = failed(s);
    if (bad) counter->failed.fetch_add(1, std::memory_order_relaxed);
    const std::size_t done = counter->done.fetch_add(1, std::memory_order_acq_rel) + 1;
    // Wake the waiter only when its condition may hold; `pending` may still be growing, so a
    // notify can come early (the waiter re-checks) but never too late: the last completion
    // always sees done >= pending, and completions before registration ended are re-checked.
    if (counter->cond == WaitCondition::first_completed || bad ||
        done >= counter->pending.load(std::memory_order_acquire))
      counter->signal.notify();
  }
};

}  // namespace

std::vector<char> wait_states(const std::vector<FutureStateBase*>& states, WaitCondition cond,
                              std::optional<Clock::time_point> deadline) {
  const std::size_t n = states.size();
  std::vector<char> flags(n, 0);
  auto collect = [&] {
    for (std::size_t i = 0; i < n; ++i) flags[i] = states[i]->done() ? 1 : 0;
    return flags;
  };
  // The condition over the states as they are now.
  auto satisfied = [&] {
    std::size_t done = 0;
    for (FutureStateBase* s : states) {
      if (!s->done()) continue;
      if (cond == WaitCondition::first_completed || failed(*s)) return true;
      ++done;
    }
    return done == n;
  };
  if (satisfied()) return collect();

  if (cond == WaitCondition::all_completed) {
    // Every future must finish, so wait on each in turn, newest first: executors run calls
    // roughly in submission order, so the waiter usually sleeps once (on the last one) and then
    // finds the rest done — no listener to register, and completions stay on their fast path.
    for (std::size_t i = n; i-- > 0;)
      if (!states[i]->wait_until(deadline)) break;
    return collect();
  }

  // FIRST_COMPLETED / FIRST_EXCEPTION: one listener per unfinished future; the waiter sleeps until the condition may hold (for
  // ALL_COMPLETED: once, until the last one completes), instead of once per future.
  Counter counter;
  counter.cond = cond;
  std::vector<CountingListener> listeners(n);
  std::vector<char> registered(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (states[i]->done()) continue;
    listeners[i].counter = &counter;
    counter.pending.fetch_add(1, std::memory_order_acq_rel);
    if (states[i]->add_listener(&listeners[i])) registered[i] = 1;
    else counter.pending.fetch_sub(1, std::memory_order_acq_rel);
  }
  for (;;) {
    const std::uint32_t seen = counter.signal.seen();
    if (satisfied()) break;
    if (!counter.signal.wait(seen, deadline)) break;
  }
  for (std::size_t i = 0; i < n; ++i)
    if (registered[i]) states[i]->remove_listener(&listeners[i]);
  return collect();
}

struct CompletionQueue::Impl {
  struct Node final : Listener {
    Impl* owner = nullptr;
    std::size_t index = 0;
    void on_done(FutureStateBase&) noexcept override {
      {
        std::lock_guard lock(owner->mutex);
        owner->ready.push_back(index);
      }
      owner->signal.notify();
    }
  };

  std::vector<FutureStateBase*> states;
  std::vector<Node> nodes;
  std::mutex mutex;
  std::deque<std::size_t> ready;
  Signal signal;
  std::size_t yielded = 0;
};

CompletionQueue::CompletionQueue(std::vector<FutureStateBase*> states) : impl_(new Impl) {
  impl_->states = std::move(states);
  const std::size_t n = impl_->states.size();
  impl_->nodes.resize(n);
  std::vector<std::size_t> finished_first;
  for (std::size_t i = 0; i < n; ++i) {
    impl_->nodes[i].owner = impl_.get();
    impl_->nodes[i].index = i;
    if (!impl_->states[i]->add_listener(&impl_->nodes[i])) finished_first.push_back(i);
  }
  std::lock_guard lock(impl_->mutex);
  // Already-finished futures come first, in input order, before any that finish later.
  impl_->ready.insert(impl_->ready.begin(), finished_first.begin(), finished_first.end());
}

CompletionQueue::~CompletionQueue() {
  for (std::size_t i = 0; i < impl_->states.size(); ++i)
    impl_->states[i]->remove_listener(&impl_->nodes[i]);
}

std::optional<std::size_t> CompletionQueue::next(std::optional<Clock::time_point> deadline) {
  Impl& q = *impl_;
  if (q.yielded == q.states.size()) return std::nullopt;
  for (;;) {
    const std::uint32_t seen = q.signal.seen();
    {
      std::lock_guard lock(q.mutex);
      if (!q.ready.empty()) {
        const std::size_t i = q.ready.front();
        q.ready.pop_front();
        ++q.yielded;
        return i;
      }
    }
    if (!q.signal.wait(seen, deadline)) {
      throw TimeoutError(std::to_string(q.states.size() - q.yielded) + " (of " +
                         std::to_string(q.states.size()) + ") futures unfinished");
    }
  }
}

}  // namespace concur::detail
