// Envelope: the one byte-level message every boundary uses (CLI, WebAssembly, and the network
// later): a route key and opaque payload bytes, plus what a hop between nodes needs to carry —
// the kind, a correlation id unique across nodes, the deadline, who is calling, the W3C trace
// context and the call chain the ask is nested in. A native actor serves it next to its typed
// messages; the reply to an Envelope ask is Bytes. Plain data: copy and move freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/clock.h"
#include "troupe/base/ids.h"

namespace troupe {

enum class EnvelopeKind : std::uint8_t {
  kRequest,  // an ask: a reply is awaited, correlated by (request_node, request_id)
  kReply,    // the answer to a request (on the wire; locally the reply travels in the Request)
  kTell,     // one way
  kSystem,   // runtime traffic between nodes (exits, DOWN, membership)
};

struct Envelope {
  EnvelopeKind kind = EnvelopeKind::kRequest;
  std::string route;
  Bytes payload;
  // The correlation id: the node that made the request and its request counter there, so it is
  // unique across nodes. request_id alone is what a guest sees (get-request-id).
  NodeId request_node = 0;
  std::uint64_t request_id = 0;
  // When the asker stops waiting (the clock of the node that holds the envelope; a hop between
  // nodes sends the time left). Zero: none.
  Clock::TimePoint deadline{};
  ActorId caller;           // none for the CLI or a host call outside any actor
  std::string caller_type;  // the caller's actor type
  std::string traceparent;  // W3C Trace Context; empty: none (the next hop starts a trace)
  // The actors that are waiting, each in an ask, on this one (oldest first): the chain a
  // request that comes back to one of them would deadlock on.
  std::vector<ActorId> call_chain;
};

}  // namespace troupe
