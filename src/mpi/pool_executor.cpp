// MPIPoolExecutor's compiled core: the manager thread that owns the executor's MPI traffic
// (see concur/mpi/pool_executor.hpp).
#include "concur/mpi/pool_executor.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "concur/process/protocol.hpp"
#include "concur/mpi/runtime.hpp"
#include "wire.hpp"

namespace concur::mpi {
namespace detail {

// ---- the batch helpers declared in concur/detail/mpi_batch.hpp ----

void parse_outcomes(std::string_view payload, std::size_t n, std::vector<Outcome>& out) {
  process::PayloadReader r(payload);
  if (r.u32() != n) throw process::ProtocolError("concur::mpi: a result with the wrong number of calls");
  out.resize(n);
  for (auto& o : out) {
    const std::uint8_t tag = r.u8();
    if (tag == 0) {
      o.ok = true;
      o.bytes = r.str();
    } else if (tag == 1) {
      // mangled type, demangled type, what(): kept encoded, decoded only for a failed call
      const char* begin = r.str().data() - 4;
      r.str();
      const std::string_view what = r.str();
      o.ok = false;
      o.bytes = std::string_view(begin, static_cast<std::size_t>(what.data() + what.size() - begin));
    } else {
      throw process::ProtocolError("corrupt concur payload: bad outcome tag");
    }
  }
  r.expect_end();
}

std::exception_ptr outcome_exception(std::string_view bytes) noexcept {
  try {
    process::PayloadReader r(bytes);
    return process::rebuild_exception(process::read_exception(r));
  } catch (...) {
    return std::current_exception();
  }
}

std::exception_ptr abandoned_error() noexcept {
  return std::make_exception_ptr(futures::BrokenExecutor("concur::mpi: the call was dropped"));
}


#ifndef CONCUR_MPI_INFLIGHT
#define CONCUR_MPI_INFLIGHT 2
#endif
/// Messages in flight per worker: one running, one waiting beside it (no idle round trip).
inline constexpr std::size_t kInflight = CONCUR_MPI_INFLIGHT;

class MPIPoolCore {
 public:
  explicit MPIPoolCore(MPIPoolOptions o) : options_(o) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      throw RuntimeError("concur::mpi: MPI is not initialized; put `concur::mpi::Runtime mpi(argc, argv);` "
                         "at the top of main()");
    }
    int provided = 0, rank = 0, size = 0;
    {
      std::lock_guard lock(mpi_lock());
      MPI_Query_thread(&provided);
      MPI_Comm_rank(o.comm, &rank);
      MPI_Comm_size(o.comm, &size);
    }
    if (provided < MPI_THREAD_SERIALIZED) {
      throw RuntimeError("concur::mpi: MPI must be initialized with MPI_THREAD_SERIALIZED or more");
    }
    if (rank != o.root) throw RuntimeError("concur::mpi: MPIPoolExecutor must be created on the root rank");
    if (size < 2) {
      throw ValueError("concur::mpi: no worker rank: run the program with `mpiexec -n <workers + 1>`");
    }
    std::size_t n = o.max_workers.value_or(static_cast<std::size_t>(size - 1));
    if (n == 0) throw ValueError("max_workers must be greater than 0");
    if (n > static_cast<std::size_t>(size - 1)) {
      throw ValueError("concur::mpi: max_workers is " + std::to_string(n) + " but the communicator has only " +
                       std::to_string(size - 1) + " worker ranks");
    }
    if (o.initializer) init_name_ = process::task_name(process::detail::fn_address(o.initializer));
    for (int r = 0; r < size && workers_.size() < n; ++r) {
      if (r != o.root) workers_.emplace_back().rank = r;
    }
    thread_ = std::thread([this] { run(); });
  }

  ~MPIPoolCore() { shutdown({.wait = true, .cancel_futures = false}); }

  std::uint64_t next_call_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed) + 1; }

  void submit(std::uint64_t id, std::string frame, std::unique_ptr<CallBatch> batch) {
    Job job;
    job.id = id;
    job.bytes = std::make_shared<std::string>(std::move(frame));
    job.batch = std::move(batch);
    std::unique_lock lock(mu_);
    if (!broken_.empty()) throw futures::BrokenExecutor(broken_);
    if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
    const bool was_empty = queue_.empty();
    queue_.push_back(std::move(job));
    lock.unlock();
    if (was_empty) cv_.notify_one();
  }

  void shutdown(futures::ShutdownOptions o) {
    std::deque<Job> cancelled;
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
      if (o.cancel_futures) cancelled.swap(queue_);
    }
    cv_.notify_one();
    for (auto& j : cancelled) j.batch->cancel();
    if (o.wait) join();
  }

  void bootup() {
    std::unique_lock lock(mu_);
    cv_done_.wait(lock, [&] { return handshake_done_; });
    if (!broken_.empty()) throw futures::BrokenExecutor(broken_);
  }

  std::size_t num_workers() const noexcept { return workers_.size(); }

 private:
  struct Job {
    std::uint64_t id = 0;
    std::shared_ptr<std::string> bytes;
    std::unique_ptr<CallBatch> batch;
  };
  struct Worker {
    int rank = -1;
    std::deque<Job> inflight;
  };

  void join() {
    std::lock_guard lock(join_mu_);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  Worker* worker_of(int rank) {
    for (auto& w : workers_) {
      if (w.rank == rank) return &w;
    }
    return nullptr;
  }

  // Fails every queued and in-flight call and refuses new ones.
  void break_executor(const std::string& reason) {
    std::deque<Job> queued;
    {
      std::lock_guard lock(mu_);
      if (broken_.empty()) broken_ = reason;
      queued.swap(queue_);
    }
    std::string why;
    {
      std::lock_guard lock(mu_);
      why = broken_;
    }
    const auto error = std::make_exception_ptr(futures::BrokenExecutor(why));
    auto fail = [&](Job& j) { j.batch->fail(error); };
    for (auto& j : queued) fail(j);
    for (auto& w : workers_) {
      for (auto& j : w.inflight) fail(j);
      w.inflight.clear();
    }
  }

  // Greets every worker and checks the answers; "" when all is well, else the reason.
  std::string handshake() {
    std::string hello;
    const auto at = process::begin_frame(hello, process::FrameKind::hello, 0);
    write_hello(hello, local_identity(), init_name_);
    process::finish_frame(hello, at);
    auto bytes = std::make_shared<const std::string>(std::move(hello));
    for (auto& wk : workers_) sends_.push_back(start_send(bytes, wk.rank, kTagHello, options_.comm));
    std::size_t answered = 0;
    std::string reason;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.handshake_timeout);
    Backoff backoff;
    std::vector<bool> seen(workers_.size(), false);
    while (answered < workers_.size()) {
      test_sends();
      std::optional<Incoming> in;
      try {
        in = try_receive(options_.comm, MPI_ANY_SOURCE, kTagHelloReply);
      } catch (const std::exception& e) {
        return std::string("concur::mpi: bad handshake answer: ") + e.what();
      }
      if (!in) {
        if (std::chrono::steady_clock::now() > deadline) {
          for (std::size_t i = 0; i < workers_.size(); ++i) {
            if (!seen[i]) {
              return "concur::mpi: worker rank " + std::to_string(workers_[i].rank) +
                     " did not answer the handshake in time: does every rank run the same program "
                     "with concur::mpi::Runtime (or concur::mpi::serve) at the top of main()?";
            }
          }
        }
        backoff.pause();
        continue;
      }
      backoff.reset();
      for (std::size_t i = 0; i < workers_.size(); ++i) {
        if (workers_[i].rank == in->source && !seen[i]) {
          seen[i] = true;
          ++answered;
        }
      }
      if (!reason.empty()) continue;  // keep collecting answers so none is left in flight
      const std::string who = "concur::mpi: worker rank " + std::to_string(in->source);
      try {
        process::PayloadReader r(in->frame.payload);
        const std::uint32_t version = r.u32();
        if (version != kProtocolVersion) {
          reason = who + " speaks protocol version " + std::to_string(version) + " but the root speaks " +
                   std::to_string(kProtocolVersion) + ": every rank must run the same build";
          continue;
        }
        const auto status = static_cast<HelloStatus>(r.u8());
        switch (status) {
          case HelloStatus::ok:
            break;
          case HelloStatus::init_failed: {
            const process::RemoteException e = process::read_exception(r);
            reason = who + ": the initializer failed: " + e.type_name + ": " + e.what;
            break;
          }
          case HelloStatus::mismatch:
            reason = who + " runs " + std::string(r.str()) + ": every rank must run the same build";
            break;
          case HelloStatus::other_tasks: {
            std::vector<std::string> only[2];
            for (auto& names : only) {
              const std::uint32_t n = r.u32();
              for (std::uint32_t i = 0; i < n; ++i) names.emplace_back(r.str());
            }
            reason = who + " runs another build of the program: tasks registered on the root only: " +
                     name_list(only[0]) + "; on rank " + std::to_string(in->source) + " only: " +
                     name_list(only[1]) + ". Every rank must run the same build";
            break;
          }
          case HelloStatus::no_initializer:
            reason = who + ": " + std::string(r.str());
            break;
          default:
            reason = who + ": unknown handshake status";
        }
      } catch (const std::exception& e) {
        reason = who + ": unreadable handshake answer (another build?): " + e.what();
      }
    }
    return reason;
  }

  // Frees the finished sends, oldest first, then tests the rest too: each test is also an MPI
  // progress pass that pulls in arriving results (measured: testing only the front one cut
  // chunksize=100 throughput by a quarter).
  void test_sends() {
    while (!sends_.empty() && test_send(sends_.front())) sends_.pop_front();
    for (auto& s : sends_) test_send(s);
  }

  bool dispatch() {
    bool progressed = false;
    for (std::size_t depth = 0; depth < kInflight; ++depth) {
      for (auto& w : workers_) {
        if (w.inflight.size() != depth) continue;
        Job job;
        for (;;) {
          {
            std::lock_guard lock(mu_);
            if (queue_.empty()) return progressed;
            job = std::move(queue_.front());
            queue_.pop_front();
          }
          if (job.batch->start()) break;  // else every call was cancelled: drop the message
        }
        sends_.push_back(start_send(job.bytes, w.rank, kTagCall, options_.comm));
        job.bytes.reset();
        w.inflight.push_back(std::move(job));
        progressed = true;
      }
    }
    return progressed;
  }

  bool receive() {
    bool progressed = false;
    for (;;) {
      std::optional<Incoming> in = try_receive(options_.comm, MPI_ANY_SOURCE, kTagResult);
      if (!in) return progressed;
      progressed = true;
      Worker* w = worker_of(in->source);
      if (!w || w->inflight.empty() || w->inflight.front().id != in->frame.id) {
        throw process::ProtocolError("concur::mpi: an unexpected result from rank " + std::to_string(in->source));
      }
      Job job = std::move(w->inflight.front());
      w->inflight.pop_front();
      // Refill the worker before completing the futures: completing a chunk (and waking its
      // consumer) takes longer than the worker needs for the message still queued beside it,
      // so sending first keeps the worker busy instead of waiting on this thread.
      dispatch();
      job.batch->complete(in->frame.payload);
    }
  }

  bool idle() const {
    for (const auto& w : workers_) {
      if (!w.inflight.empty()) return false;
    }
    return true;
  }

  void run() {
    FineTimerSlack slack;
    std::string reason = handshake();
    {
      std::lock_guard lock(mu_);
      handshake_done_ = true;
    }
    if (!reason.empty()) break_executor(reason);
    cv_done_.notify_all();
    Backoff backoff;
    while (reason.empty()) {
      bool progressed = false;
      try {
        progressed = dispatch();
        progressed = receive() || progressed;
      } catch (const std::exception& e) {
        reason = e.what();
        break_executor(reason);
        break;
      }
      test_sends();
      if (progressed) {
        backoff.reset();
        continue;
      }
      std::unique_lock lock(mu_);
      if (shutdown_ && queue_.empty() && idle()) break;
      if (idle() && sends_.empty()) {
        cv_.wait(lock, [&] { return shutdown_ || !queue_.empty(); });
        backoff.reset();
      } else if (!queue_.empty() || !idle()) {
        // Results pending: poll MPI with a growing pause (a submit() wakes us early).
        const auto d = backoff.next();
        if (d.count() == 0) {
          lock.unlock();
          backoff.pause();
        } else {
          cv_.wait_for(lock, d);
          backoff.note_idle();
        }
      } else {
        lock.unlock();
        backoff.pause();
      }
    }
    // Release the workers: they go back to serving the next executor.
    auto bye = empty_frame(process::FrameKind::shutdown);
    for (auto& w : workers_) sends_.push_back(start_send(bye, w.rank, kTagEnd, options_.comm));
    Backoff b;
    while (!sends_.empty()) {
      test_sends();
      if (!sends_.empty()) b.pause();
    }
  }

  MPIPoolOptions options_;
  std::string init_name_;
  std::deque<Worker> workers_;  // manager thread only (after construction); deque: Worker is move-only
  std::deque<Outgoing> sends_;   // manager thread only

  std::mutex mu_;
  std::condition_variable cv_;       // submit/shutdown → manager
  std::condition_variable cv_done_;  // handshake finished
  std::deque<Job> queue_;
  std::atomic<std::uint64_t> next_id_{0};
  bool shutdown_ = false;
  bool handshake_done_ = false;
  std::string broken_;

  std::mutex join_mu_;
  std::thread thread_;
};

}  // namespace detail

MPIPoolExecutor::MPIPoolExecutor(MPIPoolOptions options)
    : core_(std::make_unique<detail::MPIPoolCore>(options)) {}

MPIPoolExecutor::~MPIPoolExecutor() = default;

std::uint64_t MPIPoolExecutor::next_call_id() noexcept { return core_->next_call_id(); }

void MPIPoolExecutor::submit_batch(std::uint64_t id, std::string frame, std::unique_ptr<detail::CallBatch> batch) {
  core_->submit(id, std::move(frame), std::move(batch));
}

void MPIPoolExecutor::shutdown(futures::ShutdownOptions options) { core_->shutdown(options); }

void MPIPoolExecutor::bootup() { core_->bootup(); }

std::size_t MPIPoolExecutor::num_workers() const noexcept { return core_->num_workers(); }

}  // namespace concur::mpi
