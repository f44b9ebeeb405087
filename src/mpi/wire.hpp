// Internal: how concur::mpi moves frames (concur/process/frame.hpp) over MPI messages, the tags,
// the handshake payloads and the polling backoff. Every MPI call here takes mpi_lock().
#pragma once

#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "concur/process/frame.hpp"
#include <string_view>

#ifndef CONCUR_MPI_YIELDS
#define CONCUR_MPI_YIELDS 16
#endif

namespace concur::mpi::detail {

/// Bumped whenever the messages below change meaning (2: the handshake compares task names).
inline constexpr std::uint32_t kProtocolVersion = 2;

/// Tags (high, to stay clear of a program's own small tags on the same communicator).
enum Tag : int {
  kTagHello = 25401,       ///< root → worker: start of an executor session (handshake)
  kTagHelloReply = 25402,  ///< worker → root: handshake answer
  kTagCall = 25403,        ///< root → worker: a Call frame
  kTagResult = 25404,      ///< worker → root: a Result frame
  kTagEnd = 25405,         ///< root → worker: the executor shut down (session over)
  kTagExit = 25406,        ///< root → worker: the Runtime is finishing; leave serve loop
};

/// Handshake answer status.
enum class HelloStatus : std::uint8_t {
  ok = 0,
  init_failed = 1,     ///< + the initializer's exception
  mismatch = 2,        ///< + str: what differs (protocol, data model, unreadable hello)
  no_initializer = 3,  ///< + str
  other_tasks = 4,     ///< + the task names only the root has, then those only the worker has
};

/// What every rank must agree on besides the task names: byte order and the sizes cereal's
/// binary archives write raw (long, pointers, long double), packed in one word.
std::uint32_t data_model() noexcept;
/// "little-endian, 8-byte long, 8-byte pointers, 16-byte long double".
std::string describe_data_model(std::uint32_t model);

/// The handshake's identity of a build: the protocol version, the data model and the sorted
/// registered task names (process::registered_task_names()), with a 64-bit hash of all three so
/// that equal builds compare in one step.
struct BuildIdentity {
  std::uint32_t protocol = 0;
  std::uint32_t model = 0;
  std::uint64_t hash = 0;
  std::vector<std::string> tasks;  ///< sorted
};
/// This process's identity (protocol as announced_protocol_version()).
BuildIdentity local_identity();
/// Hello payload (root → worker): the identity, then the initializer's name ("" for none).
void write_hello(std::string& out, const BuildIdentity& id, std::string_view initializer);
/// Reads what write_hello wrote; throws process::ProtocolError when malformed. A hello of another
/// protocol version is returned with only `protocol` filled in.
BuildIdentity read_hello(process::PayloadReader& r, std::string& initializer);
/// Names in `a` and not in `b` (both sorted).
std::vector<std::string> names_missing(const std::vector<std::string>& a, const std::vector<std::string>& b);
/// "'f', 'g' and 3 more" (at most `limit` names), or "none".
std::string name_list(const std::vector<std::string>& names, std::size_t limit = 8);

/// The protocol version this process announces (a test hook, CONCUR_MPI_TEST_MISMATCH_RANK=<r>,
/// makes rank r of MPI_COMM_WORLD pretend another version; builds with other tasks are tested
/// for real, with two executables launched as one MPI job).
std::uint32_t announced_protocol_version() noexcept;
/// The largest single MPI message, in bytes (1 GiB; env CONCUR_MPI_MAX_MESSAGE lowers it, for tests).
std::size_t max_message_bytes() noexcept;

/// Sleeps a little longer each time nothing happened: yields at first (sched_yield hands the core
/// to any runnable process, so an oversubscribed node loses nothing), then sleeps 1 µs doubling to
/// 1 ms.
class Backoff {
 public:
  static constexpr unsigned kYields = CONCUR_MPI_YIELDS;
  void reset() noexcept { idle_ = 0; }
  void pause() noexcept;
  /// Counts an idle round spent elsewhere (e.g. in a timed condition-variable wait).
  void note_idle() noexcept {
    if (idle_ < kYields + 16) ++idle_;
  }
  /// The next pause's length (0 while still only yielding).
  std::chrono::microseconds next() const noexcept;

 private:
  unsigned idle_ = 0;
};

/// While alive, the calling thread's timer slack is 1 µs instead of Linux's 50 µs default, so
/// that Backoff's short sleeps (and timed condition-variable waits) last about what they ask:
/// with the default a 1 µs pause sleeps ~55 µs, while a worker finishes a message in a few µs.
/// Restores the previous slack on destruction.
class FineTimerSlack {
 public:
  FineTimerSlack() noexcept;
  ~FineTimerSlack();
  FineTimerSlack(const FineTimerSlack&) = delete;
  FineTimerSlack& operator=(const FineTimerSlack&) = delete;

 private:
  long previous_ = -1;
};

/// One message being sent (maybe in several MPI pieces); the bytes live until every piece is done.
struct Outgoing {
  std::shared_ptr<const std::string> bytes;
  std::vector<MPI_Request> requests;
};
/// Starts sending `bytes` (a complete frame) to `dest` with `tag`.
Outgoing start_send(std::shared_ptr<const std::string> bytes, int dest, int tag, MPI_Comm comm);
/// True when every piece of `o` has been sent (non-blocking test).
bool test_send(Outgoing& o);
/// Sends and waits (polling with a backoff).
void send_wait(std::shared_ptr<const std::string> bytes, int dest, int tag, MPI_Comm comm);

/// A received message.
struct Incoming {
  int source = -1;
  int tag = -1;
  process::Frame frame;
};
/// Receives one message from `source` (or MPI_ANY_SOURCE) with `tag` (or MPI_ANY_TAG) if one is
/// waiting, else nullopt. Throws process::ProtocolError if the bytes are not a valid frame.
std::optional<Incoming> try_receive(MPI_Comm comm, int source, int tag);

/// A frame with an empty payload, as shared bytes.
std::shared_ptr<const std::string> empty_frame(process::FrameKind kind);

}  // namespace concur::mpi::detail
