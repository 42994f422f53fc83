#include "troupe/cluster/cluster_error.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"
#include "troupe/net/net_error.h"

namespace troupe {
namespace {

// DOWN reasons and pending asks carry "noconnection" (Erlang's word): the name must not change.
TEST(ClusterErrc, NamesAreStableAndTheLayerIsCluster) {
  EXPECT_EQ(ErrorCode(ClusterErrc::kNoConnection).name(), "noconnection");
  EXPECT_EQ(ErrorCode(ClusterErrc::kMalformed).layer(), "cluster");
  EXPECT_NE(ErrorCode(ClusterErrc::kMalformed), NetErrc::kMalformed);
}

}  // namespace
}  // namespace troupe
