// libFuzzer target: the frame decoder and the payload parsers must never crash, hang or read out
// of bounds on arbitrary bytes — only return frames or throw concur::process::ProtocolError.
// Build: see tests/fuzz/CMakeLists.txt (clang++ -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <string>

#include "concur/process/frame.hpp"
#include "concur/process/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace concur::process;
  // Feed in two pieces (split by the first byte) to exercise the incremental path.
  const std::size_t split = size ? data[0] % (size + 1) : 0;
  FrameDecoder d(1 << 20);
  try {
    d.feed(data, split);
    while (auto f = d.next()) {
      (void)f;
    }
    d.feed(data + split, size - split);
    while (auto f = d.next()) {
      try {
        if (f->kind == FrameKind::call) (void)parse_call(f->payload);
        if (f->kind == FrameKind::result) (void)parse_result(f->payload);
      } catch (const ProtocolError&) {
      }
    }
  } catch (const ProtocolError&) {
  }
  // Well-formed frames around fuzzed payloads: the decoder must return exactly what was encoded.
  if (size >= 2) {
    std::string wire;
    const auto kind = static_cast<FrameKind>(1 + data[1] % kMaxFrameKind);
    append_frame(wire, kind, size, std::string_view(reinterpret_cast<const char*>(data + 2), size - 2));
    FrameDecoder ok;
    ok.feed(wire.data(), wire.size());
    auto f = ok.next();
    if (!f || f->kind != kind || f->payload.size() != size - 2 || ok.buffered() != 0) __builtin_trap();
  }
  // The payload parsers on raw bytes too (frames' checksums make fuzzing them through the decoder
  // rare).
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  try {
    (void)parse_call(raw);
  } catch (const ProtocolError&) {
  }
  try {
    (void)parse_result(raw);
  } catch (const ProtocolError&) {
  }
  return 0;
}
