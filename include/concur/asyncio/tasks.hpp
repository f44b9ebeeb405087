// concur/asyncio/tasks.hpp — asyncio's task combinators: gather, wait_for, wait, as_completed,
// shield.
//
//   Python                                          concur
//   a, b = await gather(f(), g())                   auto [a, b] = co_await gather(f(), g());
//   rs = await gather(*coros)                       std::vector<int> rs = co_await gather(std::move(coros));
//   rs = await gather(*cs, return_exceptions=True)  auto rs = co_await gather(return_exceptions, std::move(cs));
//   r = await wait_for(f(), timeout=1.0)            int r = co_await wait_for(f(), 1s);
//   done, pending = await wait(ts, return_when=     auto [done, pending] = co_await wait(ts, {.return_when =
//                       FIRST_COMPLETED)                                           FIRST_COMPLETED});
//   for c in as_completed(ts): r = await c          for (auto c : as_completed(ts)) { int r = co_await c; }
//   r = await shield(t)                             int r = co_await shield(t);
//
// Differences forced by C++: a void result is std::monostate inside a tuple; gather of a vector of
// Task<void> returns void; return_exceptions is a tag argument in front (it changes the result type:
// each element becomes std::variant<R, std::exception_ptr>); wait() and as_completed() take a
// vector of tasks of one type (lazy coroutines are scheduled as tasks).
// Every function here must be awaited inside a running task (the loop's thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "concur/asyncio/event_loop.hpp"
#include "concur/asyncio/task.hpp"
#include "concur/error.hpp"
#include "concur/timeout.hpp"

namespace concur::asyncio {

/// Tag for gather(return_exceptions, ...) — Python's return_exceptions=True.
struct ReturnExceptions {
  explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

/// wait()'s return_when values (Python's constants).
enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

/// wait()'s keywords.
struct WaitOptions {
  Timeout timeout{};                        ///< None: no limit (then pending may be non-empty)
  ReturnWhen return_when = ALL_COMPLETED;
};

/// wait()'s result: Python's (done, pending) pair.
template <class T>
struct WaitResult {
  std::vector<Task<T>> done;
  std::vector<Task<T>> pending;
};

namespace detail {

template <class T>
std::true_type is_task_test(const Task<T>*);
std::false_type is_task_test(const void*);
/// True for Task<T> and ScheduledTask<T>.
template <class A>
struct is_task : decltype(is_task_test(static_cast<const A*>(nullptr))) {};

/// The result type of `co_await a` for an awaitable A (Task<T> -> T).
template <class A>
struct await_result {
  using type = decltype(std::declval<A>().await_resume());
};
template <class A>
  requires requires(A a) { std::move(a).operator co_await(); }
struct await_result<A> {
  using type = decltype(std::declval<A>().operator co_await().await_resume());
};
template <class A>
  requires requires(A a) { operator co_await(std::move(a)); }
struct await_result<A> {
  using type = decltype(operator co_await(std::declval<A>()).await_resume());
};
template <class A>
using await_result_t = typename await_result<std::remove_cvref_t<A>>::type;

template <class T>
Task<T> await_as_task(auto aw) {
  co_return co_await std::move(aw);
}
/// Any awaitable as a Task (a Task is returned as is).
template <class A>
auto to_task(A&& aw) {
  using D = std::remove_cvref_t<A>;
  if constexpr (is_task<D>::value) {
    return Task<typename D::value_type>(std::forward<A>(aw));
  } else {
    return await_as_task<await_result_t<D>>(D(std::forward<A>(aw)));
  }
}
template <class T>
using void_to_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// Marks a task's exception retrieved when it finishes (Python's gather/shield do so for the
/// children they abandon); no-op if already done.
void silence_when_done(TaskBase* t);

/// How MultiWait reads its i-th task out of the caller's array (so gather of a vector of Task<T>
/// needs no second array of pointers).
using TaskAt = TaskBase* (*)(const void* items, std::size_t i) noexcept;
inline TaskBase* task_at_pointer(const void* items, std::size_t i) noexcept {
  return static_cast<TaskBase* const*>(items)[i];
}
template <class T>
TaskBase* task_at_handle(const void* items, std::size_t i) noexcept {
  return static_cast<const Task<T>*>(items)[i].promise();
}

/// Waits for a set of tasks (the engine of gather and wait).
class MultiWait final : public Suspension, public TimerNode, public DoneWaiter {
 public:
  enum class Mode : std::uint8_t {
    all,              ///< every task done
    first_completed,  ///< any task done
    first_exception,  ///< a task failed (not cancelled), or all done
    first_failure     ///< a task failed or was cancelled, or all done (gather)
  };
  /// The tasks are at(items, 0..n-1); the array must outlive this. schedule: first schedule
  /// each one as create_task() would (a lazy coroutine becomes a task; throws as create_task;
  /// on a throw the tasks scheduled so far keep running, unwatched). forward_cancel: cancelling
  /// the waiter cancels the tasks and waits for them (gather); otherwise it just stops waiting.
  MultiWait(const void* items, TaskAt at, std::size_t n, Mode mode, bool forward_cancel,
            std::optional<std::chrono::steady_clock::time_point> deadline, bool schedule);
  ~MultiWait();
  bool await_ready() const noexcept { return satisfied_; }
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume();
  bool on_cancel() noexcept override;
  void fire() noexcept override;
  void on_done(TaskBase& t) noexcept override { child_done(t); }
  /// The first task that failed (completion order), or null.
  TaskBase* first_failed() const noexcept { return first_failed_; }

 private:
  TaskBase* task(std::size_t i) const noexcept { return at_(items_, i); }
  void watch(TaskBase* t);
  void unwatch(std::size_t count) noexcept;
  void child_done(TaskBase& t) noexcept;
  bool failed(const TaskBase& t) const noexcept;
  const void* items_;
  TaskAt at_;
  std::size_t n_;
  std::size_t remaining_ = 0;  // registrations not yet notified: 0 means none is left to undo
  TaskBase* first_failed_ = nullptr;
  EventLoop* loop_ = nullptr;
  Mode mode_;
  bool forward_cancel_;
  bool satisfied_ = false;
  bool suspended_ = false;
  bool cancelling_ = false;
};

template <class T>
auto outcome_of(Task<T>& t) {
  using V = std::variant<void_to_monostate<T>, std::exception_ptr>;
  auto* p = t.promise();
  if (p->cancelled()) {
    p->mark_retrieved();
    return V(std::in_place_index<1>, p->peek_error());
  }
  if (auto e = p->error()) return V(std::in_place_index<1>, e);
  if constexpr (std::is_void_v<T>) {
    return V(std::in_place_index<0>);
  } else {
    return V(std::in_place_index<0>, std::move(*p->value_));
  }
}
template <class T>
void_to_monostate<T> value_of(Task<T>& t) {
  auto* p = t.promise();
  if constexpr (std::is_void_v<T>) {
    p->template get_result<true>();
    return {};
  } else {
    return p->template get_result<true>();
  }
}
template <class Tasks>
void rethrow_first_failure(MultiWait& w, Tasks& tasks) {
  if (TaskBase* f = w.first_failed()) {
    for (auto& t : tasks) {
      if (t.promise() != f) silence_when_done(t.promise());
    }
    f->mark_retrieved();
    std::rethrow_exception(f->peek_error());
  }
}

template <class... T>
Task<std::tuple<void_to_monostate<T>...>> gather_tuple(Task<T>... tasks) {
  (void)std::initializer_list<int>{((void)create_task(tasks), 0)...};
  TaskBase* ptrs[sizeof...(T) + 1] = {tasks.promise()...};
  {
    MultiWait w(ptrs, &task_at_pointer, sizeof...(T), MultiWait::Mode::first_failure, true,
                std::nullopt, false);
    co_await w;
    if (TaskBase* f = w.first_failed()) {
      for (std::size_t i = 0; i < sizeof...(T); ++i)
        if (ptrs[i] != f) silence_when_done(ptrs[i]);
      f->mark_retrieved();
      std::rethrow_exception(f->peek_error());
    }
  }
  co_return std::tuple<void_to_monostate<T>...>(value_of(tasks)...);
}
template <class... T>
Task<std::tuple<std::variant<void_to_monostate<T>, std::exception_ptr>...>> gather_tuple_outcomes(
    Task<T>... tasks) {
  (void)std::initializer_list<int>{((void)create_task(tasks), 0)...};
  TaskBase* ptrs[sizeof...(T) + 1] = {tasks.promise()...};
  {
    MultiWait w(ptrs, &task_at_pointer, sizeof...(T), MultiWait::Mode::all, true, std::nullopt,
                false);
    co_await w;
  }
  co_return std::tuple<std::variant<void_to_monostate<T>, std::exception_ptr>...>(
      outcome_of(tasks)...);
}

}  // namespace detail

/// Python's gather(*aws): runs the awaitables concurrently as tasks and returns their results as
/// a tuple. The first exception (or cancellation) of a child is raised at once; the other children
/// keep running. Cancelling the gather cancels every child.
template <class... A>
  requires(sizeof...(A) > 0 && !(std::is_same_v<std::remove_cvref_t<A>, ReturnExceptions> || ...))
auto gather(A&&... aws) {
  return detail::gather_tuple(detail::to_task(std::forward<A>(aws))...);
}
/// gather(return_exceptions, aws...): never throws a child's exception; each element is
/// std::variant<R, std::exception_ptr> (a cancelled child gives its CancelledError).
template <class... A>
  requires(sizeof...(A) > 0)
auto gather(ReturnExceptions, A&&... aws) {
  return detail::gather_tuple_outcomes(detail::to_task(std::forward<A>(aws))...);
}

/// gather(*tasks) for a vector: the results in order (void for Task<void>).
template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather(std::vector<Task<T>> tasks) {
  {
    // Schedules the lazy ones (create_task) and watches them all in one pass over the vector.
    detail::MultiWait w(tasks.data(), &detail::task_at_handle<T>, tasks.size(),
                        detail::MultiWait::Mode::first_failure, true, std::nullopt, true);
    co_await w;
    detail::rethrow_first_failure(w, tasks);  // else every task succeeded: nothing to retrieve
  }
  if constexpr (!std::is_void_v<T>) {
    std::vector<T> out;
    out.reserve(tasks.size());
    for (auto& t : tasks) out.push_back(t.promise()->template get_result<true>());
    co_return out;
  }
}
/// gather(*tasks, return_exceptions=True) for a vector.
template <class T>
Task<std::vector<std::variant<detail::void_to_monostate<T>, std::exception_ptr>>> gather(
    ReturnExceptions, std::vector<Task<T>> tasks) {
  {
    detail::MultiWait w(tasks.data(), &detail::task_at_handle<T>, tasks.size(),
                        detail::MultiWait::Mode::all, true, std::nullopt, true);
    co_await w;
  }
  std::vector<std::variant<detail::void_to_monostate<T>, std::exception_ptr>> out;
  out.reserve(tasks.size());
  for (auto& t : tasks) out.push_back(detail::outcome_of(t));
  co_return out;
}

/// Python's wait(tasks, timeout=, return_when=): waits without cancelling anything; returns
/// {done, pending}. Lazy coroutines in `tasks` are scheduled first.
template <class T>
Task<WaitResult<T>> wait(std::vector<Task<T>> tasks, WaitOptions options = {}) {
  if (tasks.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  using Mode = detail::MultiWait::Mode;
  const Mode mode = options.return_when == FIRST_COMPLETED   ? Mode::first_completed
                    : options.return_when == FIRST_EXCEPTION ? Mode::first_exception
                                                             : Mode::all;
  {
    detail::MultiWait w(tasks.data(), &detail::task_at_handle<T>, tasks.size(), mode, false,
                        deadline_from(options.timeout), true);
    co_await w;
  }
  WaitResult<T> r;
  for (auto& t : tasks) (t.done() ? r.done : r.pending).push_back(std::move(t));
  co_return r;
}

namespace detail {
/// The engine of timeout(): a timer that cancels the current task at the deadline.
class TimeoutScope final : public TimerNode {
 public:
  explicit TimeoutScope(std::optional<std::chrono::steady_clock::time_point> when);
  ~TimeoutScope();
  void fire() noexcept override;
  /// After the body completed normally.
  void on_success() noexcept;
  /// After the body threw CancelledError: true if it was this timeout's (raise TimeoutError).
  bool on_cancelled() noexcept;
  bool expired() const noexcept { return expired_; }

 private:
  TaskBase* task_;
  EventLoop* loop_;
  int cancelling_;
  bool expired_ = false;
};
}  // namespace detail

/// Python's `async with asyncio.timeout_at(when): return await aw` — cancels aw at `when` and
/// raises TimeoutError instead (nullopt: no limit).
template <class A>
auto timeout_at(std::optional<std::chrono::steady_clock::time_point> when, A aw)
    -> Task<detail::await_result_t<A>> {
  detail::TimeoutScope scope(when);
  try {
    if constexpr (std::is_void_v<detail::await_result_t<A>>) {
      co_await std::move(aw);
      scope.on_success();
      co_return;
    } else {
      auto r = co_await std::move(aw);
      scope.on_success();
      co_return r;
    }
  } catch (const CancelledError&) {
    if (scope.on_cancelled()) throw TimeoutError();
    throw;
  }
}
/// Python's `async with asyncio.timeout(delay): return await aw` (None: no limit). Raises
/// TimeoutError when the delay expires; the awaited work is cancelled.
template <class A>
auto timeout(Timeout delay, A aw) -> Task<detail::await_result_t<A>> {
  return timeout_at(deadline_from(delay), std::move(aw));
}
/// Python's wait_for(aw, timeout): as timeout(); TimeoutError on expiry (aw is cancelled).
template <class A>
auto wait_for(A aw, Timeout timeout_) -> Task<detail::await_result_t<A>> {
  return timeout_at(deadline_from(timeout_), std::move(aw));
}

namespace detail {
/// as_completed's engine: the tasks' completions in order, with an optional deadline.
class CompletionQueue final : public Suspension, public TimerNode {
 public:
  CompletionQueue(std::vector<TaskBase*> tasks,
                  std::optional<std::chrono::steady_clock::time_point> deadline);
  ~CompletionQueue();
  /// Awaiter for the next finished task (TimeoutError past the deadline).
  struct Next {
    CompletionQueue* q;
    bool await_ready() const noexcept { return q->ready_ready(); }
    bool await_suspend(std::coroutine_handle<> h) { return q->suspend(h); }
    TaskBase* await_resume() { return q->pop(); }
  };
  Next next() noexcept { return Next{this}; }
  bool on_cancel() noexcept override;
  void fire() noexcept override;
  std::size_t remaining() const noexcept { return yielded_left_; }

 private:
  struct Child final : DoneWaiter {
    CompletionQueue* q = nullptr;
    void on_done(TaskBase& t) noexcept override { q->child_done(t); }
  };
  bool ready_ready() const noexcept { return head_ < done_.size() || timed_out_; }
  bool suspend(std::coroutine_handle<> h);
  TaskBase* pop();
  void child_done(TaskBase& t) noexcept;
  std::vector<TaskBase*> tasks_;
  std::unique_ptr<Child[]> children_;
  std::vector<TaskBase*> done_;
  std::size_t head_ = 0;
  std::size_t yielded_left_;
  EventLoop* loop_ = nullptr;
  bool waiting_ = false;
  bool resumed_from_wait_ = false;
  bool timed_out_ = false;
};
}  // namespace detail

/// Python's as_completed(tasks, timeout): iterate to get awaitables that yield the results in
/// completion order (`for (auto next : as_completed(ts)) { T r = co_await next; }`), or call
/// `co_await ac.next()` to get the next finished Task itself (3.13's `async for`). Throws
/// TimeoutError once the timeout passes. Keep the object alive while iterating.
template <class T>
class AsCompleted {
 public:
  AsCompleted(std::vector<Task<T>> tasks, Timeout timeout) : tasks_(std::move(tasks)) {
    std::vector<detail::TaskBase*> ptrs;
    for (auto& t : tasks_) {
      t = create_task(std::move(t));
      ptrs.push_back(t.promise());
    }
    q_ = std::make_unique<detail::CompletionQueue>(std::move(ptrs), deadline_from(timeout));
  }
  /// The next task to finish (its result is not consumed).
  Task<Task<T>> next() {
    detail::TaskBase* b = co_await q_->next();
    for (auto& t : tasks_)
      if (t.promise() == b) co_return t;
    throw RuntimeError("as_completed: unknown task");
  }
  /// The number of results not yet handed out.
  std::size_t size() const noexcept { return tasks_.size(); }

  class iterator {
   public:
    using value_type = Task<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(AsCompleted* a, std::size_t i) : a_(a), i_(i) {}
    /// An awaitable for the result of the next task to finish.
    Task<T> operator*() const { return a_->next_result(); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    iterator operator++(int) {
      auto c = *this;
      ++i_;
      return c;
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }

   private:
    AsCompleted* a_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, tasks_.size()); }

 private:
  Task<T> next_result() {
    Task<T> t = co_await next();
    co_return co_await std::move(t);
  }
  std::vector<Task<T>> tasks_;
  std::unique_ptr<detail::CompletionQueue> q_;
};

/// Python's as_completed(aws, timeout=None).
template <class T>
AsCompleted<T> as_completed(std::vector<Task<T>> tasks, Timeout timeout = {}) {
  return AsCompleted<T>(std::move(tasks), timeout);
}

/// Awaiter of shield(): waits for the inner task; cancelling the waiter does not cancel it.
template <class T>
class [[nodiscard]] ShieldAwaiter final : public detail::Suspension, public detail::DoneWaiter {
 public:
  explicit ShieldAwaiter(Task<T> inner) : inner_(std::move(inner)) {}
  ShieldAwaiter(ShieldAwaiter&& o) noexcept : inner_(std::move(o.inner_)) {}
  bool await_ready() const noexcept { return inner_.done(); }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!begin(h)) return false;
    inner_.promise()->add_done_waiter(this);
    return true;
  }
  T await_resume() {
    finish();
    return inner_.promise()->template get_result<false>();
  }
  bool on_cancel() noexcept override {
    inner_.promise()->remove_done_waiter(this);
    try {
      detail::silence_when_done(inner_.promise());
    } catch (...) {
    }
    wake_cancelled();
    return true;
  }
  void on_done(detail::TaskBase&) noexcept override { wake(); }
  /// The protected task (keeps running if the waiter is cancelled).
  const Task<T>& task() const noexcept { return inner_; }

 private:
  Task<T> inner_;
};

/// Python's shield(aw): schedules aw as a task and awaits it; if the awaiting task is cancelled,
/// it gets CancelledError but the inner task keeps running.
template <class A>
auto shield(A&& aw) {
  auto t = create_task(detail::to_task(std::forward<A>(aw)));
  return ShieldAwaiter<typename decltype(t)::value_type>(std::move(t));
}

}  // namespace concur::asyncio
