#include "troupe/base/ids.h"

#include <gtest/gtest.h>

namespace troupe {

TEST(ActorId, RoundTripsThroughText) {
  ActorId id{0x1a2b, 42};
  EXPECT_EQ(id.to_string(), "1a2b.42");
  auto back = ActorId::parse("1a2b.42");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, id);
}

TEST(ActorId, RejectsMalformedText) {
  for (const char* bad : {"", ".", "1a2b", "1a2b.", ".42", "zz.1", "1.x", "1.0", "1.2.3", "1 .2"}) {
    EXPECT_FALSE(ActorId::parse(bad).has_value()) << bad;
  }
}

}  // namespace troupe
