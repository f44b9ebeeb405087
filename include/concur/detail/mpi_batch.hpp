// concur/detail/mpi_batch.hpp — internal to concur::mpi: the futures of one Call message (one
// submit(), or one map() chunk of `chunksize` calls) and the encoding of that message.
//
// Why not one Promise per call: at chunksize 100 the root rank's cost per call is what limits
// map()'s throughput, and most of it was the allocator — a promise sink and a shared state per
// call, allocated by the submitting thread and freed by the manager thread. A batch allocates its
// n shared states in one block (a slab freed when the last of its futures is released) and is
// completed by one typed loop over the Result payload, with no virtual call per call.
//
// Thread-safety: a batch is built by the submitting thread, then owned by the manager thread
// (start/complete/fail/cancel are called there, or under the executor's lock for cancel); its
// futures are ordinary futures::Future<R> usable from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/future_state.hpp"
#include "concur/futures/future.hpp"
#include "concur/process/frame.hpp"
#include "concur/process/protocol.hpp"
#include "concur/process/registry.hpp"

namespace concur::mpi::detail {

/// The futures of one Call message, type-erased for the compiled manager thread.
class CallBatch {
 public:
  virtual ~CallBatch() = default;
  /// Marks every call running (before the message is sent). False when every call was
  /// cancelled: the message is then dropped. Never throws.
  virtual bool start() noexcept = 0;
  /// Completes the calls from a Result payload (one outcome per call, in order). A result that
  /// does not decode fails that call's future; a payload that does not match the batch throws
  /// process::ProtocolError (the executor then breaks).
  virtual void complete(std::string_view result_payload) = 0;
  /// Fails every call that is not done yet with `e`.
  virtual void fail(const std::exception_ptr& e) noexcept = 0;
  /// Cancels every call that has not started (shutdown(cancel_futures=true)).
  virtual void cancel() noexcept = 0;
  /// The number of calls.
  virtual std::size_t size() const noexcept = 0;
};

/// Reads the outcomes of a Result payload into `out` (views into the payload); throws
/// process::ProtocolError when it is malformed or does not hold `n` outcomes. Compiled in
/// src/mpi/pool_executor.cpp.
struct Outcome {
  bool ok = false;
  std::string_view bytes;  ///< the encoded value, or the encoded exception (three strs)
};
void parse_outcomes(std::string_view payload, std::size_t n, std::vector<Outcome>& out);
/// The exception of a failed outcome, rebuilt (registered type, else concur::RemoteError).
std::exception_ptr outcome_exception(std::string_view bytes) noexcept;
/// The error a batch gives futures it is destroyed without completing (cannot normally happen).
std::exception_ptr abandoned_error() noexcept;

template <class R>
class TypedBatch;

/// One call's shared state, living in its batch's slab: releasing the last Future destroys it
/// in place and releases the slab, which is freed with the last of its states.
template <class R>
class SlabState final : public concur::detail::FutureState<R> {
 public:
  struct Slab {
    std::atomic<std::uint32_t> live;
  };
  explicit SlabState(Slab* slab) noexcept : slab_(slab) {}

 protected:
  void destroy() noexcept override {
    Slab* s = slab_;
    this->~SlabState();
    if (s->live.fetch_sub(1, std::memory_order_acq_rel) == 1) free_slab(s);
  }

 private:
  friend class TypedBatch<R>;
  static constexpr std::size_t kAlign = alignof(SlabState) > alignof(Slab) ? alignof(SlabState) : alignof(Slab);
  /// The states start this many bytes into the slab.
  static constexpr std::size_t kOffset = (sizeof(Slab) + alignof(SlabState) - 1) / alignof(SlabState) * alignof(SlabState);
  static void free_slab(Slab* s) noexcept {
    s->~Slab();
    ::operator delete(static_cast<void*>(s), std::align_val_t{kAlign});
  }
  Slab* slab_;
};

/// The n calls of one message returning R.
template <class R>
class TypedBatch final : public CallBatch {
  using State = SlabState<R>;
  using Slab = typename State::Slab;

 public:
  /// Allocates n pending futures (n >= 1).
  explicit TypedBatch(std::size_t n) : n_(n) {
    void* mem = ::operator new(State::kOffset + n * sizeof(State), std::align_val_t{State::kAlign});
    // One reference per state; the slab is freed when the last state is destroyed.
    Slab* slab = ::new (mem) Slab{{static_cast<std::uint32_t>(n)}};
    states_ = reinterpret_cast<State*>(static_cast<char*>(mem) + State::kOffset);
    for (std::size_t i = 0; i < n; ++i) ::new (static_cast<void*>(states_ + i)) State(slab);
  }
  ~TypedBatch() override {
    if (!completed_) fail(abandoned_error());  // a message refused or dropped: no call may hang
    for (std::size_t i = 0; i < n_; ++i) states_[i].release();  // a Future may keep its own reference
  }
  TypedBatch(const TypedBatch&) = delete;
  TypedBatch& operator=(const TypedBatch&) = delete;

  /// Call i's future (a second reference to the state, taken once per call).
  futures::Future<R> future(std::size_t i) noexcept {
    states_[i].add_ref();
    return futures::Future<R>(concur::detail::StateRef<concur::detail::FutureState<R>>(&states_[i]));
  }

  bool start() noexcept override {
    bool any = false;
    for (std::size_t i = 0; i < n_; ++i) any = states_[i].try_start() || any;
    return any;
  }

  void complete(std::string_view payload) override {
    thread_local std::vector<Outcome> outcomes;
    parse_outcomes(payload, n_, outcomes);
    completed_ = true;
    // Last to first: a consumer blocked on the chunk's first future (map's in-order iteration)
    // wakes once and finds the rest done, instead of once per call.
    for (std::size_t i = n_; i-- > 0;) {
      State& s = states_[i];
      const Outcome& o = outcomes[i];
      if (!o.ok) {
        s.try_set_exception(outcome_exception(o.bytes));
      } else if constexpr (std::is_void_v<R>) {
        s.try_set_value();
      } else {
        try {
          R r{};
          process::deserialize_from(o.bytes, r);
          s.try_set_value(std::move(r));
        } catch (...) {
          s.try_set_exception(std::current_exception());
        }
      }
    }
  }

  void fail(const std::exception_ptr& e) noexcept override {
    for (std::size_t i = 0; i < n_; ++i) states_[i].try_set_exception(e);
    completed_ = true;
  }

  void cancel() noexcept override {
    for (std::size_t i = 0; i < n_; ++i) states_[i].cancel();
  }

  std::size_t size() const noexcept override { return n_; }

 private:
  State* states_ = nullptr;
  std::size_t n_ = 0;
  bool completed_ = false;  ///< complete() or fail() ran: every call is done or was cancelled
};

/// Builds a Call frame in place: construct, add() each call's arguments, then finish().
/// The same bytes as process::append_call_frame, without a string per call.
class CallFrameWriter {
 public:
  /// Starts a frame for calls of task `name` with correlation id `id`; `expected_calls` and
  /// `bytes_per_call` only size the buffer.
  CallFrameWriter(std::string& out, std::uint64_t id, std::string_view name, std::size_t expected_calls,
                  std::size_t bytes_per_call)
      : out_(out), w_(out) {
    out_.reserve(out_.size() + process::kFrameHeaderSize + 8 + name.size() + expected_calls * (4 + bytes_per_call));
    at_ = process::begin_frame(out_, process::FrameKind::call, id);
    w_.str(name);
    count_at_ = out_.size();
    w_.u32(0);  // the number of calls, filled in by finish()
  }
  /// Appends one call's encoded argument tuple.
  template <class... A>
  void add(const A&... args) {
    const auto slot = w_.begin_bytes();
    if constexpr (sizeof...(A) > 0) process::serialize_into(out_, args...);
    w_.end_bytes(slot);
    ++calls_;
  }
  /// The number of calls added so far.
  std::uint32_t calls() const noexcept { return calls_; }
  /// Fills in the number of calls and the header's length and checksum.
  void finish() {
    for (int i = 0; i < 4; ++i) out_[count_at_ + i] = static_cast<char>((calls_ >> (8 * i)) & 0xff);
    process::finish_frame(out_, at_);
  }

 private:
  std::string& out_;
  process::PayloadWriter w_;
  std::size_t at_ = 0;
  std::size_t count_at_ = 0;
  std::uint32_t calls_ = 0;
};

}  // namespace concur::mpi::detail
