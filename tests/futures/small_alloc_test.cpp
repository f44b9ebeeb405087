// The small-block allocator behind pool tasks and coroutine frames.
#include "concur/detail/small_alloc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace cd = concur::detail;

namespace {
bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }
}  // namespace

TEST(SmallAlloc, EverySizeIsUsableAlignedAndDistinct) {
  std::vector<std::pair<void*, std::size_t>> blocks;
  std::set<void*> seen;
  for (std::size_t n = 0; n <= cd::kSmallAllocMax + 64; n += 7) {
    void* p = cd::small_allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned16(p)) << n;
    std::memset(p, static_cast<int>(n & 0xff), n);
    EXPECT_TRUE(seen.insert(p).second) << "block handed out twice, size " << n;
    blocks.emplace_back(p, n);
  }
  for (auto [p, n] : blocks) {
    const auto* bytes = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(bytes[i], n & 0xff) << "size " << n;
  }
  for (auto [p, n] : blocks) cd::small_deallocate(p, n);
}

TEST(SmallAlloc, FreedBlocksAreReused) {
  // Many rounds of the same burst must not keep taking memory from the system.
  auto burst = [] {
    std::vector<void*> v;
    for (int i = 0; i < 20'000; ++i) v.push_back(cd::small_allocate(80));
    for (void* p : v) cd::small_deallocate(p, 80);
  };
  burst();
  const std::size_t after_first = cd::small_alloc_reserved_bytes();
  for (int r = 0; r < 20; ++r) burst();
  EXPECT_EQ(cd::small_alloc_reserved_bytes(), after_first);
}

TEST(SmallAlloc, NullAndLargeBlocks) {
  cd::small_deallocate(nullptr, 64);  // no-op, as delete nullptr
  void* big = cd::small_allocate(1 << 20);
  std::memset(big, 1, 1 << 20);
  cd::small_deallocate(big, 1 << 20);
}

TEST(SmallAlloc, BlocksFreedByAnotherThreadAndByExitedThreads) {
  // Allocate here, free on threads that then exit (their caches go back to the depot), and
  // allocate again: the memory comes back.
  std::vector<void*> v;
  for (int i = 0; i < 50'000; ++i) v.push_back(cd::small_allocate(48));
  std::thread t([&] {
    for (void* p : v) cd::small_deallocate(p, 48);
  });
  t.join();
  const std::size_t reserved = cd::small_alloc_reserved_bytes();
  v.clear();
  std::thread u([&] {
    for (int i = 0; i < 50'000; ++i) v.push_back(cd::small_allocate(48));
  });
  u.join();
  EXPECT_EQ(cd::small_alloc_reserved_bytes(), reserved);
  for (void* p : v) cd::small_deallocate(p, 48);
}

namespace {
struct Tracked : cd::SmallAllocated {
  virtual ~Tracked() = default;
  int a = 1;
};
struct Bigger final : Tracked {
  char payload[200] = {};
};
struct alignas(64) OverAligned : cd::SmallAllocated {
  int x = 0;
};
}  // namespace

TEST(SmallAlloc, ClassOperatorsUseTheMostDerivedSize) {
  std::unique_ptr<Tracked> p(new Bigger);
  p->a = 7;
  p.reset();  // sized delete through the base: must free a Bigger-sized block
  auto* o = new OverAligned;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(o) % 64, 0u);
  delete o;
}
