// Stress: many producers and consumers through a small bounded queue, exactly-once delivery,
// with and without shutdown() / shutdown(immediate=true) fired at random moments.
// Scaled by CONCUR_STRESS_SCALE (CI: 0.1 under ASan, 0.05 under TSan).
#include "concur/queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace q = concur::queue;

namespace {

double stress_scale() {
  const char* s = std::getenv("CONCUR_STRESS_SCALE");
  const double v = s ? std::atof(s) : 1.0;
  return v > 0 ? v : 1.0;
}
long scaled(long n, long floor = 1) { return std::max(floor, static_cast<long>(static_cast<double>(n) * stress_scale())); }

// A move-only item that reports, when destroyed while still owned, that it was dropped.
struct Totals {
  std::atomic<long long> count{0}, sum{0};
  void add(std::uint64_t v) {
    ++count;
    sum += static_cast<long long>(v);
  }
};
struct Item {
  Item(std::uint64_t v, Totals* dropped) : value(v), dropped_(dropped) {}
  Item(Item&& o) noexcept : value(o.value), dropped_(std::exchange(o.dropped_, nullptr)) {}
  Item& operator=(Item&& o) noexcept {
    value = o.value;
    dropped_ = std::exchange(o.dropped_, nullptr);
    return *this;
  }
  ~Item() {
    if (dropped_ != nullptr) dropped_->add(value);
  }
  void release() noexcept { dropped_ = nullptr; }  // consumed or never enqueued
  std::uint64_t value;

 private:
  Totals* dropped_;
};

}  // namespace

TEST(QueueStress, FourByFourExactlyOnceThroughMaxsize64) {
  constexpr int kProducers = 4, kConsumers = 4;
  const long per_producer = scaled(1'000'000, 1000);
  const long total = per_producer * kProducers;
  q::Queue<std::uint64_t> queue(64);
  std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(total));
  std::atomic<long long> got_count{0}, got_sum{0}, duplicates{0};

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (long i = 0; i < per_producer; ++i) queue.put(static_cast<std::uint64_t>(p * per_producer + i));
    });
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&, c] {
      long long n = 0, s = 0;
      auto record = [&](std::uint64_t v) {
        if (seen[v].fetch_add(1, std::memory_order_relaxed) != 0) ++duplicates;
        ++n;
        s += static_cast<long long>(v);
      };
      if (c % 2 == 0) {
        for (std::uint64_t v : queue) record(v);  // iteration calls task_done
      } else {
        for (;;) {
          std::uint64_t v;
          if (queue.try_get(v, {}) != q::Status::ok) break;  // blocking, non-throwing
          record(v);
          queue.task_done();
        }
      }
      got_count += n;
      got_sum += s;
    });
  for (int p = 0; p < kProducers; ++p) threads[static_cast<std::size_t>(p)].join();
  EXPECT_TRUE(queue.join(300s));  // every item processed
  queue.shutdown();
  for (int c = 0; c < kConsumers; ++c) threads[static_cast<std::size_t>(kProducers + c)].join();
  EXPECT_EQ(got_count.load(), total);
  EXPECT_EQ(got_sum.load(), total * (total - 1) / 2);
  EXPECT_EQ(duplicates.load(), 0);
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](auto& s) { return s.load() == 1; }));
}

class QueueShutdownStress : public ::testing::TestWithParam<bool> {};

TEST_P(QueueShutdownStress, RandomShutdownLosesNothingAndReleasesEveryone) {
  const bool immediate = GetParam();
  constexpr int kProducers = 4, kConsumers = 4;
  const int rounds = static_cast<int>(scaled(40, 4));
  const long per_producer = scaled(100'000, 500);
  std::mt19937 rng(12345u + (immediate ? 1u : 0u));

  for (int round = 0; round < rounds; ++round) {
    q::Queue<Item> queue(64);
    Totals put_ok, received, dropped;
    std::atomic<long long> duplicates{0};
    const long total = per_producer * kProducers;
    std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(total));
    std::atomic<int> joins_returned{0};

    std::vector<std::thread> threads;
    for (int p = 0; p < kProducers; ++p)
      threads.emplace_back([&, p] {
        for (long i = 0; i < per_producer; ++i) {
          const auto v = static_cast<std::uint64_t>(p * per_producer + i);
          Item item(v, &dropped);
          if (p % 2 == 0) {
            try {
              queue.put(std::move(item));
            } catch (const q::ShutDown&) {
              item.release();  // a failed put leaves the item with its caller
              return;
            }
          } else if (queue.try_put(std::move(item), {}) != q::Status::ok) {
            item.release();
            return;
          }
          put_ok.add(v);
        }
      });
    for (int c = 0; c < kConsumers; ++c)
      threads.emplace_back([&, c] {
        auto record = [&](Item& item) {
          item.release();
          if (seen[item.value].fetch_add(1, std::memory_order_relaxed) != 0) ++duplicates;
          received.add(item.value);
        };
        if (c % 2 == 0) {
          for (Item item : queue) record(item);
        } else {
          try {
            for (;;) {
              Item item = queue.get();
              record(item);
              queue.task_done();
            }
          } catch (const q::ShutDown&) {
          }
        }
      });
    std::thread joiner([&] {
      queue.join();  // must return: consumers finish every item or shutdown(true) drops it
      ++joins_returned;
    });

    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30000)(rng)));
    queue.shutdown(immediate);
    for (auto& t : threads) t.join();
    joiner.join();

    EXPECT_EQ(joins_returned.load(), 1);
    EXPECT_EQ(duplicates.load(), 0) << "round " << round;
    EXPECT_EQ(put_ok.count.load(), received.count.load() + dropped.count.load()) << "round " << round;
    EXPECT_EQ(put_ok.sum.load(), received.sum.load() + dropped.sum.load()) << "round " << round;
    if (!immediate) {
      EXPECT_EQ(dropped.count.load(), 0);
    }
    EXPECT_TRUE(queue.join(0s));
    EXPECT_EQ(queue.qsize(), 0u);
    EXPECT_THROW(queue.put(Item(0, nullptr)), q::ShutDown);
    EXPECT_THROW((void)queue.get_nowait(), q::ShutDown);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, QueueShutdownStress, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Immediate" : "Graceful"; });

TEST(QueueStress, StopTokensCancelUnderContention) {
  // Getters and putters blocked on one queue are cancelled at random while traffic flows; nothing
  // delivered twice, nothing hangs.
  const int rounds = static_cast<int>(scaled(30, 3));
  std::mt19937 rng(99);
  for (int round = 0; round < rounds; ++round) {
    q::Queue<int> queue(8);
    std::stop_source stop;
    std::atomic<long long> put_sum{0}, got_sum{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < 3; ++p)
      threads.emplace_back([&, p] {
        try {
          for (int i = 1; !stop.stop_requested(); ++i) {
            queue.put(p * 1'000'000 + i, stop.get_token());
            put_sum += p * 1'000'000 + i;
          }
        } catch (const concur::CancelledError&) {
        }
      });
    for (int c = 0; c < 3; ++c)
      threads.emplace_back([&] {
        try {
          while (!stop.stop_requested()) got_sum += queue.get(stop.get_token());
        } catch (const concur::CancelledError&) {
        }
      });
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng)));
    stop.request_stop();
    for (auto& t : threads) t.join();
    long long left = 0;
    while (auto v = queue.try_get()) left += *v;
    EXPECT_EQ(put_sum.load(), got_sum.load() + left);
  }
}

TEST(QueueStress, RingWithOddBoundMixedBlockingTimeoutsAndNowait) {
  // The lock-free ring (bound 3: not a power of two, laps every 3 items) under 3 producers and
  // 3 consumers that mix put/get, timed put/get and put_nowait/get_nowait: every item delivered
  // exactly once, the task count returns to zero, and several joiners all return.
  constexpr int kProducers = 3, kConsumers = 3;
  const long per_producer = scaled(200'000, 2000);
  const long total = per_producer * kProducers;
  q::Queue<std::uint64_t> queue(3);
  std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(total));
  std::atomic<long long> got{0}, duplicates{0}, timeouts{0};

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (long i = 0; i < per_producer; ++i) {
        const auto v = static_cast<std::uint64_t>(p * per_producer + i);
        switch (i % 3) {
          case 0: queue.put(v); break;
          case 1:
            while (queue.try_put(v, {.block = true, .timeout = 50us}) != q::Status::ok) ++timeouts;
            break;
          default:
            for (;;) {
              try {
                queue.put_nowait(v);
                break;
              } catch (const q::Full&) {
                std::this_thread::yield();
              }
            }
        }
      }
    });
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&, c] {
      for (long n = 0;; ++n) {
        std::optional<std::uint64_t> v;
        if ((n + c) % 3 == 0) {
          v = queue.try_get({.block = true, .timeout = 50us});
          if (!v) ++timeouts;
        } else if ((n + c) % 3 == 1) {
          try {
            v = queue.get_nowait();
          } catch (const q::Empty&) {
            std::this_thread::yield();
          } catch (const q::ShutDown&) {
            return;  // shut down and drained
          }
        } else {
          try {
            v = queue.get();
          } catch (const q::ShutDown&) {
            return;
          }
        }
        if (!v) {
          if (queue.is_shutdown() && queue.empty()) return;
          continue;
        }
        if (seen[*v].fetch_add(1, std::memory_order_relaxed) != 0) ++duplicates;
        ++got;
        queue.task_done();
      }
    });
  std::vector<std::thread> joiners;
  std::atomic<int> joined{0};
  for (int j = 0; j < 3; ++j)
    joiners.emplace_back([&] {
      while (got.load() < total) std::this_thread::sleep_for(1ms);
      queue.join();
      ++joined;
    });
  for (int p = 0; p < kProducers; ++p) threads[static_cast<std::size_t>(p)].join();
  EXPECT_TRUE(queue.join(300s));
  queue.shutdown();
  for (auto& t : threads)
    if (t.joinable()) t.join();
  for (auto& t : joiners) t.join();
  EXPECT_EQ(joined.load(), 3);
  EXPECT_EQ(got.load(), total);
  EXPECT_EQ(duplicates.load(), 0);
  EXPECT_EQ(queue.unfinished_tasks(), 0u);
  EXPECT_THROW(queue.task_done(), concur::ValueError);
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](auto& s) { return s.load() == 1; }));
}

TEST(QueueStress, TaskDoneRacesPutsWithoutGoingNegative) {
  // task_done() from many threads racing puts: the count never drops below zero (ValueError
  // instead), and join() returns exactly when puts == successful task_done() calls.
  const int rounds = static_cast<int>(scaled(200, 10));
  for (int round = 0; round < rounds; ++round) {
    q::Queue<int> queue(16);
    std::atomic<long> ok_done{0}, refused{0};
    std::atomic<bool> stop{false};
    std::thread producer([&] {
      for (int i = 0; i < 16; ++i) queue.put(i);
      stop = true;
    });
    std::vector<std::thread> finishers;
    for (int t = 0; t < 3; ++t)
      finishers.emplace_back([&] {
        while (!stop.load() || queue.unfinished_tasks() > 0) {
          try {
            queue.task_done();
            ++ok_done;
          } catch (const concur::ValueError&) {
            ++refused;
          }
        }
      });
    producer.join();
    for (auto& t : finishers) t.join();
    EXPECT_EQ(ok_done.load(), 16) << "round " << round;
    EXPECT_TRUE(queue.join(0s));
    EXPECT_EQ(queue.qsize(), 16u);  // task_done() does not remove items
  }
}
