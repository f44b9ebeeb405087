// Frames over MPI messages, the build id, the backoff (see wire.hpp).
#include "wire.hpp"

#include <elf.h>
#include <link.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "concur/mpi/runtime.hpp"

namespace concur::mpi {

std::mutex& mpi_lock() noexcept {
  static std::mutex m;
  return m;
}

namespace detail {
namespace {

std::uint64_t fnv1a(const unsigned char* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

int find_build_id(dl_phdr_info* info, std::size_t, void* out) {
  // The first object reported is the main program.
  auto* hash = static_cast<std::uint64_t*>(out);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) nh;
      std::memcpy(&nh, p, sizeof nh);
      const unsigned char* name = p + sizeof nh;
      const unsigned char* desc = name + ((nh.n_namesz + 3) & ~3u);
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
          desc + nh.n_descsz <= end) {
        *hash = fnv1a(desc, nh.n_descsz);
        return 1;
      }
      p = desc + ((nh.n_descsz + 3) & ~3u);
    }
  }
  return 1;  // only the main program matters
}

}  // namespace

std::uint64_t build_id_hash() noexcept {
  static const std::uint64_t h = [] {
    std::uint64_t v = 0;
    dl_iterate_phdr(&find_build_id, &v);
    return v;
  }();
  return h;
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
