#include "concur/process/registry.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace concur::process;

namespace rtest {
std::vector<int> twice(const std::vector<int>& v) {
  std::vector<int> r;
  for (int x : v) r.push_back(2 * x);
  return r;
}
CONCUR_TASK(rtest::twice);
CONCUR_TASK(rtest::twice);  // twice is harmless
CONCUR_TASK_NAMED("rtest::twice_alias", &rtest::twice);

int one() { return 1; }
int other() { return 2; }
CONCUR_TASK_NAMED("rtest::clash", &one);
CONCUR_TASK_NAMED("rtest::clash", &other);

struct Custom : std::runtime_error {
  using std::runtime_error::runtime_error;
};
CONCUR_EXCEPTION(rtest::Custom);
struct Plain : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace rtest

TEST(Serialize, RoundTrip) {
  std::string bytes;
  std::map<std::string, std::vector<double>> m{{"a", {1.5, 2}}, {"b", {}}};
  serialize_into(bytes, 42, std::string("x"), m);
  int i = 0;
  std::string s;
  std::map<std::string, std::vector<double>> m2;
  deserialize_from(bytes, i, s, m2);
  EXPECT_EQ(i, 42);
  EXPECT_EQ(s, "x");
  EXPECT_EQ(m2, m);
}

TEST(Serialize, TruncatedBytesAreProtocolError) {
  std::string bytes;
  serialize_into(bytes, std::string(100, 'q'));
  std::string s;
  EXPECT_THROW(deserialize_from(std::string_view(bytes).substr(0, 50), s), ProtocolError);
}

static_assert(is_serializable_v<std::vector<std::pair<int, std::string>>>);
static_assert(!is_serializable_v<std::vector<int>*>);
struct NoSerialize {
  int x;
};
static_assert(!is_serializable_v<NoSerialize>);

TEST(Registry, NameLookupAndInvoke) {
  EXPECT_EQ(task_name(detail::fn_address(&rtest::twice)), "rtest::twice");
  const TaskEntry* t = find_task("rtest::twice_alias");
  ASSERT_NE(t, nullptr);
  std::string args, result;
  serialize_into(args, std::vector<int>{1, 2, 3});
  t->invoke(t->fn, args, result);
  std::vector<int> out;
  deserialize_from(result, out);
  EXPECT_EQ(out, (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(find_task("no such task"), nullptr);
}

TEST(Registry, AmbiguousNameIsReported) {
  EXPECT_EQ(find_task("rtest::clash"), nullptr);
  EXPECT_THROW(task_name(detail::fn_address(&rtest::one)), concur::ValueError);
}

TEST(Exceptions, RegisteredTypesComeBackAsThemselves) {
  RemoteException e;
  try {
    throw rtest::Custom("boom");
  } catch (...) {
    e = describe_current_exception();
  }
  EXPECT_EQ(e.type_name, "rtest::Custom");
  EXPECT_THROW(std::rethrow_exception(rebuild_exception(e)), rtest::Custom);
  try {
    throw std::invalid_argument("bad");
  } catch (...) {
    e = describe_current_exception();
  }
  EXPECT_THROW(std::rethrow_exception(rebuild_exception(e)), std::invalid_argument);
}

TEST(Exceptions, UnregisteredTypesBecomeRemoteError) {
  RemoteException e;
  try {
    throw rtest::Plain("plain");
  } catch (...) {
    e = describe_current_exception();
  }
  try {
    std::rethrow_exception(rebuild_exception(e));
  } catch (const concur::RemoteError& r) {
    EXPECT_EQ(r.type_name(), "rtest::Plain");
    EXPECT_EQ(r.message(), "plain");
  }
}
