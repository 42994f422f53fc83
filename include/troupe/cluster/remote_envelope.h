// The frames that carry actor messages between nodes (docs/PROTOCOL.md, "Actor messages"):
// an ENVELOPE (a tell or a request to an actor of the receiving node, named by serial or by
// name), its REPLY (the reply bytes or a typed error), and a REGISTRY announcement (the names
// a node's actors are registered under). Encoding and bounded decoding only: every count and
// length is checked against the bytes left and its cap before use; a violation is
// cluster/malformed naming the field. Pure functions over plain values; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/error.h"
#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/exit_reason.h"

namespace troupe {

inline constexpr std::size_t kMaxRemoteNameBytes = 255;
inline constexpr std::size_t kMaxRemoteRouteBytes = 1024;
inline constexpr std::size_t kMaxRemoteTextBytes = 512;  // caller type, traceparent
inline constexpr std::size_t kMaxRemoteCallChain = 1024;
inline constexpr std::size_t kMaxRegistryEntries = 4096;
inline constexpr std::uint32_t kMaxRemoteTimeLeftMs = 3'600'000;

// An actor message for the receiving node. `to_serial` != 0 names the actor by serial (its node
// is the receiver); otherwise `to_name` names it.
struct RemoteEnvelope {
  std::uint64_t to_serial = 0;
  std::string to_name;
  // kind (request or tell), route, payload, request_id, caller, caller_type, traceparent,
  // call_chain travel; request_node is the sender (the connection says who); the deadline
  // travels as the time left, in whole milliseconds (at least 1 for a request).
  Envelope envelope;
  std::uint32_t time_left_ms = 0;
};

struct RemoteReply {
  std::uint64_t request_id = 0;
  Result<Bytes> result = Bytes{};
};

struct RegistryEntry {
  std::string name;
  std::uint64_t serial = 0;
  std::string type;
};

struct RegistryAnnouncement {
  std::uint64_t sequence = 0;  // grows with each announcement of one boot of the sender
  std::uint32_t ttl_ms = 0;    // the entries hold this long unless announced again
  std::vector<RegistryEntry> entries;
};

Bytes encode_remote_envelope(const RemoteEnvelope& e);
Result<RemoteEnvelope> decode_remote_envelope(BytesView body);
Bytes encode_remote_reply(const RemoteReply& r);
Result<RemoteReply> decode_remote_reply(BytesView body);
// WATCH: the serial of an actor of the receiver the sender wants a DOWN for. DOWN and EXIT: an
// actor's serial and an exit reason (its kind as a byte, its detail).
struct RemoteExit {
  std::uint64_t serial = 0;
  ExitReason reason;
};

Bytes encode_registry(const RegistryAnnouncement& a);
Result<RegistryAnnouncement> decode_registry(BytesView body);
Bytes encode_watch(std::uint64_t serial);
Result<std::uint64_t> decode_watch(BytesView body);
Bytes encode_remote_exit(const RemoteExit& e);
Result<RemoteExit> decode_remote_exit(BytesView body);

// An error as it crosses nodes: its layer and code names and detail, mapped back to the same
// ErrorCode on the other side when the code is one of troupe's (base, runtime, wasm, net,
// cluster, platform, node); otherwise internal, naming what arrived.
ErrorCode error_code_from_names(std::string_view layer, std::string_view name);

}  // namespace troupe
