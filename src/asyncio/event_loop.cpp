// The epoll event loop behind concur::asyncio (see concur/asyncio/event_loop.hpp).
#include "concur/asyncio/event_loop.hpp"

#include <cxxabi.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <typeinfo>

namespace concur::asyncio {

namespace detail {

/// The cross-thread side of a loop; outlives it (posts to a closed loop are dropped).
struct Remote {
  std::mutex m;
  std::vector<CallbackNode*> q;
  bool closed = false;
  int efd = -1;
};

namespace {
thread_local EventLoop* t_loop = nullptr;

/// How many queue entries ahead run_once prefetches a task's frame.
constexpr std::size_t kPrefetchAhead = 4;
/// Ready-queue length from which run_once prefetches.
constexpr std::size_t kPrefetchMinBurst = 1024;

struct LoopScope {
  explicit LoopScope(EventLoop* l) noexcept : prev(t_loop) { t_loop = l; }
  ~LoopScope() { t_loop = prev; }
  EventLoop* prev;
};

std::string demangle(const char* name) {
  int status = 0;
  char* s = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && s ? s : name;
  std::free(s);
  return out;
}
}  // namespace

EventLoop* running_loop() noexcept { return t_loop; }
TaskBase* current_task() noexcept { return t_loop ? t_loop->current_task() : nullptr; }
void schedule(TaskBase* t) noexcept { t_loop->schedule(t); }
void call_soon_erased(std::function<void()> fn) { get_running_loop().call_soon(std::move(fn)); }

/// "std::runtime_error('boom')" for an exception_ptr.
std::string describe_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return demangle(typeid(x).name()) + "('" + x.what() + "')";
  } catch (...) {
    return "unknown exception";
  }
}

void TimerCallbackBase::fire() noexcept { loop_->push_callback(this); }

void check_no_running_loop() {
  if (t_loop != nullptr && t_loop->is_running())
    throw RuntimeError("asyncio.run() cannot be called from a running event loop");
}

void shutdown_run(EventLoop& loop) noexcept {
  try {
    loop.cancel_all_tasks();
  } catch (...) {
  }
  loop.default_executor_slot().reset();  // ThreadPoolExecutor's destructor: shutdown(wait=true)
  try {
    loop.close();
  } catch (...) {
  }
}

}  // namespace detail

using detail::t_loop;

EventLoop& get_running_loop() {
  if (t_loop == nullptr || !t_loop->is_running()) throw RuntimeError("no running event loop");
  return *t_loop;
}

void TimerHandle::cancel() noexcept {
  if (!node_) return;
  node_->cancel();
  if (timer_->scheduled()) {
    timer_->loop_->remove_timer(timer_);
    timer_->release();  // the heap's reference
  }
}

EventLoop::EventLoop() : remote_(std::make_shared<detail::Remote>()) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  efd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd_ < 0) {
    const int e = errno;
    ::close(epfd_);
    throw std::system_error(e, std::system_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, efd_, &ev) < 0) {
    const int e = errno;
    ::close(efd_);
    ::close(epfd_);
    throw std::system_error(e, std::system_category(), "epoll_ctl");
  }
  remote_->efd = efd_;
}

EventLoop::~EventLoop() {
  try {
    close();
  } catch (...) {
  }
}

detail::ReadyQueue::~ReadyQueue() {
  // Entries left are not owned here (the loop released them in close()); free the chunks.
  while (head_ != nullptr) {
    Chunk* next = head_->next;
    if (head_ == tail_) next = nullptr;
    concur::detail::small_deallocate(head_, sizeof(Chunk));
    head_ = next;
  }
  if (spare_ != nullptr) concur::detail::small_deallocate(spare_, sizeof(Chunk));
}

void detail::ReadyQueue::add_chunk() {
  Chunk* c = spare_;
  if (c != nullptr) {
    spare_ = nullptr;
  } else {
    c = static_cast<Chunk*>(concur::detail::small_allocate(sizeof(Chunk)));
  }
  c->next = nullptr;
  if (tail_ == nullptr) {
    head_ = c;
    head_pos_ = 0;
  } else {
    tail_->next = c;
  }
  tail_ = c;
  tail_pos_ = 0;
}

void detail::ReadyQueue::next_chunk() noexcept {
  // Precondition: size_ > 0, so the head chunk (fully consumed) has a successor.
  Chunk* done = head_;
  head_ = done->next;
  head_pos_ = 0;
  if (spare_ == nullptr) {
    spare_ = done;
  } else {
    concur::detail::small_deallocate(done, sizeof(Chunk));
  }
}

void EventLoop::post_threadsafe(detail::CallbackNode* n) { detail::post_remote(*remote_, n); }

void detail::post_remote(Remote& r, CallbackNode* n) {
  std::unique_lock lk(r.m);
  if (r.closed) {
    lk.unlock();
    n->release();
    return;
  }
  const bool was_empty = r.q.empty();
  r.q.push_back(n);
  if (was_empty) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(r.efd, &one, sizeof one);
  }
}

void EventLoop::drain_remote() {
  std::uint64_t v;
  [[maybe_unused]] auto rd = ::read(efd_, &v, sizeof v);
  std::vector<detail::CallbackNode*> q;
  {
    std::lock_guard lk(remote_->m);
    q.swap(remote_->q);
  }
  for (auto* n : q) push_callback(n);
}

void EventLoop::add_timer(detail::TimerNode* t) {
  t->seq_ = timer_seq_++;
  t->heap_index_ = static_cast<std::uint32_t>(timers_.size());
  timers_.push_back(t);
  sift_up(t->heap_index_);
}

void EventLoop::remove_timer(detail::TimerNode* t) noexcept {
  if (t->heap_index_ == detail::TimerNode::npos) return;
  const std::size_t i = t->heap_index_;
  t->heap_index_ = detail::TimerNode::npos;
  detail::TimerNode* last = timers_.back();
  timers_.pop_back();
  if (last == t) return;
  timers_[i] = last;
  last->heap_index_ = static_cast<std::uint32_t>(i);
  sift_up(i);
  sift_down(last->heap_index_);
}

void EventLoop::sift_up(std::size_t i) noexcept {
  detail::TimerNode* x = timers_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!timer_less(x, timers_[parent])) break;
    timers_[i] = timers_[parent];
    timers_[i]->heap_index_ = static_cast<std::uint32_t>(i);
    i = parent;
  }
  timers_[i] = x;
  x->heap_index_ = static_cast<std::uint32_t>(i);
}

void EventLoop::sift_down(std::size_t i) noexcept {
  const std::size_t n = timers_.size();
  detail::TimerNode* x = timers_[i];
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && timer_less(timers_[c + 1], timers_[c])) ++c;
    if (!timer_less(timers_[c], x)) break;
    timers_[i] = timers_[c];
    timers_[i]->heap_index_ = static_cast<std::uint32_t>(i);
    i = c;
  }
  timers_[i] = x;
  x->heap_index_ = static_cast<std::uint32_t>(i);
}

void EventLoop::adopt(detail::TaskBase* t, std::optional<std::string> name) {
  if (t == nullptr) throw ValueError("create_task() of an empty Task");
  if (t->state_ != detail::TaskBase::State::lazy) {
    if (t->is_root_) return;  // already a task: ensure_future semantics
    throw RuntimeError("create_task(): the coroutine is already being awaited");
  }
  if (closed_) {
    t->close();
    throw RuntimeError("Event loop is closed");
  }
  if (name) t->set_name(std::move(*name));  // before scheduling: it may throw (memory)
  ensure_task(t);
}

void detail::TaskBase::finish_root() noexcept {
  if (reinterpret_cast<std::uintptr_t>(done_waiters_) & 1u) {  // one shared waiter, no node
    auto* s = reinterpret_cast<DoneWaiter*>(reinterpret_cast<std::uintptr_t>(done_waiters_) & ~std::uintptr_t{1});
    done_waiters_ = nullptr;
    s->on_done(*this);
  }
  while (DoneWaiter* w = done_waiters_) {
    done_waiters_ = w->next_waiter_;
    w->next_waiter_ = nullptr;
    w->waited_ = nullptr;
    w->on_done(*this);
  }
  EventLoop* loop = t_loop;
  if (prev_task_) {
    prev_task_->next_task_ = next_task_;
  } else if (loop && loop->tasks_head_ == this) {
    loop->tasks_head_ = next_task_;
  }
  if (next_task_) next_task_->prev_task_ = prev_task_;
  prev_task_ = next_task_ = nullptr;
  if (loop) --loop->live_tasks_;
  release();  // the loop's reference
}

void EventLoop::step(detail::TaskBase* t) {
  if (!t->started_) {
    t->started_ = true;
    if (t->must_cancel_) {  // cancelled before its first step: its body never runs
      t->must_cancel_ = false;
      t->set_error(std::make_exception_ptr(CancelledError()));
      t->state_ = detail::TaskBase::State::done;
      t->finish_root();
      return;
    }
  }
  current_ = t;
  if (!debug_) {
    t->next_.resume();
  } else {
    t->add_ref();
    const auto t0 = clock::now();
    t->next_.resume();
    const std::chrono::duration<double> dt = clock::now() - t0;
    if (dt >= slow_callback_duration) {
      std::string what = t->done() ? "<Task finished name='" : "<Task pending name='";
      what.append(t->name()).append("'>");
      report_slow(what.c_str(), dt.count());
    }
    t->release();
  }
  current_ = nullptr;
}

void EventLoop::report_slow(const char* what, double seconds) {
  std::fprintf(stderr, "Executing %s took %.3f seconds\n", what, seconds);
}

void EventLoop::run_once() {
  static thread_local bool have_pwait2 = true;  // false once the kernel says ENOSYS
  // Nanosecond timeouts (epoll_pwait2, Linux 5.11+): epoll_wait's milliseconds would round
  // every sub-millisecond timer up to 1 ms.
  timespec ts{0, 0};
  timespec* timeout = nullptr;  // block
  if (!ready_.empty() || stopping_) {
    timeout = &ts;
  } else if (!timers_.empty()) {
    timeout = &ts;
    const auto dt = timers_.front()->when_ - clock::now();
    if (dt > clock::duration::zero()) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
      const long long capped = ns > 86'400'000'000'000LL ? 86'400'000'000'000LL : ns;
      ts.tv_sec = static_cast<time_t>(capped / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(capped % 1'000'000'000);
    }
  }
  epoll_event events[256];
  int n;
  if (have_pwait2) {
    n = ::epoll_pwait2(epfd_, events, 256, timeout, nullptr);
    if (n < 0 && errno == ENOSYS) have_pwait2 = false;
  }
  if (!have_pwait2) {
    int ms = -1;
    if (timeout) {
      const long long t = static_cast<long long>(timeout->tv_sec) * 1000 + (timeout->tv_nsec + 999'999) / 1'000'000;
      ms = static_cast<int>(t);
    }
    n = ::epoll_wait(epfd_, events, 256, ms);
  }
  if (n < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::system_category(), "epoll_wait");
    n = 0;
  }
  for (int i = 0; i < n; ++i) {
    void* p = events[i].data.ptr;
    if (p == nullptr) {
      drain_remote();
    } else {
      static_cast<FdWatch*>(p)->on_events(events[i].events);
    }
  }
  if (!timers_.empty()) {
    const auto now = clock::now();
    while (!timers_.empty() && timers_.front()->when_ <= now) {
      detail::TimerNode* t = timers_.front();
      remove_timer(t);
      t->fire();
    }
  }
  // Run what is ready now; what they schedule runs on the next iteration (asyncio's rule).
  std::size_t todo = ready_.size();
  // A burst of ready tasks walks frames that are out of cache: fetch a few steps ahead (only for
  // bursts; a handful of I/O tasks is in cache and would pay for nothing).
  const bool prefetch = todo >= detail::kPrefetchMinBurst;
  while (todo-- > 0) {
    if (prefetch) {
      const std::uintptr_t ahead = ready_.peek_ahead(detail::kPrefetchAhead);
      if ((ahead & 1u) == 0) __builtin_prefetch(reinterpret_cast<const void*>(ahead), 1);
    }
    const std::uintptr_t e = ready_.pop();
    if ((e & 1u) == 0) {
      step(reinterpret_cast<detail::TaskBase*>(e));
      continue;
    }
    auto* cb = reinterpret_cast<detail::CallbackNode*>(e & ~std::uintptr_t{1});
    if (!cb->cancelled()) {
      const auto t0 = debug_ ? clock::now() : time_point{};
      try {
        cb->run();
      } catch (...) {
        call_exception_handler({"Exception in callback", std::current_exception(), {}});
      }
      if (debug_) {
        const std::chrono::duration<double> dt = clock::now() - t0;
        if (dt >= slow_callback_duration) report_slow("<Handle>", dt.count());
      }
    }
    cb->release();
  }
}

void EventLoop::run_forever() {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (running_) throw RuntimeError("This event loop is already running");
  if (t_loop != nullptr && t_loop != this && t_loop->is_running())
    throw RuntimeError("Cannot run the event loop while another loop is running");
  detail::LoopScope scope(this);
  running_ = true;
  struct Reset {
    EventLoop* l;
    ~Reset() {
      l->running_ = false;
      l->stopping_ = false;
    }
  } reset{this};
  while (!stopping_) run_once();
}

void EventLoop::run_until_done(detail::TaskBase* t) {
  struct StopWaiter final : detail::DoneWaiter {
    explicit StopWaiter(EventLoop* l) : loop(l) {}
    void on_done(detail::TaskBase&) noexcept override { loop->stop(); }
    EventLoop* loop;
  } waiter(this);
  if (!t->done()) {
    t->add_done_waiter(&waiter);
    run_forever();
  }
  if (!t->done()) throw RuntimeError("Event loop stopped before Future completed.");
}

void EventLoop::cancel_all_tasks() {
  if (closed_ || live_tasks_ == 0) return;
  detail::LoopScope scope(this);
  for (detail::TaskBase* t = tasks_head_; t; t = t->next_task_) t->cancel();
  running_ = true;
  struct Reset {
    EventLoop* l;
    ~Reset() {
      l->running_ = false;
      l->stopping_ = false;
    }
  } reset{this};
  while (live_tasks_ > 0) run_once();
}

void EventLoop::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  detail::LoopScope scope(this);
  std::vector<detail::CallbackNode*> posted;
  {
    std::lock_guard lk(remote_->m);
    remote_->closed = true;
    posted.swap(remote_->q);
  }
  for (auto* n : posted) n->release();
  // Ready callbacks are dropped; ready tasks are owned by the live-task list below.
  while (!ready_.empty()) {
    const std::uintptr_t e = ready_.pop();
    if (e & 1u) reinterpret_cast<detail::CallbackNode*>(e & ~std::uintptr_t{1})->release();
  }
  // Tasks still alive (run() cancelled them already): drop the loop's reference; the frame goes
  // when no handle remains, running its awaiters' destructors (which leave heaps and lists).
  while (detail::TaskBase* t = tasks_head_) {
    tasks_head_ = t->next_task_;
    if (tasks_head_) tasks_head_->prev_task_ = nullptr;
    t->prev_task_ = t->next_task_ = nullptr;
    --live_tasks_;
    t->close();
    t->release();
  }
  while (!ready_.empty()) {  // anything the destructors queued
    const std::uintptr_t e = ready_.pop();
    if (e & 1u) reinterpret_cast<detail::CallbackNode*>(e & ~std::uintptr_t{1})->release();
  }
  while (!timers_.empty()) {
    detail::TimerNode* t = timers_.back();
    remove_timer(t);
    if (auto* cb = dynamic_cast<detail::TimerCallbackBase*>(t)) cb->release();
  }
  {
    std::lock_guard lk(remote_->m);
    ::close(efd_);
    remote_->efd = -1;
  }
  ::close(epfd_);
  efd_ = epfd_ = -1;
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
  if (handler_) {
    try {
      handler_(*this, context);
      return;
    } catch (...) {
      std::fputs("Unhandled error in exception handler\n", stderr);
    }
  }
  if (context.task.empty()) {
    std::fprintf(stderr, "%s\n%s\n", context.message.c_str(),
                 context.exception ? detail::describe_exception(context.exception).c_str() : "");
  } else {
    std::fprintf(stderr, "%s\nfuture: <Task finished name='%s' exception=%s>\n", context.message.c_str(),
                 context.task.c_str(),
                 context.exception ? detail::describe_exception(context.exception).c_str() : "None");
  }
}

FdWatch::FdWatch(EventLoop& loop, int fd) : loop_(&loop), fd_(fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  if (::epoll_ctl(loop.epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
    throw std::system_error(errno, std::system_category(), "epoll_ctl(EPOLL_CTL_ADD)");
}

FdWatch::~FdWatch() {
  if (loop_->epfd_ >= 0) ::epoll_ctl(loop_->epfd_, EPOLL_CTL_DEL, fd_, nullptr);
  if (Awaiter* r = std::exchange(reader_, nullptr)) r->wake_cancelled();
  if (Awaiter* w = std::exchange(writer_, nullptr)) w->wake_cancelled();
}

void FdWatch::on_events(std::uint32_t ev) noexcept {
  if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_closed_ = true;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if (Awaiter* r = std::exchange(reader_, nullptr)) {
      r->wake();
    } else {
      read_ready_ = true;
    }
  }
  if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
    if (Awaiter* w = std::exchange(writer_, nullptr)) {
      w->wake();
    } else {
      write_ready_ = true;
    }
  }
}

}  // namespace concur::asyncio
