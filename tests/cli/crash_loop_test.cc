// Integration: a crash loop of one actor on a real node. The root supervisor backs off, then
// gives up on that actor alone; every other actor, its state and the node's ability to spawn
// are untouched, and `troupe ls` shows the failed actor with its reason.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/node_process.h"

namespace troupe {
namespace {

using testing::NodeProcess;

TEST(CliCrashLoop, FailsTheCrasherAloneAndTheNodeKeepsServing) {
  const std::string dir = testing::temp_dir("crashloop");
  {
    NodeProcess node(dir);
    ASSERT_TRUE(node.wait_ready()) << node.errors();
    ASSERT_EQ(node.cli({"spawn", "counter", "--name", "k"}).code, 0);
    ASSERT_EQ(node.cli({"ask", "k", "inc", "5"}).out, "5\n");
    ASSERT_EQ(node.cli({"spawn", "crasher", "--name", "c"}).code, 0);

    // The reproduction: 12 crashes in a row. The first ones are restarted (after a
    // growing backoff), then the crasher is given up on and its name is free.
    int crashed = 0, gone = 0;
    for (int i = 0; i < 12; ++i) {
      auto r = node.cli({"ask", "c", "crash", "x"});
      EXPECT_NE(r.code, 0);
      if (r.err == "error: handler-error: crash requested: x\n") ++crashed;
      // (Dead if it was still being taken down when this ask resolved its name.)
      if (r.err == "error: not-found: no actor 'c'\n" || r.err.starts_with("error: dead:")) ++gone;
    }
    EXPECT_EQ(crashed, 6);  // the first failure and five restarts (the root's default)
    EXPECT_EQ(gone, 6);

    // The other actor still answers, with its state.
    auto r = node.cli({"ask", "k", "get"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "5\n");

    // ls: the crasher is listed as failed, with its last reason.
    r = node.cli({"ls"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto at = r.out.find("(c)");
    ASSERT_NE(at, std::string::npos) << r.out;
    auto rest = r.out.substr(at);
    EXPECT_NE(rest.find("failed: error: handler-error: crash requested: x (6 failures within"),
              std::string::npos)
        << r.out;

    r = node.cli({"status"});
    EXPECT_EQ(r.code, 0) << r.err;

    // The node still spawns, also under the freed name.
    ASSERT_EQ(node.cli({"spawn", "echo", "--name", "c"}).code, 0);
    r = node.cli({"ask", "c", "hi", "there"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "there\n");
    EXPECT_EQ(node.stop(), 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace troupe
