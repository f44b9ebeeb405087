#include "concur/queue/lifo_queue.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace q = concur::queue;

TEST(LifoQueue, LastInFirstOut) {
  q::LifoQueue<int> lifo;
  for (int i = 0; i < 5; ++i) lifo.put(i);
  for (int i = 4; i >= 0; --i) EXPECT_EQ(lifo.get(), i);
  EXPECT_THROW(lifo.get_nowait(), q::Empty);
}

TEST(LifoQueue, BoundedAndMoveOnly) {
  q::LifoQueue<std::unique_ptr<int>> lifo(2);
  lifo.put(std::make_unique<int>(1));
  lifo.put(std::make_unique<int>(2));
  EXPECT_TRUE(lifo.full());
  auto extra = std::make_unique<int>(3);
  EXPECT_EQ(lifo.try_put(std::move(extra)), q::Status::full);
  ASSERT_NE(extra, nullptr);  // not consumed on failure
  EXPECT_EQ(*lifo.get(), 2);
  lifo.shutdown();
  EXPECT_EQ(*lifo.get(), 1);
  EXPECT_THROW(lifo.get(), q::ShutDown);
}
