#include "troupe/cluster/swim_config.h"

#include <string>

#include "troupe/base/error.h"
#include "troupe/cluster/membership_codec.h"

namespace troupe {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

Error bad(const char* field, const char* why) {
  return Error{BaseErrc::kInvalidArgument, std::string("swim config: ") + field + " " + why};
}

bool in(Clock::Duration d, Clock::Duration lo, Clock::Duration hi) { return d >= lo && d <= hi; }
bool in(long long v, long long lo, long long hi) { return v >= lo && v <= hi; }

}  // namespace

Result<void> check_swim_config(const SwimConfig& c) {
  // Upper bounds keep every product (awareness * interval, mult * log * interval) far from
  // overflow and catch unit mistakes (seconds given as milliseconds).
  if (!in(c.probe_interval, milliseconds(1), hours(1))) {
    return bad("probe_interval", "must be 1 ms .. 1 h");
  }
  if (!in(c.probe_timeout, milliseconds(1), c.probe_interval - milliseconds(1))) {
    return bad("probe_timeout", "must be at least 1 ms and shorter than probe_interval");
  }
  if (!in(c.indirect_checks, 1, 16)) return bad("indirect_checks", "must be 1 .. 16");
  if (!in(c.retransmit_mult, 1, 64)) return bad("retransmit_mult", "must be 1 .. 64");
  if (!in(c.suspicion_mult, 1, 64)) return bad("suspicion_mult", "must be 1 .. 64");
  if (!in(c.suspicion_max_timeout_mult, 1, 64)) {
    return bad("suspicion_max_timeout_mult", "must be 1 .. 64");
  }
  if (!in(c.gossip_interval, milliseconds(1), hours(1))) {
    return bad("gossip_interval", "must be 1 ms .. 1 h");
  }
  if (!in(c.gossip_nodes, 1, 64)) return bad("gossip_nodes", "must be 1 .. 64");
  if (!in(c.gossip_to_the_dead_time, milliseconds(1), hours(24))) {
    return bad("gossip_to_the_dead_time", "must be 1 ms .. 24 h");
  }
  if (!in(c.push_pull_interval, milliseconds(1), hours(24))) {
    return bad("push_pull_interval", "must be 1 ms .. 24 h");
  }
  if (!in(c.awareness_max_multiplier, 1, 64)) {
    return bad("awareness_max_multiplier", "must be 1 .. 64");
  }
  if (!in(c.reconnect_interval, milliseconds(1), hours(24))) {
    return bad("reconnect_interval", "must be 1 ms .. 24 h");
  }
  if (!in(c.reconnect_timeout, milliseconds(1), hours(24 * 30))) {
    return bad("reconnect_timeout", "must be 1 ms .. 30 days");
  }
  if (c.max_members < 2 || c.max_members > kMaxMembershipEntries) {
    return bad("max_members", "must be 2 .. 65535");
  }
  if (c.max_message_bytes < 1024 || c.max_message_bytes > 16 * 1024 * 1024) {
    return bad("max_message_bytes", "must be 1 KiB .. 16 MiB");
  }
  if (c.max_updates_per_message < 1 || c.max_updates_per_message > kMaxMembershipEntries) {
    return bad("max_updates_per_message", "must be 1 .. 65535");
  }
  if (c.max_pending_relays < 1 || c.max_pending_relays > 65535) {
    return bad("max_pending_relays", "must be 1 .. 65535");
  }
  return {};
}

std::size_t max_push_pull_bytes(const SwimConfig& c) {
  return kMembershipHeaderBytes + 2 + c.max_members * kMaxPushPullEntryBytes + 2 +
         c.max_updates_per_message * kMaxUpdateBytes;
}

}  // namespace troupe
