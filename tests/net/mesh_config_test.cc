#include "troupe/net/mesh_config.h"

#include <gtest/gtest.h>

#include "troupe/base/error.h"

namespace troupe::net {
namespace {

const std::string kKey = "OLC5pAw2cm1twKuRCny5ug4FfPE1ds+TMYmC9EkGdwg=";

Result<MeshConfig> parse(std::string_view text) {
  toml::table root = toml::parse(text);
  MeshConfig config;
  auto parsed = parse_mesh_table(*root["mesh"].as_table(), "node.toml", config);
  if (!parsed.ok()) return parsed.error();
  return config;
}

TEST(MeshConfig, OffUnlessListenOrJoinAndEmptyAllowAllowsNobody) {
  auto off = parse("[mesh]\nhandshake_timeout_ms = 1000\n");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled());
  auto on = parse("[mesh]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(on->enabled());
  EXPECT_TRUE(on->allow.empty());
}

TEST(MeshConfig, ReadsEveryKey) {
  auto c = parse(
      "[mesh]\nlisten = [\"127.0.0.1:7400\", \"unix:/tmp/m.sock\"]\n"
      "advertise = \"10.0.0.5:7400\"\njoin = \"10.0.0.6:7400\"\n"
      "allow = [\"" +
      kKey +
      "\"]\nhandshake_timeout_ms = 2000\nio_threads = 2\n"
      "max_peers = 16\nmax_hold_ms = 250\ntcp_user_timeout_ms = 3000\n");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_EQ(c->listen.size(), 2u);
  EXPECT_EQ(c->listen[1].kind, MeshAddress::Kind::kUnix);
  EXPECT_EQ(c->advertise, "10.0.0.5:7400");
  ASSERT_EQ(c->join.size(), 1u);
  ASSERT_EQ(c->allow.size(), 1u);
  EXPECT_EQ(node_key_text(c->allow[0]), kKey);
  EXPECT_EQ(c->handshake_timeout.count(), 2000);
  EXPECT_EQ(c->io_threads, 2u);
  EXPECT_EQ(c->max_peers, 16u);
  EXPECT_EQ(c->max_hold.count(), 250);
  EXPECT_EQ(c->tcp_user_timeout.count(), 3000);
}

TEST(MeshConfig, BadValuesAndUnknownKeysNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"listen = 7400", "mesh.listen"},
      {"listen = \"nohost\"", "mesh.listen"},
      {"join = \"127.0.0.1:0\"", "mesh.join"},
      {"allow = [\"short\"]", "mesh.allow"},
      {"allow = \""
       "OLC5pAw2cm1twKuRCny5ug4FfPE1ds+TMYmC9EkGdwg"
       "\"",
       "mesh.allow"},
      {"handshake_timeout_ms = 0", "mesh.handshake_timeout_ms"},
      {"io_threads = true", "mesh.io_threads"},
      {"max_peers = 0", "mesh.max_peers"},
      {"max_hold_ms = 0", "mesh.max_hold_ms"},
      {"max_hold_ms = 600001", "mesh.max_hold_ms"},
      {"tcp_user_timeout_ms = 999", "mesh.tcp_user_timeout_ms"},
      {"tcp_user_timeout_ms = \"10s\"", "mesh.tcp_user_timeout_ms"},
      {"advertise = \"unix:\"", "mesh.advertise"},
      {"seeds = []", "unknown key mesh.seeds"},
      {"listen = []", "mesh.listen is an empty list"},
  };
  for (const auto& [line, want] : cases) {
    auto c = parse(std::string("[mesh]\n") + line + "\n");
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_NE(c.error().detail.find(want), std::string::npos) << c.error().detail;
  }
}

}  // namespace
}  // namespace troupe::net
