#include "troupe/cluster/swim_config.h"

#include <gtest/gtest.h>

#include <functional>

#include "troupe/base/error.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;

TEST(SwimConfig, DefaultsAreMemberlistsLanConfig) {
  const SwimConfig c;
  EXPECT_EQ(c.probe_interval, 1s);
  EXPECT_EQ(c.probe_timeout, 500ms);
  EXPECT_EQ(c.indirect_checks, 3);
  EXPECT_EQ(c.retransmit_mult, 4);
  EXPECT_EQ(c.suspicion_mult, 4);
  EXPECT_EQ(c.suspicion_max_timeout_mult, 6);
  EXPECT_EQ(c.gossip_interval, 200ms);
  EXPECT_EQ(c.gossip_nodes, 3);
  EXPECT_EQ(c.gossip_to_the_dead_time, 30s);
  EXPECT_EQ(c.push_pull_interval, 30s);
  EXPECT_EQ(c.awareness_max_multiplier, 8);
  EXPECT_TRUE(c.lifeguard);
  EXPECT_TRUE(check_swim_config(c).ok());
}

TEST(SwimConfig, ZeroIsAnErrorNotOff) {
  const std::vector<std::function<void(SwimConfig&)>> zeroes = {
      [](SwimConfig& c) { c.probe_interval = 0s; },
      [](SwimConfig& c) { c.probe_timeout = 0s; },
      [](SwimConfig& c) { c.indirect_checks = 0; },
      [](SwimConfig& c) { c.retransmit_mult = 0; },
      [](SwimConfig& c) { c.suspicion_mult = 0; },
      [](SwimConfig& c) { c.suspicion_max_timeout_mult = 0; },
      [](SwimConfig& c) { c.gossip_interval = 0s; },
      [](SwimConfig& c) { c.gossip_nodes = 0; },
      [](SwimConfig& c) { c.gossip_to_the_dead_time = 0s; },
      [](SwimConfig& c) { c.push_pull_interval = 0s; },
      [](SwimConfig& c) { c.awareness_max_multiplier = 0; },
      [](SwimConfig& c) { c.reconnect_interval = 0s; },
      [](SwimConfig& c) { c.reconnect_timeout = 0s; },
      [](SwimConfig& c) { c.max_members = 0; },
      [](SwimConfig& c) { c.max_message_bytes = 0; },
      [](SwimConfig& c) { c.max_updates_per_message = 0; },
      [](SwimConfig& c) { c.max_pending_relays = 0; },
  };
  for (std::size_t i = 0; i < zeroes.size(); ++i) {
    SwimConfig c;
    zeroes[i](c);
    auto checked = check_swim_config(c);
    ASSERT_FALSE(checked.ok()) << "field #" << i;
    EXPECT_EQ(checked.error().code, BaseErrc::kInvalidArgument);
  }
}

TEST(SwimConfig, RefusesOutOfRangeValues) {
  SwimConfig c;
  c.probe_timeout = c.probe_interval;  // no time left for the indirect probes
  EXPECT_FALSE(check_swim_config(c).ok());
  c = SwimConfig{};
  c.probe_interval = -1s;
  EXPECT_FALSE(check_swim_config(c).ok());
  c = SwimConfig{};
  c.max_members = 65536;  // push-pull counts are u16
  EXPECT_FALSE(check_swim_config(c).ok());
  c = SwimConfig{};
  c.max_message_bytes = 512;  // cannot hold a ping request and one update
  EXPECT_FALSE(check_swim_config(c).ok());
  c = SwimConfig{};
  c.awareness_max_multiplier = 1000;
  EXPECT_FALSE(check_swim_config(c).ok());
}

TEST(SwimConfig, PushPullBoundCoversAFullTable) {
  const SwimConfig c;
  // 1024 members of the largest record (305 bytes each) plus 32 of the largest updates.
  EXPECT_EQ(max_push_pull_bytes(c), 2u + 2 + 1024 * 305 + 2 + 32 * 313);
}

}  // namespace
}  // namespace troupe

#include <toml++/toml.h>

#include "troupe/cluster/swim_config_table.h"

namespace troupe {
namespace {

Result<SwimConfig> parse_cluster(std::string_view text) {
  toml::table root = toml::parse(text);
  SwimConfig config;
  auto parsed = parse_cluster_table(*root["cluster"].as_table(), "node.toml", config);
  if (!parsed.ok()) return parsed.error();
  return config;
}

TEST(ClusterTable, ReadsTheTimingAndRefusesZeroesUnknownKeysAndBadTypes) {
  auto c = parse_cluster(
      "[cluster]\nprobe_interval_ms = 200\nprobe_timeout_ms = 100\n"
      "suspicion_mult = 3\nmax_members = 64\n");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->probe_interval, std::chrono::milliseconds(200));
  EXPECT_EQ(c->probe_timeout, std::chrono::milliseconds(100));
  EXPECT_EQ(c->suspicion_mult, 3);
  EXPECT_EQ(c->max_members, 64u);
  EXPECT_EQ(c->gossip_interval, SwimConfig{}.gossip_interval);  // the rest keep the defaults
  for (const char* bad :
       {"probe_interval_ms = 0", "probe_interval_ms = \"1s\"", "gossip = 1", "suspicion_mult = 0",
        "max_members = 1", "probe_interval_ms = 100\nprobe_timeout_ms = 200"}) {
    auto r = parse_cluster(std::string("[cluster]\n") + bad + "\n");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().detail.find("node.toml: "), std::string::npos) << r.error().detail;
  }
}

}  // namespace
}  // namespace troupe
