#include "troupe/platform/platform_error.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"

namespace troupe {
namespace {

// The CLI prints `error: KIND: detail` with these names (docs/PLATFORM.md): they must not change.
TEST(PlatformErrc, NamesAreTheDocumentedKinds) {
  EXPECT_EQ(ErrorCode(PlatformErrc::kMalformed).name(), "malformed");
  EXPECT_EQ(ErrorCode(PlatformErrc::kTooLarge).name(), "too-large");
  EXPECT_EQ(ErrorCode(PlatformErrc::kUntrusted).name(), "untrusted");
  EXPECT_EQ(ErrorCode(PlatformErrc::kRevoked).name(), "revoked");
  EXPECT_EQ(ErrorCode(PlatformErrc::kBadSignature).name(), "bad-signature");
  EXPECT_EQ(ErrorCode(PlatformErrc::kHashMismatch).name(), "hash-mismatch");
  EXPECT_EQ(ErrorCode(PlatformErrc::kRefused).name(), "refused");
  EXPECT_EQ(ErrorCode(PlatformErrc::kQuotaExceeded).name(), "quota-exceeded");
  EXPECT_EQ(ErrorCode(PlatformErrc::kPermissionDenied).name(), "permission-denied");
  EXPECT_EQ(ErrorCode(PlatformErrc::kDamaged).name(), "damaged");
  EXPECT_EQ(ErrorCode(PlatformErrc::kMasterKeyMismatch).name(), "master-key-mismatch");
  EXPECT_EQ(ErrorCode(PlatformErrc::kExpired).name(), "expired");
  EXPECT_EQ(ErrorCode(PlatformErrc::kMalformed).layer(), "platform");
  EXPECT_NE(ErrorCode(PlatformErrc::kMalformed), BaseErrc::kInvalidArgument);
}

}  // namespace
}  // namespace troupe
