#include "troupe/cluster/suspicion.h"

#include <gtest/gtest.h>

#include <chrono>

namespace troupe {
namespace {

using namespace std::chrono_literals;

TEST(SuspicionFormula, MinimumScalesWithLog10OfTheClusterNeverBelowOneInterval) {
  EXPECT_EQ(suspicion_min_timeout(4, 0, 1s), 4s);
  EXPECT_EQ(suspicion_min_timeout(4, 1, 1s), 4s);
  EXPECT_EQ(suspicion_min_timeout(4, 5, 1s), 4s);
  EXPECT_EQ(suspicion_min_timeout(4, 10, 1s), 4s);
  EXPECT_EQ(suspicion_min_timeout(4, 100, 1s), 8s);
  EXPECT_EQ(suspicion_min_timeout(4, 1000, 500ms), 6s);
  EXPECT_EQ(suspicion_min_timeout(5, 50, 1s), 8490ms);  // 5 * 1.698 s
}

TEST(SuspicionFormula, TimeoutShrinksFromMaxToMinWithConfirmations) {
  // k = 2 expected confirmations, min 4 s, max 24 s (the defaults in a 5-member cluster).
  EXPECT_EQ(suspicion_timeout(0, 2, 4s, 24s), 24s);
  // 24 - log(2)/log(3) * 20 = 11.381... s, floored to the millisecond.
  EXPECT_EQ(suspicion_timeout(1, 2, 4s, 24s), 11381ms);
  EXPECT_EQ(suspicion_timeout(2, 2, 4s, 24s), 4s);
  EXPECT_EQ(suspicion_timeout(3, 2, 4s, 24s), 4s);  // never below min
  // k = 3: 30 - log(n+1)/log(4) * 25 with min 5 s.
  EXPECT_EQ(suspicion_timeout(1, 3, 5s, 30s), 17500ms);
  EXPECT_EQ(suspicion_timeout(2, 3, 5s, 30s), 10187ms);
  EXPECT_EQ(suspicion_timeout(3, 3, 5s, 30s), 5s);
  // Nobody to confirm: min from the start.
  EXPECT_EQ(suspicion_timeout(0, 0, 4s, 24s), 4s);
}

TEST(SuspicionFormula, ExpectedConfirmationsNeedEnoughMembers) {
  EXPECT_EQ(expected_suspicion_confirmations(4, 100), 2);
  EXPECT_EQ(expected_suspicion_confirmations(4, 4), 2);
  EXPECT_EQ(expected_suspicion_confirmations(4, 3), 0);
  EXPECT_EQ(expected_suspicion_confirmations(1, 100), 0);
}

TEST(Suspicion, DeadlineMovesEarlierWithEachIndependentConfirmation) {
  const Clock::TimePoint start(100s);
  Suspicion s(/*accuser=*/7, /*expected=*/2, 4s, 24s, start);
  EXPECT_EQ(s.deadline(), start + 24s);
  EXPECT_FALSE(s.confirm(7)) << "the accuser does not confirm itself";
  EXPECT_TRUE(s.confirm(8));
  EXPECT_EQ(s.deadline(), start + 11381ms);
  EXPECT_FALSE(s.confirm(8)) << "one confirmation per member";
  EXPECT_TRUE(s.confirm(9));
  EXPECT_EQ(s.deadline(), start + 4s);
  EXPECT_FALSE(s.confirm(10)) << "nothing to gain past the minimum";
  EXPECT_EQ(s.confirmations(), 2);
}

}  // namespace
}  // namespace troupe
