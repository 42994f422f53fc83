#include "troupe/cluster/remote_envelope.h"

#include "troupe/base/byte_reader.h"
#include "troupe/base/encoding.h"
#include "troupe/cluster/cluster_error.h"
#include "troupe/net/net_error.h"
#include "troupe/platform/platform_error.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe {
namespace {

void put_text16(Bytes& out, std::string_view text) {
  put_u16(out, static_cast<std::uint16_t>(text.size()));
  out.append(text);
}

Result<std::string> read_text16(ByteReader& in, std::size_t max, const char* what) {
  TROUPE_READ(len, in.u16(what));
  if (len > max) {
    return in.error(std::string(what) + " of " + std::to_string(len) + " bytes (at most " +
                    std::to_string(max) + ")");
  }
  TROUPE_READ(bytes, in.take(len, what));
  return std::string(bytes);
}

void put_id(Bytes& out, const ActorId& id) {
  put_u64(out, id.node);
  put_u64(out, id.serial);
}

Result<ActorId> read_id(ByteReader& in, const char* what) {
  TROUPE_READ(node, in.u64(what));
  TROUPE_READ(serial, in.u64(what));
  return ActorId{node, serial};
}

constexpr std::uint8_t kKindRequest = 0;
constexpr std::uint8_t kKindTell = 2;

template <class E>
std::optional<ErrorCode> find_code(std::string_view name) {
  for (int v = 0; v < 64; ++v) {
    const ErrorCode code(static_cast<E>(v));
    if (code.name() == "unknown") break;
    if (code.name() == name) return code;
  }
  return std::nullopt;
}

}  // namespace

ErrorCode error_code_from_names(std::string_view layer, std::string_view name) {
  std::optional<ErrorCode> code;
  if (layer == "base") code = find_code<BaseErrc>(name);
  if (layer == "runtime") code = find_code<RuntimeErrc>(name);
  if (layer == "wasm") code = find_code<WasmErrc>(name);
  if (layer == "platform") code = find_code<PlatformErrc>(name);
  if (layer == "net") code = find_code<NetErrc>(name);
  if (layer == "cluster") code = find_code<ClusterErrc>(name);
  return code.value_or(ErrorCode(BaseErrc::kInternal));
}

Bytes encode_remote_envelope(const RemoteEnvelope& r) {
  const Envelope& e = r.envelope;
  Bytes out;
  out.reserve(64 + e.route.size() + e.payload.size() + r.to_name.size());
  put_u8(out, e.kind == EnvelopeKind::kRequest ? kKindRequest : kKindTell);
  if (r.to_serial != 0) {
    put_u8(out, 0);
    put_u64(out, r.to_serial);
  } else {
    put_u8(out, 1);
    put_text16(out, r.to_name);
  }
  put_u64(out, e.request_id);
  put_u32(out, r.time_left_ms);
  put_id(out, e.caller);
  put_text16(out, e.caller_type);
  put_text16(out, e.traceparent);
  put_u16(out, static_cast<std::uint16_t>(e.call_chain.size()));
  for (const ActorId& id : e.call_chain) put_id(out, id);
  put_text16(out, e.route);
  out.append(e.payload);
  return out;
}

Result<RemoteEnvelope> decode_remote_envelope(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "envelope frame");
  RemoteEnvelope r;
  Envelope& e = r.envelope;
  TROUPE_READ(kind, in.u8("kind"));
  if (kind != kKindRequest && kind != kKindTell) return in.error("kind " + std::to_string(kind));
  e.kind = kind == kKindRequest ? EnvelopeKind::kRequest : EnvelopeKind::kTell;
  TROUPE_READ(target, in.u8("target kind"));
  if (target == 0) {
    TROUPE_READ(serial, in.u64("target serial"));
    if (serial == 0) return in.error("target serial 0");
    r.to_serial = serial;
  } else if (target == 1) {
    TROUPE_READ(name, read_text16(in, kMaxRemoteNameBytes, "target name"));
    if (name.empty()) return in.error("an empty target name");
    r.to_name = std::move(name);
  } else {
    return in.error("target kind " + std::to_string(target));
  }
  TROUPE_READ(request_id, in.u64("request id"));
  TROUPE_READ(time_left, in.u32("time left"));
  if (e.kind == EnvelopeKind::kRequest && (time_left == 0 || time_left > kMaxRemoteTimeLeftMs)) {
    return in.error("a request's time left of " + std::to_string(time_left) + " ms (1.." +
                    std::to_string(kMaxRemoteTimeLeftMs) + ")");
  }
  e.request_id = request_id;
  r.time_left_ms = time_left;
  TROUPE_READ(caller, read_id(in, "caller"));
  e.caller = caller;
  TROUPE_READ(caller_type, read_text16(in, kMaxRemoteTextBytes, "caller type"));
  e.caller_type = std::move(caller_type);
  TROUPE_READ(traceparent, read_text16(in, kMaxRemoteTextBytes, "traceparent"));
  e.traceparent = std::move(traceparent);
  TROUPE_READ(chain, in.u16("call chain length"));
  if (chain > kMaxRemoteCallChain || std::size_t{chain} * 16 > in.left()) {
    return in.error("a call chain of " + std::to_string(chain) + " ids");
  }
  e.call_chain.reserve(chain);
  for (std::size_t i = 0; i < chain; ++i) {
    TROUPE_READ(id, read_id(in, "call chain"));
    e.call_chain.push_back(id);
  }
  TROUPE_READ(route, read_text16(in, kMaxRemoteRouteBytes, "route"));
  e.route = std::move(route);
  e.payload = Bytes(in.rest());
  return r;
}

Bytes encode_remote_reply(const RemoteReply& r) {
  Bytes out;
  put_u64(out, r.request_id);
  if (r.result.ok()) {
    put_u8(out, 0);
    out.append(*r.result);
    return out;
  }
  const Error& err = r.result.error();
  put_u8(out, 1);
  put_text16(out, err.code.layer());
  put_text16(out, err.code.name());
  put_text16(out, std::string_view(err.detail).substr(0, 4096));
  return out;
}

Result<RemoteReply> decode_remote_reply(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "reply frame");
  RemoteReply r;
  TROUPE_READ(id, in.u64("request id"));
  r.request_id = id;
  TROUPE_READ(status, in.u8("status"));
  if (status == 0) {
    r.result = Bytes(in.rest());
    return r;
  }
  if (status != 1) return in.error("status " + std::to_string(status));
  TROUPE_READ(layer, read_text16(in, 32, "error layer"));
  TROUPE_READ(name, read_text16(in, 64, "error name"));
  TROUPE_READ(detail, read_text16(in, 4096, "error detail"));
  if (in.left() != 0) return in.error("bytes after the error");
  const ErrorCode code = error_code_from_names(layer, name);
  // The other node's words reach a terminal (`troupe ask`), logs and guests: plain text as it
  // is (location-transparent), anything else escaped, never obeyed.
  if (!is_plain_text(detail)) detail = escaped_ascii(detail);
  if (code == BaseErrc::kInternal && !(layer == "base" && name == "internal")) {
    detail = "remote " + escaped_ascii(layer) + "/" + escaped_ascii(name) + ": " + detail;
  }
  r.result = Error{code, std::move(detail)};
  return r;
}

Bytes encode_remote_spawn(const RemoteSpawn& s) {
  Bytes out;
  out.reserve(32 + s.name.size() + s.supervisor.size() + 10 * s.limits.size() + s.package.size());
  put_u64(out, s.request_id);
  put_u32(out, s.time_left_ms);
  put_text16(out, s.name);
  put_text16(out, s.supervisor);
  put_u8(out, s.tier);
  put_u8(out, s.restart);
  put_u8(out, s.linked ? 1 : 0);
  put_u8(out, static_cast<std::uint8_t>(s.limits.size()));
  for (const RemoteSpawnLimit& l : s.limits) {
    put_u8(out, l.key);
    put_u8(out, l.unlimited ? 1 : 0);
    put_u64(out, l.value);
  }
  out.append(s.package);
  return out;
}

Result<RemoteSpawn> decode_remote_spawn(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "spawn frame");
  RemoteSpawn s;
  TROUPE_READ(id, in.u64("request id"));
  s.request_id = id;
  TROUPE_READ(time_left, in.u32("time left"));
  if (time_left == 0 || time_left > kMaxRemoteTimeLeftMs) {
    return in.error("time left " + std::to_string(time_left) + " ms");
  }
  s.time_left_ms = time_left;
  TROUPE_READ(name, read_text16(in, kMaxRemoteNameBytes, "name"));
  s.name = std::move(name);
  TROUPE_READ(supervisor, read_text16(in, kMaxRemoteNameBytes, "supervisor"));
  s.supervisor = std::move(supervisor);
  TROUPE_READ(tier, in.u8("tier"));
  if (tier > 2) return in.error("tier " + std::to_string(tier));
  s.tier = tier;
  TROUPE_READ(restart, in.u8("restart"));
  if (restart > 2) return in.error("restart " + std::to_string(restart));
  s.restart = restart;
  TROUPE_READ(flags, in.u8("flags"));
  if (flags > 1) return in.error("flags " + std::to_string(flags));
  s.linked = flags == 1;
  TROUPE_READ(count, in.u8("limit count"));
  if (count > kMaxRemoteSpawnLimits) return in.error(std::to_string(count) + " limits");
  for (std::uint8_t i = 0; i < count; ++i) {
    RemoteSpawnLimit l;
    TROUPE_READ(key, in.u8("limit key"));
    TROUPE_READ(unlimited, in.u8("limit unlimited"));
    if (unlimited > 1) return in.error("limit unlimited " + std::to_string(unlimited));
    TROUPE_READ(value, in.u64("limit value"));
    l.key = key;
    l.unlimited = unlimited == 1;
    l.value = value;
    s.limits.push_back(l);
  }
  if (in.left() == 0) return in.error("no package");
  s.package = Bytes(in.rest());
  return s;
}

Bytes encode_remote_spawned(const RemoteSpawned& s) {
  Bytes out;
  put_u64(out, s.serial);
  put_text16(out, s.type);
  return out;
}

Result<RemoteSpawned> decode_remote_spawned(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "spawn reply");
  RemoteSpawned s;
  TROUPE_READ(serial, in.u64("serial"));
  if (serial == 0) return in.error("serial 0");
  s.serial = serial;
  TROUPE_READ(type, read_text16(in, kMaxRemoteTextBytes, "type"));
  if (!is_plain_text(type)) return in.error("a type with a control character");
  s.type = std::move(type);
  if (in.left() != 0) return in.error("bytes after the type");
  return s;
}

namespace {
constexpr std::uint8_t kStreamReliable = 0;
constexpr std::uint8_t kStreamLatencyFirst = 1;
}  // namespace

Result<void> check_remote_stream(const wasm::workload::DataStreamChunk& chunk) {
  auto too = [](const std::string& what) {
    return Error{BaseErrc::kInvalidArgument,
                 "a data-stream chunk whose " + what + " does not fit a STREAM frame"};
  };
  if (chunk.stream_id.size() > kMaxRemoteStreamIdBytes) return too("stream id");
  if (chunk.metadata.size() > kMaxRemoteStreamMetadata) return too("metadata");
  for (const auto& [key, value] : chunk.metadata) {
    if (key.size() > kMaxRemoteStreamMetadataBytes ||
        value.size() > kMaxRemoteStreamMetadataBytes) {
      return too("metadata entry");
    }
  }
  return {};
}

Bytes encode_remote_stream(const RemoteStreamChunk& c) {
  const auto& k = c.chunk;
  Bytes out;
  out.reserve(64 + c.sender_type.size() + k.stream_id.size() + k.payload.size());
  put_u8(out, c.reliable ? kStreamReliable : kStreamLatencyFirst);
  put_u64(out, c.reliable ? c.request_id : 0);
  put_u32(out, c.reliable ? c.time_left_ms : 0);
  put_u64(out, c.to_serial);
  put_u64(out, c.sender_serial);
  put_text16(out, c.sender_type);
  put_text16(out, k.stream_id);
  put_u64(out, k.sequence);
  put_u8(out, k.timestamp_ms ? 1 : 0);
  if (k.timestamp_ms) put_u64(out, static_cast<std::uint64_t>(*k.timestamp_ms));
  put_u16(out, static_cast<std::uint16_t>(k.metadata.size()));
  for (const auto& [key, value] : k.metadata) {
    put_text16(out, key);
    put_text16(out, value);
  }
  out.append(k.payload);
  return out;
}

Result<RemoteStreamChunk> decode_remote_stream(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "stream frame");
  RemoteStreamChunk c;
  TROUPE_READ(kind, in.u8("kind"));
  if (kind != kStreamReliable && kind != kStreamLatencyFirst) {
    return in.error("kind " + std::to_string(kind));
  }
  c.reliable = kind == kStreamReliable;
  TROUPE_READ(request_id, in.u64("request id"));
  TROUPE_READ(time_left, in.u32("time left"));
  if (c.reliable && (time_left == 0 || time_left > kMaxRemoteTimeLeftMs)) {
    return in.error("a reliable chunk's time left of " + std::to_string(time_left) + " ms (1.." +
                    std::to_string(kMaxRemoteTimeLeftMs) + ")");
  }
  c.request_id = request_id;
  c.time_left_ms = time_left;
  TROUPE_READ(to_serial, in.u64("target serial"));
  if (to_serial == 0) return in.error("target serial 0");
  c.to_serial = to_serial;
  TROUPE_READ(sender_serial, in.u64("sender serial"));
  c.sender_serial = sender_serial;
  TROUPE_READ(sender_type, read_text16(in, kMaxRemoteTextBytes, "sender type"));
  c.sender_type = std::move(sender_type);
  auto& k = c.chunk;
  TROUPE_READ(stream_id, read_text16(in, kMaxRemoteStreamIdBytes, "stream id"));
  k.stream_id = std::move(stream_id);
  TROUPE_READ(sequence, in.u64("sequence"));
  k.sequence = sequence;
  TROUPE_READ(has_timestamp, in.u8("timestamp flag"));
  if (has_timestamp > 1) return in.error("timestamp flag " + std::to_string(has_timestamp));
  if (has_timestamp == 1) {
    TROUPE_READ(timestamp, in.u64("timestamp"));
    k.timestamp_ms = static_cast<std::int64_t>(timestamp);
  }
  TROUPE_READ(entries, in.u16("metadata count"));
  if (entries > kMaxRemoteStreamMetadata || std::size_t{entries} * 4 > in.left()) {
    return in.error("a metadata count of " + std::to_string(entries));
  }
  k.metadata.reserve(entries);
  for (std::size_t i = 0; i < entries; ++i) {
    TROUPE_READ(key, read_text16(in, kMaxRemoteStreamMetadataBytes, "metadata key"));
    TROUPE_READ(value, read_text16(in, kMaxRemoteStreamMetadataBytes, "metadata value"));
    k.metadata.emplace_back(std::move(key), std::move(value));
  }
  k.payload = std::string(in.rest());
  return c;
}

Bytes encode_registry(const RegistryAnnouncement& a) {
  Bytes out;
  put_u64(out, a.sequence);
  put_u32(out, a.ttl_ms);
  put_u16(out, static_cast<std::uint16_t>(a.entries.size()));
  for (const RegistryEntry& e : a.entries) {
    put_text16(out, e.name);
    put_u64(out, e.serial);
    put_text16(out, e.type);
  }
  return out;
}

Result<RegistryAnnouncement> decode_registry(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "registry frame");
  RegistryAnnouncement a;
  TROUPE_READ(sequence, in.u64("sequence"));
  TROUPE_READ(ttl, in.u32("ttl"));
  if (ttl == 0) return in.error("a ttl of 0");
  a.sequence = sequence;
  a.ttl_ms = ttl;
  TROUPE_READ(count, in.u16("entry count"));
  // Each entry is at least 2 + 1 + 8 + 2 bytes: refused before anything is reserved.
  if (count > kMaxRegistryEntries || std::size_t{count} * 13 > in.left()) {
    return in.error(std::to_string(count) + " entries");
  }
  a.entries.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    RegistryEntry e;
    TROUPE_READ(name, read_text16(in, kMaxRemoteNameBytes, "name"));
    if (name.empty()) return in.error("an empty name");
    // Names and types are shown (`troupe ls --cluster`) and matched as a node's own are: the
    // same rule as a local name (no control character, valid UTF-8).
    if (!is_plain_text(name)) return in.error("a name with a control character");
    TROUPE_READ(serial, in.u64("serial"));
    if (serial == 0) return in.error("serial 0");
    TROUPE_READ(type, read_text16(in, kMaxRemoteTextBytes, "type"));
    if (!is_plain_text(type)) return in.error("a type with a control character");
    e.name = std::move(name);
    e.serial = serial;
    e.type = std::move(type);
    a.entries.push_back(std::move(e));
  }
  if (in.left() != 0) return in.error("bytes after the entries");
  return a;
}

Bytes encode_watch(std::uint64_t serial) {
  Bytes out;
  put_u64(out, serial);
  return out;
}

Result<std::uint64_t> decode_watch(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "watch frame");
  TROUPE_READ(serial, in.u64("serial"));
  if (serial == 0 || in.left() != 0) return in.error("not one serial");
  return serial;
}

Bytes encode_remote_exit(const RemoteExit& e) {
  Bytes out;
  put_u64(out, e.serial);
  put_u8(out, static_cast<std::uint8_t>(e.reason.kind));
  put_text16(out, std::string_view(e.reason.detail).substr(0, 1024));
  return out;
}

Result<RemoteExit> decode_remote_exit(BytesView body) {
  ByteReader in(body, ClusterErrc::kMalformed, "down/exit frame");
  RemoteExit e;
  TROUPE_READ(serial, in.u64("serial"));
  if (serial == 0) return in.error("serial 0");
  TROUPE_READ(kind, in.u8("reason"));
  if (kind > static_cast<std::uint8_t>(ExitReason::Kind::kNoConnection)) {
    return in.error("reason " + std::to_string(kind));
  }
  TROUPE_READ(detail, read_text16(in, 1024, "detail"));
  if (in.left() != 0) return in.error("bytes after the detail");
  // Logged and shown (`troupe ls`) as a local actor's reason: plain text kept, the rest escaped
  // (not refused: a lost DOWN would leave the proxy and its monitors waiting).
  if (!is_plain_text(detail)) detail = escaped_ascii(detail);
  e.serial = serial;
  e.reason = ExitReason{static_cast<ExitReason::Kind>(kind), std::move(detail)};
  return e;
}

}  // namespace troupe
