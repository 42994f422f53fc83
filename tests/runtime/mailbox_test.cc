#include <gtest/gtest.h>

#include <atomic>
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

// pending() is what an actor reads before it goes idle: it must never say "empty" while a
// pushed message is still in the queue. A producer pushes two messages at a time and waits
// until both are taken; whenever a pop finds nothing and pending() says empty, every push that
// had completed must have been taken. Reading only the head failed this: a pop that re-links
// its stub while the second push is half done leaves head == stub with both nodes queued.
TEST(MpscQueue, PendingNeverSaysEmptyWhileAPushedMessageIsQueued) {
  MpscQueue q;
  constexpr std::uint64_t kPairs = 300000;
  std::atomic<std::uint64_t> pushed{0}, taken{0};
  std::atomic<bool> lied{false};
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kPairs && !lied.load(); ++i) {
      for (int k = 0; k < 2; ++k) {
        q.push(new TypedMessage<Item>(Item{0, static_cast<int>(i)}));
        pushed.fetch_add(1, std::memory_order_seq_cst);
      }
      while (taken.load(std::memory_order_acquire) < pushed.load() && !lied.load()) {
      }
    }
  });
  while (taken.load() < 2 * kPairs && !lied.load()) {
    if (Message* m = q.pop()) {
      delete m;
      taken.store(taken.load(std::memory_order_relaxed) + 1, std::memory_order_release);
      continue;
    }
    const std::uint64_t done = pushed.load(std::memory_order_seq_cst);
    if (!q.pending() && done > taken.load(std::memory_order_relaxed)) lied.store(true);
  }
  producer.join();
  EXPECT_FALSE(lied.load()) << "pending() said empty with " << (pushed.load() - taken.load())
                            << " pushed messages queued, after " << taken.load() << " taken";
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
