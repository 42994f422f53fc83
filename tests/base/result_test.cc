#include "troupe/base/result.h"

#include <gtest/gtest.h>

namespace troupe {

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  Result<int> bad = Error{BaseErrc::kTimedOut, "slow"};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, BaseErrc::kTimedOut);
  EXPECT_EQ(bad.error().to_string(), "timed-out: slow");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, VoidResult) {
  Result<void> ok;
  EXPECT_TRUE(ok.ok());
  Result<void> bad(BaseErrc::kNotFound, "x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, BaseErrc::kNotFound);
}

}  // namespace troupe
