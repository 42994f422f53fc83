#include "troupe/cluster/swim_config_table.h"

#include <cstdint>

#include "troupe/base/error.h"
#include "troupe/base/toml_integer.h"
#include "troupe/cluster/membership_codec.h"

namespace troupe {

Result<void> parse_cluster_table(const toml::table& table, const std::string& origin,
                                 SwimConfig& config) {
  // The same ranges check_swim_config holds the whole to (a key's error names its range).
  constexpr std::int64_t kHour = 3600LL * 1000;
  constexpr std::int64_t kDay = 24 * kHour;
  struct Duration {
    const char* key;
    SwimConfig::Duration SwimConfig::*field;
    std::int64_t max_ms;
  };
  static constexpr Duration kDurations[] = {
      {"probe_interval_ms", &SwimConfig::probe_interval, kHour},
      {"probe_timeout_ms", &SwimConfig::probe_timeout, kHour},
      {"gossip_interval_ms", &SwimConfig::gossip_interval, kHour},
      {"push_pull_interval_ms", &SwimConfig::push_pull_interval, kDay},
      {"reconnect_interval_ms", &SwimConfig::reconnect_interval, kDay},
  };
  struct Count {
    const char* key;
    int SwimConfig::*field;
    int max;
  };
  static constexpr Count kCounts[] = {
      {"indirect_checks", &SwimConfig::indirect_checks, 16},
      {"gossip_nodes", &SwimConfig::gossip_nodes, 64},
      {"retransmit_mult", &SwimConfig::retransmit_mult, 64},
      {"suspicion_mult", &SwimConfig::suspicion_mult, 64},
      {"suspicion_max_timeout_mult", &SwimConfig::suspicion_max_timeout_mult, 64},
  };
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    const std::string what = origin + ": cluster." + k;
    bool known = false;
    for (const Duration& d : kDurations) {
      if (k != d.key) continue;
      auto n = toml_integer_in(value, what, 1, d.max_ms);
      if (!n.ok()) return n.error();
      config.*d.field = std::chrono::milliseconds(*n);
      known = true;
    }
    for (const Count& c : kCounts) {
      if (k != c.key) continue;
      auto n = toml_integer_in(value, what, 1, c.max);
      if (!n.ok()) return n.error();
      config.*c.field = static_cast<int>(*n);
      known = true;
    }
    if (k == "max_members") {
      auto n = toml_integer_in(value, what, 2, static_cast<std::int64_t>(kMaxMembershipEntries));
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
