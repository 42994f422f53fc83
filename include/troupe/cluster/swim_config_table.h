// The [cluster] table of a node's config: the membership protocol's timing (SwimConfig; the
// defaults are memberlist's LAN profile). Unknown keys and wrong types are errors naming
// "ORIGIN: cluster.KEY"; the result is checked as a whole by check_swim_config (a zero interval
// is an error, never "off"). Pure parsing; thread-safe.
//
//   [cluster]
//   probe_interval_ms = 1000
//   probe_timeout_ms = 500
//   gossip_interval_ms = 200
//   push_pull_interval_ms = 30000
//   reconnect_interval_ms = 30000
//   indirect_checks = 3
//   gossip_nodes = 3
//   retransmit_mult = 4
//   suspicion_mult = 4
//   suspicion_max_timeout_mult = 6
//   max_members = 1024
#pragma once

#include <toml++/toml.h>

#include <string>

#include "troupe/base/result.h"
#include "troupe/cluster/swim_config.h"

namespace troupe {

Result<void> parse_cluster_table(const toml::table& table, const std::string& origin,
                                 SwimConfig& config);

}  // namespace troupe
