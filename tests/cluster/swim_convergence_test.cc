// Membership in a simulated network (sim_network.h): joining, failure detection, loss,
// partitions and their healing, in virtual time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "sim_network.h"

namespace troupe::test {
namespace {

using namespace std::chrono_literals;

TEST(SwimConvergence, FiveNodesJoiningThroughOneSeedConverge) {
  SimNetwork sim(1);
  sim.add_cluster(5);
  const auto took = sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 10s);
  ASSERT_TRUE(took.has_value());
  std::printf("[sim] 5 nodes converged to 5 alive in %.3f s\n", seconds(*took));
  EXPECT_LT(*took, 3s);
}

}  // namespace
}  // namespace troupe::test
