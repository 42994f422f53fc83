// MembershipCounters: what one Membership has done and refused, for metrics and for tests that
// must tell "nothing happened" from "it was refused". Monotonic; plain values, read on the
// Membership's thread.
#pragma once

#include <cstdint>

namespace troupe {

struct MembershipCounters {
  // messages
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t malformed = 0;       // dropped by the decoder
  std::uint64_t unknown_sender = 0;  // needed a reply to a node we hold no record of
  std::uint64_t misdirected = 0;     // a ping for another node, a ping request for us
  std::uint64_t stale_acks = 0;      // an ack or nack for no probe in flight
  // probing
  std::uint64_t probes = 0;             // direct pings started
  std::uint64_t probe_failures = 0;     // probes that ended without an ack
  std::uint64_t indirect_requests = 0;  // ping requests sent for our probes
  std::uint64_t nacks_received = 0;
  std::uint64_t relays = 0;          // ping requests served for others
  std::uint64_t relays_refused = 0;  // over max_pending_relays or target not admitted
  std::uint64_t nacks_sent = 0;
  std::uint64_t buddy_pings = 0;  // pings that carried a suspicion to its target
  // failure detection
  std::uint64_t suspicions_raised = 0;  // members we suspected after our own failed probe
  std::uint64_t suspicion_confirmations = 0;
  std::uint64_t deaths_declared = 0;  // suspicion timeouts that expired here
  std::uint64_t refutations = 0;      // times we raised our incarnation to refute
  // table
  std::uint64_t refused_admission = 0;   // updates about members the predicate refused
  std::uint64_t refused_capacity = 0;    // new members refused with the table full
  std::uint64_t identity_conflicts = 0;  // an update whose key differs from the known one
  std::uint64_t reaped = 0;              // dead/left members forgotten
  // state exchange
  std::uint64_t push_pulls_sent = 0;  // requests (join, periodic, reconnect)
  std::uint64_t push_pulls_received = 0;
  std::uint64_t reconnects = 0;  // push-pulls to dead members or seeds
  std::uint64_t unreachable_hints = 0;
};

}  // namespace troupe
