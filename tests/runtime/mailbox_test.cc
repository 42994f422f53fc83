#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "troupe/runtime/bounded_queue.h"
#include "troupe/runtime/mpsc_queue.h"

namespace troupe {
namespace {

struct Item {
  int producer;
  int seq;
};

TEST(MpscQueue, KeepsPerProducerOrderUnderContention) {
  MpscQueue q;
  constexpr int kProducers = 4;
  constexpr int kEach = 50000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&q, p] {
      for (int i = 0; i < kEach; ++i) q.push(new TypedMessage<Item>(Item{p, i}));
    });
  }
  std::vector<int> next(kProducers, 0);
  int received = 0;
  while (received < kProducers * kEach) {
    Message* m = q.pop();
    if (!m) continue;
    auto& it = m->as<Item>();
    ASSERT_EQ(it.seq, next[it.producer]) << "producer " << it.producer;
    ++next[it.producer];
    ++received;
    delete m;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(BoundedQueue, RefusesWhenFullAndIsFifo) {
  BoundedQueue q(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.push(new TypedMessage<int>(i)));
  auto* extra = new TypedMessage<int>(99);
  EXPECT_FALSE(q.push(extra));
  delete extra;
  EXPECT_EQ(q.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    Message* m = q.pop();
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->as<int>(), i);
    delete m;
  }
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(BoundedQueue, ConcurrentProducersAndConsumersLoseNothing) {
  BoundedQueue q(64);
  constexpr int kEach = 20000;
  std::atomic<long> sum{0};
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&q] {
      for (int i = 1; i <= kEach; ++i) {
        auto* m = new TypedMessage<int>(i);
        while (!q.push(m)) std::this_thread::yield();
      }
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      while (taken.load() < 2 * kEach) {
        if (Message* m = q.pop()) {
          sum += m->as<int>();
          ++taken;
          delete m;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), 2L * kEach * (kEach + 1) / 2);
}

}  // namespace
}  // namespace troupe
