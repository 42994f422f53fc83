#include "troupe/cluster/swim_config_table.h"

#include <cstdint>

#include "troupe/base/error.h"

namespace troupe {
namespace {

Result<std::int64_t> integer_in(const toml::node& value, const std::string& what, std::int64_t min,
                                std::int64_t max) {
  auto v = value.value_exact<std::int64_t>();
  if (!v || *v < min || *v > max) {
    return Error{BaseErrc::kInvalidArgument, what + " must be an integer in " +
                                                 std::to_string(min) + ".." + std::to_string(max)};
  }
  return *v;
}

}  // namespace

Result<void> parse_cluster_table(const toml::table& table, const std::string& origin,
                                 SwimConfig& config) {
  constexpr std::int64_t kDay = 24LL * 3600 * 1000;
  struct Duration {
    const char* key;
    SwimConfig::Duration SwimConfig::*field;
  };
  static constexpr Duration kDurations[] = {
      {"probe_interval_ms", &SwimConfig::probe_interval},
      {"probe_timeout_ms", &SwimConfig::probe_timeout},
      {"gossip_interval_ms", &SwimConfig::gossip_interval},
      {"push_pull_interval_ms", &SwimConfig::push_pull_interval},
      {"reconnect_interval_ms", &SwimConfig::reconnect_interval},
  };
  struct Count {
    const char* key;
    int SwimConfig::*field;
  };
  static constexpr Count kCounts[] = {
      {"indirect_checks", &SwimConfig::indirect_checks},
      {"gossip_nodes", &SwimConfig::gossip_nodes},
      {"retransmit_mult", &SwimConfig::retransmit_mult},
      {"suspicion_mult", &SwimConfig::suspicion_mult},
      {"suspicion_max_timeout_mult", &SwimConfig::suspicion_max_timeout_mult},
  };
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    const std::string what = origin + ": cluster." + k;
    bool known = false;
    for (const Duration& d : kDurations) {
      if (k != d.key) continue;
      auto n = integer_in(value, what, 1, kDay);
      if (!n.ok()) return n.error();
      config.*d.field = std::chrono::milliseconds(*n);
      known = true;
    }
    for (const Count& c : kCounts) {
      if (k != c.key) continue;
      auto n = integer_in(value, what, 1, 64);
      if (!n.ok()) return n.error();
      config.*c.field = static_cast<int>(*n);
      known = true;
    }
    if (k == "max_members") {
      auto n = integer_in(value, what, 2, 65536);
      if (!n.ok()) return n.error();
      config.max_members = static_cast<std::size_t>(*n);
      known = true;
    }
    if (!known) return Error{BaseErrc::kInvalidArgument, origin + ": unknown key cluster." + k};
  }
  if (auto ok = check_swim_config(config); !ok.ok()) {
    return Error{BaseErrc::kInvalidArgument, origin + ": [cluster]: " + ok.error().detail};
  }
  return {};
}

}  // namespace troupe
