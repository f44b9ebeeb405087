#include "concur/process/protocol.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace concur::process;

namespace prtest {
int square(int x) {
  if (x < 0) throw std::domain_error("negative");
  return x * x;
}
CONCUR_TASK(prtest::square);
}  // namespace prtest

TEST(Protocol, CallFrameRunsEveryCallAndCapturesExceptions) {
  std::vector<std::string> args(3);
  serialize_into(args[0], 3);
  serialize_into(args[1], -1);
  serialize_into(args[2], 5);
  std::string wire;
  append_call_frame(wire, 11, "prtest::square", args);
  FrameDecoder d;
  d.feed(wire.data(), wire.size());
  auto call = d.next();
  ASSERT_TRUE(call);
  std::string reply;
  execute_call_frame(*call, reply);
  FrameDecoder d2;
  d2.feed(reply.data(), reply.size());
  auto res = d2.next();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->kind, FrameKind::result);
  EXPECT_EQ(res->id, 11u);
  auto outcomes = parse_result(res->payload);
  ASSERT_EQ(outcomes.size(), 3u);
  int v = 0;
  ASSERT_TRUE(outcomes[0].ok);
  deserialize_from(outcomes[0].value, v);
  EXPECT_EQ(v, 9);
  ASSERT_FALSE(outcomes[1].ok);
  EXPECT_EQ(outcomes[1].error.type_name, "std::domain_error");
  EXPECT_THROW(std::rethrow_exception(rebuild_exception(outcomes[1].error)), std::domain_error);
  ASSERT_TRUE(outcomes[2].ok);
}

TEST(Protocol, UnknownTaskIsAnOutcomeNotACrash) {
  std::string wire;
  append_call_frame(wire, 1, "nobody", {std::string()});
  FrameDecoder d;
  d.feed(wire.data(), wire.size());
  std::string reply;
  execute_call_frame(*d.next(), reply);
  FrameDecoder d2;
  d2.feed(reply.data(), reply.size());
  auto outcomes = parse_result(d2.next()->payload);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].ok);
  EXPECT_NE(outcomes[0].error.what.find("nobody"), std::string::npos);
}

TEST(Protocol, MalformedPayloadsAreProtocolErrors) {
  EXPECT_THROW(parse_call("\x05"), ProtocolError);
  EXPECT_THROW(parse_result(std::string("\xff\xff\xff\x7f", 4)), ProtocolError);
  std::string p;
  PayloadWriter w(p);
  w.u32(1);
  w.u8(7);  // bad outcome tag
  EXPECT_THROW(parse_result(p), ProtocolError);
}
