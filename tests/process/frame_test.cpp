#include "concur/process/frame.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace concur::process;

namespace {
std::string one_frame(FrameKind kind, std::uint64_t id, std::string_view payload) {
  std::string s;
  append_frame(s, kind, id, payload);
  return s;
}
}  // namespace

TEST(Frame, RoundTripByteByByte) {
  std::string stream = one_frame(FrameKind::call, 7, "hello") + one_frame(FrameKind::result, 8, "") +
                       one_frame(FrameKind::shutdown, 0, std::string(100000, 'x'));
  FrameDecoder d;
  std::vector<Frame> got;
  for (char c : stream) {
    d.feed(&c, 1);
    while (auto f = d.next()) got.push_back(std::move(*f));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].kind, FrameKind::call);
  EXPECT_EQ(got[0].id, 7u);
  EXPECT_EQ(got[0].payload, "hello");
  EXPECT_EQ(got[1].payload, "");
  EXPECT_EQ(got[2].payload.size(), 100000u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(Frame, TruncatedFrameWaitsAndReportsBufferedBytes) {
  const std::string s = one_frame(FrameKind::call, 1, "abcdef");
  FrameDecoder d;
  d.feed(s.data(), s.size() - 1);
  EXPECT_FALSE(d.next());
  EXPECT_EQ(d.buffered(), s.size() - 1);  // at EOF the owner reports a truncated frame
}

TEST(Frame, EveryCorruptedByteIsDetected) {
  const std::string good = one_frame(FrameKind::result, 99, "payload bytes");
  for (std::size_t i = 0; i < good.size(); ++i) {
    if (i >= 16 && i < 20) continue;  // a larger length just waits for more bytes (tested below)
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    FrameDecoder d;
    d.feed(bad.data(), bad.size());
    EXPECT_THROW(d.next(), ProtocolError) << "byte " << i;
    EXPECT_THROW(d.next(), ProtocolError);  // and stays failed
  }
}

TEST(Frame, OversizedLengthIsRejectedWithoutWaiting) {
  std::string s = one_frame(FrameKind::call, 1, "x");
  s[19] = 0x7f;  // length ~2 GiB
  FrameDecoder d(1 << 20);
  d.feed(s.data(), s.size());
  EXPECT_THROW(d.next(), ProtocolError);
}

TEST(Frame, RandomGarbageNeverCrashes) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    FrameDecoder d(1 << 16);
    d.feed(junk.data(), junk.size());
    try {
      while (d.next()) {
      }
    } catch (const ProtocolError&) {
    }
  }
}

TEST(Payload, ReaderIsBoundsChecked) {
  std::string p;
  PayloadWriter w(p);
  w.u32(5);
  w.str("abc");
  w.u8(9);
  PayloadReader r(p);
  EXPECT_EQ(r.u32(), 5u);
  EXPECT_EQ(r.str(), "abc");
  EXPECT_EQ(r.u8(), 9);
  EXPECT_TRUE(r.at_end());
  EXPECT_THROW(r.u8(), ProtocolError);
  std::string lying;
  PayloadWriter(lying).u32(1000);  // a string claiming 1000 bytes
  PayloadReader r2(lying);
  EXPECT_THROW(r2.str(), ProtocolError);
}
