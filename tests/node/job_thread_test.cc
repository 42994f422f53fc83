#include "troupe/node/job_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

namespace troupe {
namespace {

TEST(JobThread, RunsJobsInOrderOffTheCallersThread) {
  JobThread jobs(8);
  std::vector<int> order;
  std::promise<std::thread::id> ran_on;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(jobs.post([&, i](bool cancelled) {
      EXPECT_FALSE(cancelled);
      order.push_back(i);
      if (i == 2) ran_on.set_value(std::this_thread::get_id());
    }));
  }
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
  jobs.stop();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(JobThread, RefusesPastTheBoundAndCancelsQueuedJobsOnStop) {
  JobThread jobs(2);
  std::promise<void> started, release;
  auto release_future = release.get_future();
  ASSERT_TRUE(jobs.post([&](bool) {
    started.set_value();
    release_future.wait();
  }));
  started.get_future().wait();  // the thread is busy; the queue is empty
  std::atomic<int> cancelled{0};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(jobs.post([&](bool c) { cancelled += c ? 1 : 0; }));
  }
  EXPECT_FALSE(jobs.post([](bool) { ADD_FAILURE() << "a refused job ran"; }));
  std::thread stopper([&] { jobs.stop(); });
  while (!jobs.stopping()) std::this_thread::yield();  // the queued jobs must see the stop
  release.set_value();
  stopper.join();
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_FALSE(jobs.post([](bool) { ADD_FAILURE() << "ran after stop"; }));
}

}  // namespace
}  // namespace troupe
