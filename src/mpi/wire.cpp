// Frames over MPI messages, the handshake identity, the backoff (see wire.hpp).
#include "wire.hpp"

#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <bit>
#include <iterator>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "concur/mpi/runtime.hpp"
#include "concur/process/registry.hpp"

namespace concur::mpi {

std::mutex& mpi_lock() noexcept {
  static std::mutex m;
  return m;
}

namespace detail {
namespace {

std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t identity_hash(std::uint32_t protocol, std::uint32_t model, const std::vector<std::string>& tasks) {
  std::uint64_t h = 1469598103934665603ull;
  h = fnv1a(&protocol, sizeof protocol, h);
  h = fnv1a(&model, sizeof model, h);
  for (const auto& t : tasks) h = fnv1a(t.data(), t.size() + 1, h);  // with the NUL: "ab","c" != "a","bc"
  return h;
}

}  // namespace

std::uint32_t data_model() noexcept {
  const std::uint32_t little = std::endian::native == std::endian::little ? 1 : 0;
  return little | std::uint32_t(sizeof(long)) << 8 | std::uint32_t(sizeof(void*)) << 16 |
         std::uint32_t(sizeof(long double)) << 24;
}

std::string describe_data_model(std::uint32_t m) {
  return std::string((m & 0xff) ? "little-endian" : "big-endian") + ", " + std::to_string((m >> 8) & 0xff) +
         "-byte long, " + std::to_string((m >> 16) & 0xff) + "-byte pointers, " + std::to_string(m >> 24) +
         "-byte long double";
}

BuildIdentity local_identity() {
  BuildIdentity id;
  id.protocol = announced_protocol_version();
  id.model = data_model();
  for (std::string_view n : process::registered_task_names()) id.tasks.emplace_back(n);
  id.hash = identity_hash(id.protocol, id.model, id.tasks);
  return id;
}

void write_hello(std::string& out, const BuildIdentity& id, std::string_view initializer) {
  process::PayloadWriter w(out);
  w.u32(id.protocol);
  w.u32(id.model);
  w.u32(static_cast<std::uint32_t>(id.hash));
  w.u32(static_cast<std::uint32_t>(id.hash >> 32));
  w.str(initializer);
  w.u32(static_cast<std::uint32_t>(id.tasks.size()));
  for (const auto& t : id.tasks) w.str(t);
}

BuildIdentity read_hello(process::PayloadReader& r, std::string& initializer) {
  BuildIdentity id;
  id.protocol = r.u32();
  if (id.protocol != kProtocolVersion) return id;
  id.model = r.u32();
  id.hash = r.u32();
  id.hash |= std::uint64_t(r.u32()) << 32;
  initializer = std::string(r.str());
  const std::uint32_t n = r.u32();
  for (std::uint32_t i = 0; i < n; ++i) id.tasks.emplace_back(r.str());
  r.expect_end();
  return id;
}

std::vector<std::string> names_missing(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::string name_list(const std::vector<std::string>& names, std::size_t limit) {
  if (names.empty()) return "none";
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i) s += ", ";
    s += "'" + names[i] + "'";
  }
  if (names.size() > limit) s += " and " + std::to_string(names.size() - limit) + " more";
  return s;
}

std::uint32_t announced_protocol_version() noexcept {
  if (const char* r = std::getenv("CONCUR_MPI_TEST_MISMATCH_RANK")) {
    int rank = -1;
    std::lock_guard lock(mpi_lock());
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == std::atoi(r)) return kProtocolVersion + 1000;
  }
  return kProtocolVersion;
}

std::size_t max_message_bytes() noexcept {
  static const std::size_t n = [] {
    std::size_t v = std::size_t{1} << 30;
    if (const char* e = std::getenv("CONCUR_MPI_MAX_MESSAGE")) {
      const long long x = std::atoll(e);
      if (x >= static_cast<long long>(process::kFrameHeaderSize)) v = static_cast<std::size_t>(x);
    }
    return v;
  }();
  return n;
}

FineTimerSlack::FineTimerSlack() noexcept {
  const int prev = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  if (prev >= 0 && prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0) == 0) previous_ = prev;
}

FineTimerSlack::~FineTimerSlack() {
  if (previous_ >= 0) prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(previous_), 0, 0, 0);
}

std::chrono::microseconds Backoff::next() const noexcept {
  if (idle_ < kYields) return std::chrono::microseconds(0);
  const unsigned shift = std::min(idle_ - kYields, 10u);
  return std::chrono::microseconds(std::min<long>(1L << shift, 1000));
}

void Backoff::pause() noexcept {
  const auto d = next();
  if (d.count() == 0) {
    sched_yield();
  } else {
    std::this_thread::sleep_for(d);
  }
  if (idle_ < kYields + 16) ++idle_;
}

Outgoing start_send(std::shared_ptr<const std::string> bytes, int dest, int tag, MPI_Comm comm) {
  Outgoing o;
  o.bytes = std::move(bytes);
  const std::size_t piece = max_message_bytes();
  const std::size_t n = o.bytes->size();
  std::lock_guard lock(mpi_lock());
  std::size_t at = 0;
  do {
    const std::size_t len = std::min(piece, n - at);
    MPI_Request r;
    MPI_Isend(o.bytes->data() + at, static_cast<int>(len), MPI_BYTE, dest, tag, comm, &r);
    o.requests.push_back(r);
    at += len;
  } while (at < n);
  return o;
}

bool test_send(Outgoing& o) {
  if (o.requests.empty()) return true;
  int done = 0;
  std::lock_guard lock(mpi_lock());
  MPI_Testall(static_cast<int>(o.requests.size()), o.requests.data(), &done, MPI_STATUSES_IGNORE);
  if (done) o.requests.clear();
  return done != 0;
}

void send_wait(std::shared_ptr<const std::string> bytes, int dest, int tag, MPI_Comm comm) {
  Outgoing o = start_send(std::move(bytes), dest, tag, comm);
  Backoff b;
  while (!test_send(o)) b.pause();
}

std::optional<Incoming> try_receive(MPI_Comm comm, int source, int tag) {
  std::string buf;
  Incoming in;
  {
    std::lock_guard lock(mpi_lock());
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(source, tag, comm, &flag, &st);
    if (!flag) return std::nullopt;
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    in.source = st.MPI_SOURCE;
    in.tag = st.MPI_TAG;
    buf.resize(static_cast<std::size_t>(count));
    MPI_Recv(buf.data(), count, MPI_BYTE, in.source, in.tag, comm, MPI_STATUS_IGNORE);
    if (buf.size() >= process::kFrameHeaderSize) {
      // A frame larger than one MPI message follows in further pieces (non-overtaking order).
      std::uint32_t len = 0;
      for (int i = 0; i < 4; ++i) len |= std::uint32_t(static_cast<unsigned char>(buf[16 + i])) << (8 * i);
      const std::size_t total = process::kFrameHeaderSize + len;
      const std::size_t piece = max_message_bytes();
      if (buf.size() == piece && total > piece) {
        std::size_t at = buf.size();
        buf.resize(total);
        while (at < total) {
          const std::size_t n = std::min(piece, total - at);
          MPI_Recv(buf.data() + at, static_cast<int>(n), MPI_BYTE, in.source, in.tag, comm, MPI_STATUS_IGNORE);
          at += n;
        }
      }
    }
  }
  // One frame per message: check the header (as process::FrameDecoder does), then make the
  // received buffer the payload in place (no copy through a decoder).
  auto bad = [&](const std::string& why) {
    return process::ProtocolError("concur::mpi: a message from rank " + std::to_string(in.source) +
                                  " is not one concur frame: " + why);
  };
  if (buf.size() < process::kFrameHeaderSize) throw bad("shorter than a frame header");
  const auto* h = reinterpret_cast<const unsigned char*>(buf.data());
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t(h[at + i]) << (8 * i);
    return v;
  };
  if (u32(0) != process::kFrameMagic) throw bad("bad magic");
  if (h[4] != process::kFrameVersion) throw bad("unsupported version " + std::to_string(h[4]));
  if (h[5] == 0 || h[5] > process::kMaxFrameKind) throw bad("unknown kind " + std::to_string(h[5]));
  if (h[6] != 0 || h[7] != 0) throw bad("reserved bytes not zero");
  const std::uint32_t len = u32(16);
  if (buf.size() != process::kFrameHeaderSize + len) throw bad("length does not match the message");
  const std::string_view payload(buf.data() + process::kFrameHeaderSize, len);
  if (u32(20) != process::frame_checksum(h, payload)) throw bad("checksum mismatch");
  in.frame.kind = static_cast<process::FrameKind>(h[5]);
  in.frame.id = std::uint64_t(u32(8)) | (std::uint64_t(u32(12)) << 32);
  buf.erase(0, process::kFrameHeaderSize);
  in.frame.payload = std::move(buf);
  return in;
}

std::shared_ptr<const std::string> empty_frame(process::FrameKind kind) {
  auto s = std::make_shared<std::string>();
  process::append_frame(*s, kind, 0, {});
  return s;
}

}  // namespace detail
}  // namespace concur::mpi
