// LogThrottle: one refusal line per host per interval, with the count held back before it;
// bounded however many hosts there are.
#include "troupe/net/log_throttle.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe::net {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottle, OneLinePerSourcePerIntervalSayingHowManyWereHeldBack) {
  LogThrottle throttle(10s);
  const auto t0 = LogThrottle::Clock::time_point{} + 1h;
  EXPECT_EQ(throttle.admit("10.0.0.1", t0), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(throttle.admit("10.0.0.1", t0 + 1s));
  EXPECT_EQ(throttle.admit("10.0.0.2", t0 + 1s), 0u);  // another host has its own
  EXPECT_EQ(throttle.admit("10.0.0.1", t0 + 10s), 5u);
  EXPECT_FALSE(throttle.admit("10.0.0.1", t0 + 11s));
  EXPECT_EQ(throttle.held_back(), 6u);
}

TEST(LogThrottle, PastItsBoundSourcesShareOneBucket) {
  LogThrottle throttle(10s, 2);
  const auto t0 = LogThrottle::Clock::time_point{} + 1h;
  EXPECT_TRUE(throttle.admit("a", t0));
  EXPECT_TRUE(throttle.admit("b", t0));
  EXPECT_TRUE(throttle.admit("c", t0));  // the shared bucket's first line
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(throttle.admit("host-" + std::to_string(i), t0 + 1s));
  }
  EXPECT_EQ(throttle.held_back(), 1000u);
  // An interval later the quiet ones are forgotten and new hosts get their own again.
  EXPECT_EQ(throttle.admit("d", t0 + 20s), 0u);
}

// Review finding: eviction went by the last line written, so a host held back all along was
// forgotten (and its count lost). A host heard from within the interval is kept.
TEST(LogThrottle, AHostHeardFromLatelyIsNotForgotten) {
  LogThrottle throttle(10s, 1);
  const auto t0 = LogThrottle::Clock::time_point{} + 1h;
  EXPECT_EQ(throttle.admit("busy", t0), 0u);
  for (int i = 1; i < 10; ++i) EXPECT_FALSE(throttle.admit("busy", t0 + i * 1s));
  // Its last line is 10.5 s old, but it was heard from 1.5 s ago: kept, so the newcomer goes
  // to the shared bucket, and its next line still says what it held back.
  EXPECT_EQ(throttle.admit("new", t0 + 10500ms), 0u);
  EXPECT_EQ(throttle.admit("busy", t0 + 11s), 9u);
}

TEST(LogThrottle, AHostIsTheEndpointWithoutItsPort) {
  EXPECT_EQ(host_of_endpoint("127.0.0.6:41234"), "127.0.0.6");
  EXPECT_EQ(host_of_endpoint("::1:7450"), "::1");
  EXPECT_EQ(host_of_endpoint("unix"), "unix");
}

}  // namespace
}  // namespace troupe::net
