#include "troupe/net/net_error.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"

namespace troupe {
namespace {

// Logs and the CLI print these names: they must not change, and must not collide with another
// layer's codes.
TEST(NetErrc, NamesAreStableAndTheLayerIsNet) {
  EXPECT_EQ(ErrorCode(NetErrc::kNotAllowed).name(), "not-allowed");
  EXPECT_EQ(ErrorCode(NetErrc::kVersionMismatch).name(), "version-mismatch");
  EXPECT_EQ(ErrorCode(NetErrc::kIdentityMismatch).name(), "identity-mismatch");
  EXPECT_EQ(ErrorCode(NetErrc::kMalformed).layer(), "net");
  EXPECT_NE(ErrorCode(NetErrc::kMalformed), BaseErrc::kInvalidArgument);
}

}  // namespace
}  // namespace troupe
