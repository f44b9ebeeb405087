#include "concur/queue.hpp"

#include <gtest/gtest.h>

TEST(QueueUmbrella, AllClassesVisible) {
  concur::queue::Queue<int> a;
  concur::queue::LifoQueue<int> b;
  concur::queue::PriorityQueue<int> c;
  concur::queue::SimpleQueue<int> d;
  a.put(1);
  b.put(2);
  c.put(3);
  d.put(4);
  EXPECT_EQ(a.get() + b.get() + c.get() + d.get(), 10);
}
