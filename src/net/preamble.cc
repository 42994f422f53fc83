#include "troupe/net/preamble.h"

#include <sodium.h>

#include <cstring>
#include <string_view>

#include "troupe/net/net_error.h"

namespace troupe::net {
namespace {

constexpr std::array<std::uint8_t, 6> kMagic = {'T', 'R', 'O', 'U', 'P', 'E'};

// The frame schema this build speaks, in words (docs/PROTOCOL.md lists the same). Any change to
// a frame's layout or meaning changes this text, so nodes built before and after refuse each
// other with schema-mismatch instead of misreading frames.
constexpr std::string_view kWireSchemaText =
    "troupe-mesh-1;"
    "chunk=lane:u8,bytes;lanes=system:0,rpc-signal:1,rpc-reliable:2,stream-reliable:3,"
    "stream-latency-first:4;"
    "frame=type:u8,length:u32be,body;max=16777216;"
    "hello:1=address:str16,incarnation:u64;"
    "refuse:2=reason:u8,detail:str16;"
    "membership:3=bytes;"
    "envelope:4=kind:u8,target:u8(serial:u64|name:str16),request_id:u64,time_left_ms:u32,"
    "caller:u64u64,caller_type:str16,traceparent:str16,chain:u16*u64u64,route:str16,payload;"
    "reply:5=request_id:u64,status:u8(0:payload|1:layer:str16,name:str16,detail:str16);"
    "registry:6=sequence:u64,ttl_ms:u32,count:u16*(name:str16,serial:u64,type:str16);"
    "watch:7=serial:u64;down:8=serial:u64,reason:u8,detail:str16;"
    "exit:9=serial:u64,reason:u8,detail:str16;"
    "spawn:10=request_id:u64,time_left_ms:u32,name:str16,supervisor:str16,tier:u8,restart:u8,"
    "flags:u8,limits:u8*(key:u8,unlimited:u8,value:u64),package;"
    "spawned=serial:u64,type:str16;"
    "credit:11=lane:u8,bytes:u32be;window=4194304,lanes=1-4,grant=delivered;"
    "stream:12=kind:u8,request_id:u64,time_left_ms:u32,target:u64,sender:u64,sender_type:str16,"
    "stream_id:str16,sequence:u64,timestamp:u8(0|1:i64),metadata:u16*(key:str16,value:str16),"
    "payload;";

void put_be(std::uint8_t* out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value);
    value >>= 8;
  }
}

std::uint64_t get_be(const std::uint8_t* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

std::string_view wire_schema_text() { return kWireSchemaText; }

std::uint64_t wire_schema_hash() {
  static const std::uint64_t hash = [] {
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest,
                       reinterpret_cast<const unsigned char*>(kWireSchemaText.data()),
                       kWireSchemaText.size(), nullptr, 0);
    return get_be(digest, 8);
  }();
  return hash;
}

NodeId node_id_of_identity(const std::array<std::uint8_t, 32>& identity) {
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, identity.data(), identity.size(), nullptr, 0);
  const NodeId id = get_be(digest, 8);
  return id == 0 ? 1 : id;  // 0 means "no node"
}

Preamble Preamble::ours(const std::array<std::uint8_t, 32>& identity) {
  Preamble p;
  p.schema_hash = wire_schema_hash();
  p.identity = identity;
  p.node_id = node_id_of_identity(identity);
  return p;
}

std::array<std::uint8_t, kPreambleBytes> Preamble::encode() const {
  std::array<std::uint8_t, kPreambleBytes> out{};
  std::memcpy(out.data(), kMagic.data(), kMagic.size());
  put_be(out.data() + 6, version, 2);
  put_be(out.data() + 8, schema_hash, 8);
  put_be(out.data() + 16, features, 8);
  std::memcpy(out.data() + 24, identity.data(), identity.size());
  put_be(out.data() + 56, node_id, 8);
  return out;
}

Result<Preamble> Preamble::decode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kPreambleBytes) {
    return Error{NetErrc::kMalformed, "preamble of " + std::to_string(bytes.size()) +
                                          " bytes, want " + std::to_string(kPreambleBytes)};
  }
  if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0) {
    return Error{NetErrc::kMalformed, "not a troupe mesh peer (wrong magic)"};
  }
  Preamble p;
  p.version = static_cast<std::uint16_t>(get_be(bytes.data() + 6, 2));
  p.schema_hash = get_be(bytes.data() + 8, 8);
  p.features = get_be(bytes.data() + 16, 8);
  std::memcpy(p.identity.data(), bytes.data() + 24, p.identity.size());
  p.node_id = get_be(bytes.data() + 56, 8);
  if (p.version == kProtocolVersion && p.node_id != node_id_of_identity(p.identity)) {
    return Error{NetErrc::kMalformed,
                 "the preamble's node id " + hex(p.node_id) + " is not its identity's"};
  }
  return p;
}

Result<void> check_compatible(const Preamble& ours, const Preamble& theirs) {
  if (theirs.version != ours.version) {
    return Error{NetErrc::kVersionMismatch, "protocol version " + std::to_string(theirs.version) +
                                                ", this node speaks " +
                                                std::to_string(ours.version)};
  }
  if (theirs.schema_hash != ours.schema_hash) {
    return Error{NetErrc::kSchemaMismatch, "wire schema " + hex(theirs.schema_hash) +
                                               ", this node's is " + hex(ours.schema_hash)};
  }
  if ((theirs.features & kRequiredFeatures) != kRequiredFeatures) {
    return Error{NetErrc::kFeatureMismatch, "the peer lacks required features (offers " +
                                                hex(theirs.features) + ", needs " +
                                                hex(kRequiredFeatures) + ")"};
  }
  return {};
}

}  // namespace troupe::net
