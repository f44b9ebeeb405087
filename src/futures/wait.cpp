// futures::wait() and as_completed(): one listener per future feeding a futex-backed counter.
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

/// Sleeps on `events` until it changes or the deadline passes; on a pool worker, runs queued
/// pool work first. Returns false on timeout.
bool wait_for_event(std::atomic<std::uint32_t>& events, std::uint32_t seen,
                    std::optional<Clock::time_point> deadline) {
  if (WaitHelper* helper = current_wait_helper()) {
    while (events.load(std::memory_order_acquire) == seen) {
      if (deadline && Clock::now() >= *deadline) return false;
      if (!helper->help_one()) break;
    }
    if (events.load(std::memory_order_acquire) != seen) return true;
  }
  if (deadline && Clock::now() >= *deadline) return false;
  futex_wait(events, seen, deadline);
  return true;
}

struct Counter {
  std::atomic<std::uint32_t> events{0};
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> failed{0};
};

struct CountingListener final : Listener {
  Counter* counter = nullptr;
  void on_done(FutureStateBase& s) noexcept override {
    if (failed(s)) counter->failed.fetch_add(1, std::memory_order_relaxed);
    counter->done.fetch_add(1, std::memory_order_relaxed);
    counter->events.fetch_add(1, std::memory_order_release);
    futex_wake(counter->events, INT_MAX);
  }
};

}  // namespace

std::vector<char> wait_states(const std::vector<FutureStateBase*>& states, WaitCondition cond,
                              std::optional<Clock::time_point> deadline) {
  const std::size_t n = states.size();
  std::vector<char> flags(n, 0);
  auto satisfied = [&](std::size_t done, std::size_t failed_count) {
    switch (cond) {
      case WaitCondition::first_completed: return done > 0 || n == 0;
      case WaitCondition::first_exception: return failed_count > 0 || done == n;
      case WaitCondition::all_completed: return done == n;
    }
    return true;
  };

  Counter counter;
  std::vector<CountingListener> listeners(n);
  std::size_t already = 0, already_failed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    listeners[i].counter = &counter;
    if (!states[i]->add_listener(&listeners[i])) {
      ++already;
      if (failed(*states[i])) ++already_failed;
    }
  }
  for (;;) {
    const std::uint32_t seen = counter.events.load(std::memory_order_acquire);
    const std::size_t done = already + counter.done.load(std::memory_order_relaxed);
    const std::size_t failed_count = already_failed + counter.failed.load(std::memory_order_relaxed);
    if (satisfied(done, failed_count)) break;
    if (!wait_for_event(counter.events, seen, deadline)) break;
  }
  for (std::size_t i = 0; i < n; ++i) states[i]->remove_listener(&listeners[i]);
  for (std::size_t i = 0; i < n; ++i) flags[i] = states[i]->done() ? 1 : 0;
  return flags;
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
      owner->events.fetch_add(1, std::memory_order_release);
      futex_wake(owner->events, INT_MAX);
    }
  };

  std::vector<FutureStateBase*> states;
  std::vector<Node> nodes;
  std::mutex mutex;
  std::deque<std::size_t> ready;
  std::atomic<std::uint32_t> events{0};
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
    const std::uint32_t seen = q.events.load(std::memory_order_acquire);
    {
      std::lock_guard lock(q.mutex);
      if (!q.ready.empty()) {
        const std::size_t i = q.ready.front();
        q.ready.pop_front();
        ++q.yielded;
        return i;
      }
    }
    if (!wait_for_event(q.events, seen, deadline)) {
      throw TimeoutError(std::to_string(q.states.size() - q.yielded) + " (of " +
                         std::to_string(q.states.size()) + ") futures unfinished");
    }
  }
}

}  // namespace concur::detail
