#include "concur/queue/priority_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

namespace q = concur::queue;

TEST(PriorityQueue, SmallestFirstLikePython) {
  q::PriorityQueue<std::pair<int, std::string>> pq;
  pq.put({3, "low"});
  pq.put({1, "high"});
  pq.put({2, "mid"});
  EXPECT_EQ(pq.get().second, "high");
  EXPECT_EQ(pq.get().second, "mid");
  EXPECT_EQ(pq.get().second, "low");
}

TEST(PriorityQueue, CustomComparator) {
  auto larger_first = [](int a, int b) { return a > b; };
  q::PriorityQueue<int, decltype(larger_first)> pq(0, larger_first);
  for (int v : {5, 1, 9, 3}) pq.put(v);
  EXPECT_EQ(pq.get(), 9);
  EXPECT_EQ(pq.get(), 5);
  EXPECT_EQ(pq.get(), 3);
  EXPECT_EQ(pq.get(), 1);
}

TEST(PriorityQueue, MoveOnlyItems) {
  struct ByValue {
    bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const { return *a < *b; }
  };
  q::PriorityQueue<std::unique_ptr<int>, ByValue> pq(3);
  for (int v : {7, 2, 4}) pq.put(std::make_unique<int>(v));
  EXPECT_THROW(pq.put_nowait(std::make_unique<int>(0)), q::Full);
  EXPECT_EQ(*pq.get(), 2);
  EXPECT_EQ(*pq.get(), 4);
  EXPECT_EQ(*pq.get(), 7);
}
