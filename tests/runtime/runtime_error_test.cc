#include "troupe/runtime/runtime_error.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"

namespace troupe {
namespace {

// The names the CLI prints, the control protocol sends and tests match: they must not change.
TEST(RuntimeErrc, NamesAreTheWireNames) {
  EXPECT_EQ(ErrorCode(RuntimeErrc::kDead).name(), "dead");
  EXPECT_EQ(ErrorCode(RuntimeErrc::kHandlerError).name(), "handler-error");
  EXPECT_EQ(ErrorCode(RuntimeErrc::kCallCycle).name(), "call-cycle");
  EXPECT_EQ(ErrorCode(RuntimeErrc::kMailboxFull).name(), "mailbox-full");
  EXPECT_EQ(ErrorCode(RuntimeErrc::kBadReply).name(), "bad-reply");
  EXPECT_EQ(ErrorCode(RuntimeErrc::kDead).layer(), "runtime");
}

TEST(RuntimeErrc, IsNotTheBaseCodeOfTheSameValue) {
  EXPECT_NE(ErrorCode(RuntimeErrc::kDead), BaseErrc::kInvalidArgument);
  EXPECT_EQ(Error(RuntimeErrc::kDead, "x").to_string(), "dead: x");
}

}  // namespace
}  // namespace troupe
