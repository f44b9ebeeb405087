// Stress: blocks of many sizes allocated on one thread and freed on another, through short-lived
// threads, checked for overlap by writing a pattern into every live block.
#include "concur/detail/small_alloc.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "stress_scale.hpp"

namespace cd = concur::detail;
using concur::testing::scaled;

namespace {
struct Block {
  unsigned char* p;
  std::size_t n;
  unsigned char tag;
};

void fill(const Block& b) { std::memset(b.p, b.tag, b.n); }
bool intact(const Block& b) {
  for (std::size_t i = 0; i < b.n; ++i)
    if (b.p[i] != b.tag) return false;
  return true;
}
}  // namespace

TEST(SmallAllocStress, CrossThreadFreesNeverOverlap) {
  const int rounds = static_cast<int>(scaled(40, 4));
  const int per_round = static_cast<int>(scaled(20'000, 2'000));
  std::mutex m;
  std::vector<Block> handoff;  // allocated by producers, freed by consumers
  std::atomic<long> bad{0};
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::thread> ts;
    for (int t = 0; t < 3; ++t)
      ts.emplace_back([&, t, r] {
        std::mt19937 rng(r * 7 + t);
        std::vector<Block> mine;
        for (int i = 0; i < per_round; ++i) {
          const std::size_t n = 1 + rng() % (cd::kSmallAllocMax + 100);
          Block b{static_cast<unsigned char*>(cd::small_allocate(n)), n,
                  static_cast<unsigned char>(rng())};
          fill(b);
          mine.push_back(b);
          if (rng() % 3 == 0) {
            // free a random live block of ours
            const std::size_t k = rng() % mine.size();
            if (!intact(mine[k])) ++bad;
            cd::small_deallocate(mine[k].p, mine[k].n);
            mine[k] = mine.back();
            mine.pop_back();
          }
          if (rng() % 5 == 0 && !mine.empty()) {
            // hand a block to whichever thread frees next
            std::lock_guard lock(m);
            handoff.push_back(mine.back());
            mine.pop_back();
            if (handoff.size() > 64) {
              Block h = handoff.front();
              handoff.erase(handoff.begin());
              if (!intact(h)) ++bad;
              cd::small_deallocate(h.p, h.n);
            }
          }
        }
        for (const Block& b : mine) {
          if (!intact(b)) ++bad;
          cd::small_deallocate(b.p, b.n);
        }
      });  // the thread exits: its cache goes back to the depot
    for (auto& t : ts) t.join();
  }
  for (const Block& b : handoff) {
    if (!intact(b)) ++bad;
    cd::small_deallocate(b.p, b.n);
  }
  EXPECT_EQ(bad.load(), 0);
}
