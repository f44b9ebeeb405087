#include "concur/queue/simple_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

using namespace std::chrono_literals;
namespace q = concur::queue;

TEST(SimpleQueue, FifoUnboundedNonBlockingPut) {
  q::SimpleQueue<int> sq;
  for (int i = 0; i < 10000; ++i) sq.put(i, {.block = true, .timeout = 0s});  // never blocks
  EXPECT_EQ(sq.qsize(), 10000u);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(sq.get(), i);
  EXPECT_TRUE(sq.empty());
  EXPECT_THROW(sq.get_nowait(), q::Empty);
  EXPECT_THROW(sq.get({.timeout = 1ms}), q::Empty);
  EXPECT_FALSE(sq.try_get().has_value());
}

TEST(SimpleQueue, BlockingGetAcrossThreads) {
  q::SimpleQueue<std::unique_ptr<int>> sq;
  std::thread producer([&] { sq.put_nowait(std::make_unique<int>(42)); });
  EXPECT_EQ(*sq.get(), 42);
  producer.join();
}

TEST(SimpleQueue, StopTokenCancelsGet) {
  q::SimpleQueue<int> sq;
  std::stop_source source;
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    source.request_stop();
  });
  EXPECT_THROW(sq.get(source.get_token()), concur::CancelledError);
  stopper.join();
}
