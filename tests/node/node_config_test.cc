#include <gtest/gtest.h>

#include "troupe/node/node.h"

namespace troupe {
namespace {

TEST(NodeConfig, DefaultsWithoutAFile) {
  NodeConfig c;
  EXPECT_EQ(c.data_dir, ".troupe");
  EXPECT_EQ(c.socket_path(), ".troupe/control.sock");
  EXPECT_EQ(c.workers, 0u);
}

TEST(NodeConfig, ParsesTheNodeTable) {
  auto c = NodeConfig::parse(R"(
[node]
data_dir = "/tmp/x"
workers = 3
control_socket = "/tmp/x/s.sock"
ask_timeout_ms = 1500
max_guest_instances = 100
max_guest_memory_mb = 2048
)",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_EQ(c->workers, 3u);
  EXPECT_EQ(c->socket_path(), "/tmp/x/s.sock");
  EXPECT_EQ(c->ask_timeout.count(), 1500);
  EXPECT_EQ(c->max_guest_instances, 100u);
  EXPECT_EQ(c->max_guest_memory_mb, 2048u);
}

TEST(NodeConfig, RejectsBadInputWithALocation) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (auto [text, expect] :
       {Case{"[node\nworkers=1", "t.toml:1"}, Case{"[node]\nworkers = -1", "node.workers"},
        Case{"[node]\nworkers = \"two\"", "node.workers"},
        Case{"[node]\nnode_id = 255", "derives from the node's key"},
        Case{"[node]\nmax_guest_memory_mb = -5", "node.max_guest_memory_mb"},
        Case{"[node]\ncolour = 1", "unknown key node.colour"},
        Case{"[other]\nx = 1", "unknown table [other]"},
        Case{"[node]\ndata_dir = \"\"", "node.data_dir"}}) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, Errc::kInvalidArgument);
    EXPECT_NE(c.error().detail.find(expect), std::string::npos) << c.error().detail;
  }
  auto missing = NodeConfig::load("/nonexistent/troupe.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace troupe
