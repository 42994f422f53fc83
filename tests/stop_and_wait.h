// stop_and_wait: stops a batch of actors, releases their refs and waits until the system is
// back to `base` live actors — the check that no stop is lost. Test helper; any thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "troupe/runtime/actor_system.h"

namespace troupe::testing {

inline ::testing::AssertionResult stop_and_wait(ActorSystem& sys, std::vector<ActorRef>& refs,
                                                std::uint64_t base, std::chrono::seconds limit) {
  for (auto& r : refs) sys.stop(r);
  refs.clear();
  const auto waited = std::chrono::steady_clock::now();
  while (sys.stats().live > base) {
    std::this_thread::yield();
    if (std::chrono::steady_clock::now() - waited > limit) {
      return ::testing::AssertionFailure() << (sys.stats().live - base) << " actors alive "
                                           << limit.count() << " s after their stop";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace troupe::testing
