// concur/process/frame.hpp — the wire format between a pool and its workers: checked,
// length-prefixed frames over any byte stream (a socketpair for ProcessPoolExecutor; MPI messages
// for the MPI executor, which can carry one frame per message).
//
// A frame is a 24-byte header followed by `length` payload bytes, all little-endian:
//
//   offset size field
//   0      4    magic     0x31524343 ("CCR1" in memory order)
//   4      1    version   kFrameVersion (1)
//   5      1    kind      FrameKind
//   6      2    reserved  0
//   8      8    id        the sender's correlation id (a task id; 0 when unused)
//   16     4    length    payload size, at most the decoder's max_payload
//   20     4    checksum  frame_checksum() of bytes 0..19 and the payload
//
// The decoder checks every field before trusting it: a bad magic, version, kind, reserved field,
// an oversized length or a checksum mismatch throws ProtocolError, never crashes and never waits
// for bytes that a corrupted length promises (max_payload caps it). Truncated input simply yields
// no frame until more bytes arrive; the owner of the stream decides that EOF mid-frame is an
// error (FrameDecoder::buffered() > 0 at EOF).
//
// Payload encodings (PayloadWriter / PayloadReader, bounds-checked) used by the pool protocol:
//   Hello    worker → pool   u32 pid, u32 protocol
//   Call     pool → worker   str task name, u32 n, n × bytes(serialized argument tuple)
//   Result   worker → pool   u32 n, n × (u8 0, bytes(serialized result)
//                                       | u8 1, str mangled type, str demangled type, str what)
//   InitFailed worker → pool the initializer's exception as (str mangled, str demangled, str what)
//   Fatal    worker → pool   str message (the worker exits right after, e.g. memory limit hit)
//   Shutdown pool → worker   empty; the worker exits with status 0
// where `str`/`bytes` are a u32 length followed by that many bytes.
//
// Thread-safety: all functions are pure; a FrameDecoder is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "concur/error.hpp"

namespace concur::process {

inline constexpr std::uint32_t kFrameMagic = 0x31524343u;  // "CCR1"
inline constexpr std::uint8_t kFrameVersion = 1;
inline constexpr std::size_t kFrameHeaderSize = 24;
/// Default cap on a payload: a length above it is treated as corruption.
inline constexpr std::uint32_t kDefaultMaxPayload = 1u << 30;

/// What a frame carries; see the file comment for each payload.
enum class FrameKind : std::uint8_t {
  hello = 1,
  call = 2,
  result = 3,
  init_failed = 4,
  fatal = 5,
  shutdown = 6,
};
inline constexpr std::uint8_t kMaxFrameKind = 6;

/// The byte stream between two concur processes did not hold a valid frame (corruption, a
/// truncated frame at EOF, a peer speaking another protocol). The process pool reports it to the
/// affected futures as futures::BrokenProcessPool carrying this message.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

/// One decoded frame.
struct Frame {
  FrameKind kind{};
  std::uint64_t id = 0;
  std::string payload;
};

/// The checksum of a header's first 20 bytes and the payload (a fast 32-bit mix; it detects
/// corruption, not tampering).
std::uint32_t frame_checksum(const unsigned char* header20, std::string_view payload) noexcept;

/// Appends one complete frame (header + payload) to `out`. Throws ValueError if the payload is
/// larger than 4 GiB - 1.
void append_frame(std::string& out, FrameKind kind, std::uint64_t id, std::string_view payload);

/// Begins a frame in `out` whose payload the caller appends next; finish_frame() then fills in the
/// length and checksum. Avoids copying large payloads. Returns the header's offset.
std::size_t begin_frame(std::string& out, FrameKind kind, std::uint64_t id);
void finish_frame(std::string& out, std::size_t header_offset);

/// Incremental decoder: feed() bytes as they arrive, then call next() until it returns nullopt.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}

  /// Appends received bytes.
  void feed(const void* data, std::size_t n) { buf_.append(static_cast<const char*>(data), n); }
  /// The next complete frame, or nullopt if more bytes are needed.
  /// Throws ProtocolError on corrupt input; the decoder is then unusable (the stream is lost).
  std::optional<Frame> next();
  /// Bytes received but not yet returned as a frame (non-zero at EOF means a truncated frame).
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::uint32_t max_payload_;
  bool failed_ = false;
};

/// Builds a payload: little-endian integers and length-prefixed strings.
class PayloadWriter {
 public:
  explicit PayloadWriter(std::string& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, 4);
  }
  void str(std::string_view s);  // u32 length + bytes; throws ValueError above 4 GiB - 1
  /// Reserves a u32 length slot, returns its offset; the caller appends bytes then end_bytes().
  std::size_t begin_bytes() {
    const auto at = out_.size();
    u32(0);
    return at;
  }
  void end_bytes(std::size_t at);

 private:
  std::string& out_;
};

/// Reads a payload written by PayloadWriter; every read is bounds-checked and throws ProtocolError
/// when the payload is too short.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view in) : in_(in) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::string_view str();  // a view into the payload
  bool at_end() const noexcept { return pos_ == in_.size(); }
  /// Throws ProtocolError unless every byte was consumed.
  void expect_end() const;

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace concur::process
