#include "troupe/node/node_error.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"

namespace troupe {
namespace {

// The control protocol sends "protocol: ..." and the CLI prints it: the name must not change.
TEST(NodeErrc, NamesAreTheWireNames) {
  EXPECT_EQ(ErrorCode(NodeErrc::kProtocol).name(), "protocol");
  EXPECT_EQ(ErrorCode(NodeErrc::kProtocol).layer(), "node");
  EXPECT_NE(ErrorCode(NodeErrc::kProtocol), BaseErrc::kInvalidArgument);
}

}  // namespace
}  // namespace troupe
