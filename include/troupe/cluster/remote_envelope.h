// The frames that carry actor messages between nodes (docs/PROTOCOL.md, "Actor messages"):
// an ENVELOPE (a tell or a request to an actor of the receiving node, named by serial or by
// name), its REPLY (the reply bytes or a typed error), a REGISTRY announcement (the names
// a node's actors are registered under), WATCH/DOWN/EXIT and SPAWN (a package to spawn). Encoding
// and bounded decoding only: every count and length is checked against the bytes left and its cap
// before use; a violation is cluster/malformed naming the field. Pure functions over plain values;
// thread-safe.
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
#include "troupe/wasm/workload_values.h"

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

// SPAWN: a signed package for the receiving node to verify against its own trust store and
// spawn (when it accepts remote spawns: [mesh] remote_spawn). The REPLY to it (same request id
// space as ENVELOPE requests) carries a RemoteSpawned on success.
inline constexpr std::size_t kMaxRemoteSpawnLimits = 16;
struct RemoteSpawnLimit {
  std::uint8_t key = 0;  // a wasm::LimitKey, checked by the receiving node
  bool unlimited = false;
  std::uint64_t value = 0;
  friend bool operator==(const RemoteSpawnLimit&, const RemoteSpawnLimit&) = default;
};
struct RemoteSpawn {
  std::uint64_t request_id = 0;
  std::uint32_t time_left_ms = 0;  // at least 1
  std::string name;                // empty: unnamed
  std::string supervisor;          // empty: the root supervisor
  std::uint8_t tier = 0;           // 0 auto, 1 aot, 2 interp
  std::uint8_t restart = 0;        // 0 permanent, 1 transient, 2 temporary
  bool linked = false;             // stop the actor when the asking node is dead or leaves
  std::vector<RemoteSpawnLimit> limits;
  Bytes package;  // the .actr file's bytes
};
struct RemoteSpawned {
  std::uint64_t serial = 0;
  std::string type;
};

Bytes encode_remote_spawn(const RemoteSpawn& s);
Result<RemoteSpawn> decode_remote_spawn(BytesView body);
Bytes encode_remote_spawned(const RemoteSpawned& s);
Result<RemoteSpawned> decode_remote_spawned(BytesView body);

// STREAM: a data-stream chunk from an actor of the sending node (a guest's send-data-stream)
// to an actor of the receiver. Reliable: a request on stream-reliable, answered by REPLY once
// the receiver handled the chunk (stop-and-wait). Latency-first: a tell on
// stream-latency-first, dropped (and counted) wherever it would wait.
inline constexpr std::size_t kMaxRemoteStreamIdBytes = 1024;
inline constexpr std::size_t kMaxRemoteStreamMetadata = 1024;
inline constexpr std::size_t kMaxRemoteStreamMetadataBytes = 4096;  // a key or a value
struct RemoteStreamChunk {
  bool reliable = true;
  std::uint64_t request_id = 0;    // reliable only
  std::uint32_t time_left_ms = 0;  // reliable only: 1..kMaxRemoteTimeLeftMs
  std::uint64_t to_serial = 0;
  std::uint64_t sender_serial = 0;  // an actor of the sending node
  std::string sender_type;
  wasm::workload::DataStreamChunk chunk;
};
Bytes encode_remote_stream(const RemoteStreamChunk& c);
Result<RemoteStreamChunk> decode_remote_stream(BytesView body);
// Whether a chunk fits the frame's caps (encode_remote_stream assumes it does); the error says
// which field does not.
Result<void> check_remote_stream(const wasm::workload::DataStreamChunk& chunk);

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
