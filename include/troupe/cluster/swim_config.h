// SwimConfig: the timing and the bounds of the membership protocol (SWIM with the Lifeguard
// refinements). The timing defaults are memberlist's DefaultLANConfig, so a troupe cluster
// behaves like a Consul/Serf LAN pool; the bounds are troupe's own (fail closed: every count a
// peer can make us hold or send is capped). check_swim_config refuses a zero interval or count
// instead of reading it as "off". Plain values; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>

#include "troupe/base/clock.h"
#include "troupe/base/result.h"

namespace troupe {

struct SwimConfig {
  using Duration = Clock::Duration;

  // --- SWIM and Lifeguard (memberlist DefaultLANConfig) ---
  Duration probe_interval = std::chrono::seconds(1);
  Duration probe_timeout = std::chrono::milliseconds(500);  // direct ack, then indirect probes
  int indirect_checks = 3;                                  // members asked to ping for us
  int retransmit_mult = 4;  // an update is sent retransmit_mult * ceil(log10(n + 1)) times
  int suspicion_mult = 4;   // min suspicion timeout = mult * max(1, log10(n)) * probe_interval
  int suspicion_max_timeout_mult = 6;  // max suspicion timeout = this * min
  Duration gossip_interval = std::chrono::milliseconds(200);
  int gossip_nodes = 3;  // members gossiped to per gossip interval
  Duration gossip_to_the_dead_time = std::chrono::seconds(30);  // then a dead member is reaped
  Duration push_pull_interval = std::chrono::seconds(30);       // scaled up above 32 members
  int awareness_max_multiplier = 8;  // local health score is 0 .. this - 1

  // --- troupe: healing (after Serf's reconnect loop) ---
  // Every reconnect_interval a member pushes-pulls with one member it holds dead (or, with no
  // live peer at all, with one of its join seeds), for reconnect_timeout after the death:
  // what lets the two sides of a healed partition find each other again.
  Duration reconnect_interval = std::chrono::seconds(30);
  Duration reconnect_timeout = std::chrono::hours(24);

  // --- troupe: bounds ---
  std::size_t max_members = 1024;  // members held, this node included
  std::size_t max_message_bytes =
      std::size_t{16} * 1024;                // any message but push-pull (which is bounded
                                             // by max_members: max_push_pull_bytes)
  std::size_t max_updates_per_message = 32;  // piggybacked gossip updates per message
  std::size_t max_pending_relays = 128;      // indirect pings in flight for other members

  // Lifeguard (local health awareness, dynamic suspicion, buddy pings, nack accounting). Off
  // only to measure what it buys: plain SWIM with a fixed suspicion timeout.
  bool lifeguard = true;
};

// kInvalidArgument naming the first field out of range.
Result<void> check_swim_config(const SwimConfig& config);

// The largest push-pull message a member with this config sends or accepts (its whole member
// table plus piggybacked updates); the connection layer's frame cap must admit it.
std::size_t max_push_pull_bytes(const SwimConfig& config);

}  // namespace troupe
