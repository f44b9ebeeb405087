// The frame codec: see concur/process/frame.hpp for the format.
#include "concur/process/frame.hpp"

#include <limits>

namespace concur::process {
namespace {

void put_u32(unsigned char* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u64(unsigned char* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint32_t get_u32(const unsigned char* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{p[i]} << (8 * i);
  return v;
}
std::uint64_t get_u64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

// A word-at-a-time multiply/rotate mix (in the spirit of FNV/xxHash, written here): fast enough
// to run over megabyte payloads, good at catching flipped or truncated bytes.
std::uint64_t mix(std::uint64_t h, std::uint64_t w) noexcept {
  h ^= w * 0x9E3779B97F4A7C15ull;
  h = (h << 27) | (h >> 37);
  return h * 0xC2B2AE3D27D4EB4Full + 0x165667B19E3779F9ull;
}
std::uint64_t mix_bytes(std::uint64_t h, const unsigned char* p, std::size_t n) noexcept {
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix(h, w);
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  for (std::size_t i = 0; i < n; ++i) tail |= std::uint64_t{p[i]} << (8 * i);
  return mix(h, tail ^ (std::uint64_t{n} << 56));
}

}  // namespace

std::uint32_t frame_checksum(const unsigned char* header20, std::string_view payload) noexcept {
  std::uint64_t h = 0x243F6A8885A308D3ull;
  h = mix_bytes(h, header20, 20);
  h = mix_bytes(h, reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
  h ^= h >> 29;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::size_t begin_frame(std::string& out, FrameKind kind, std::uint64_t id) {
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderSize);
  auto* h = reinterpret_cast<unsigned char*>(out.data() + at);
  put_u32(h, kFrameMagic);
  h[4] = kFrameVersion;
  h[5] = static_cast<unsigned char>(kind);
  h[6] = h[7] = 0;
  put_u64(h + 8, id);
  return at;
}

void finish_frame(std::string& out, std::size_t at) {
  const std::size_t len = out.size() - at - kFrameHeaderSize;
  if (len > std::numeric_limits<std::uint32_t>::max()) throw ValueError("concur frame payload larger than 4 GiB");
  auto* h = reinterpret_cast<unsigned char*>(out.data() + at);
  put_u32(h + 16, static_cast<std::uint32_t>(len));
  put_u32(h + 20, frame_checksum(h, std::string_view(out.data() + at + kFrameHeaderSize, len)));
}

void append_frame(std::string& out, FrameKind kind, std::uint64_t id, std::string_view payload) {
  const auto at = begin_frame(out, kind, id);
  out.append(payload);
  finish_frame(out, at);
}

std::optional<Frame> FrameDecoder::next() {
  if (failed_) throw ProtocolError("concur frame stream already failed");
  if (buffered() < kFrameHeaderSize) return std::nullopt;
  const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  auto fail = [this](const std::string& why) {
    failed_ = true;
    return ProtocolError("corrupt concur frame: " + why);
  };
  if (get_u32(h) != kFrameMagic) throw fail("bad magic (not a concur peer, or the stream lost sync)");
  if (h[4] != kFrameVersion) throw fail("unsupported version " + std::to_string(h[4]));
  if (h[5] == 0 || h[5] > kMaxFrameKind) throw fail("unknown kind " + std::to_string(h[5]));
  if (h[6] != 0 || h[7] != 0) throw fail("reserved bytes not zero");
  const std::uint32_t len = get_u32(h + 16);
  if (len > max_payload_) {
    throw fail("payload length " + std::to_string(len) + " exceeds the limit " + std::to_string(max_payload_));
  }
  if (buffered() - kFrameHeaderSize < len) return std::nullopt;
  const std::string_view payload(buf_.data() + pos_ + kFrameHeaderSize, len);
  if (get_u32(h + 20) != frame_checksum(h, payload)) throw fail("checksum mismatch");
  Frame f{static_cast<FrameKind>(h[5]), get_u64(h + 8), std::string(payload)};
  pos_ += kFrameHeaderSize + len;
  // Compact now and then so the buffer does not grow without bound.
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 16) && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return f;
}

void PayloadWriter::str(std::string_view s) {
  if (s.size() > std::numeric_limits<std::uint32_t>::max()) throw ValueError("concur payload field larger than 4 GiB");
  u32(static_cast<std::uint32_t>(s.size()));
  out_.append(s);
}

void PayloadWriter::end_bytes(std::size_t at) {
  const std::size_t len = out_.size() - at - 4;
  if (len > std::numeric_limits<std::uint32_t>::max()) throw ValueError("concur payload field larger than 4 GiB");
  put_u32(reinterpret_cast<unsigned char*>(out_.data() + at), static_cast<std::uint32_t>(len));
}

std::uint8_t PayloadReader::u8() {
  if (in_.size() - pos_ < 1) throw ProtocolError("corrupt concur payload: truncated");
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::uint32_t PayloadReader::u32() {
  if (in_.size() - pos_ < 4) throw ProtocolError("corrupt concur payload: truncated");
  const auto v = get_u32(reinterpret_cast<const unsigned char*>(in_.data() + pos_));
  pos_ += 4;
  return v;
}

std::string_view PayloadReader::str() {
  const std::uint32_t n = u32();
  if (in_.size() - pos_ < n) throw ProtocolError("corrupt concur payload: field longer than the payload");
  const auto s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

void PayloadReader::expect_end() const {
  if (!at_end()) throw ProtocolError("corrupt concur payload: trailing bytes");
}

}  // namespace concur::process
