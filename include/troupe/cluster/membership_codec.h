// The membership protocol's messages and their byte layout (docs/PROTOCOL.md, "Membership"):
// ping, indirect-ping-request, ack, nack, gossip and push-pull, each followed by piggybacked
// gossip updates. Decoding is bounded and total: every count and length is checked against
// the bytes left and the limits before anything is allocated, trailing bytes, an unknown type
// or version and a member record whose id is not its key's id are refused with kMalformed —
// hostile bytes never crash, assert or allocate more than the input's size allows.
// Pure functions on plain values; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/cluster/member.h"

namespace troupe {

struct SwimConfig;

inline constexpr std::uint8_t kMembershipProtocolVersion = 1;

// Wire sizes (bytes), for the senders' budgets and the decoders' bounds.
inline constexpr std::size_t kMembershipHeaderBytes = 2;            // version, type
inline constexpr std::size_t kMinRecordBytes = 8 + 32 + 1 + 1 + 8;  // 1-byte address
inline constexpr std::size_t kMaxRecordBytes = 8 + 32 + 1 + kMaxMemberAddressBytes + 8;
inline constexpr std::size_t kMinUpdateBytes = 1 + kMinRecordBytes + 8;
inline constexpr std::size_t kMaxUpdateBytes = 1 + kMaxRecordBytes + 8;
inline constexpr std::size_t kMinPushPullEntryBytes = 1 + kMinRecordBytes;
inline constexpr std::size_t kMaxPushPullEntryBytes = 1 + kMaxRecordBytes;
inline constexpr std::size_t kMaxMembershipEntries = 65535;  // u16 counts

enum class MessageType : std::uint8_t {
  kPing = 1,
  kPingRequest = 2,
  kAck = 3,
  kNack = 4,
  kGossip = 5,
  kPushPull = 6,
  kPushPullReply = 7,
};

// A gossip update: what `from` says of `member` (member.state is the update's kind: alive,
// suspect, dead or left; member.state_changed is not carried).
struct MemberUpdate {
  Member member;
  NodeId from = 0;
  friend bool operator==(const MemberUpdate&, const MemberUpdate&) = default;
};

// Lifeguard's buddy system: a ping to a member the sender holds suspect carries the suspicion,
// so the target can refute it at once.
struct BuddySuspicion {
  std::uint64_t incarnation = 0;
  NodeId from = 0;  // who raised the suspicion
  friend bool operator==(const BuddySuspicion&, const BuddySuspicion&) = default;
};

struct Ping {
  std::uint32_t seq = 0;
  NodeId target = 0;  // a ping for another node is ignored (a stale address)
  std::optional<BuddySuspicion> suspicion;
  friend bool operator==(const Ping&, const Ping&) = default;
};
struct PingRequest {  // "ping target for me; ack or nack seq back to me"
  std::uint32_t seq = 0;
  Member target;  // state not carried
  friend bool operator==(const PingRequest&, const PingRequest&) = default;
};
struct Ack {
  std::uint32_t seq = 0;
  friend bool operator==(const Ack&, const Ack&) = default;
};
struct Nack {  // an indirect prober reached no ack from the target in its probe timeout
  std::uint32_t seq = 0;
  friend bool operator==(const Nack&, const Nack&) = default;
};
struct Gossip {  // nothing but the piggybacked updates
  friend bool operator==(const Gossip&, const Gossip&) = default;
};
struct PushPull {  // the sender's whole member table (itself included)
  bool reply = false;
  std::vector<Member> members;  // state carried; state_changed not
  friend bool operator==(const PushPull&, const PushPull&) = default;
};

using MessageBody = std::variant<Ping, PingRequest, Ack, Nack, Gossip, PushPull>;

struct MembershipMessage {
  MessageBody body;
  std::vector<MemberUpdate> updates;  // piggybacked, applied before the body
  friend bool operator==(const MembershipMessage&, const MembershipMessage&) = default;
};

struct MembershipCodecLimits {
  std::size_t max_message_bytes = std::size_t{16} << 10;  // every type but push-pull
  std::size_t max_push_pull_bytes = std::size_t{512} << 10;
  std::size_t max_updates = 32;
  std::size_t max_members = 1024;  // push-pull entries
};
MembershipCodecLimits membership_codec_limits(const SwimConfig& config);

Result<MembershipMessage> decode_membership_message(BytesView bytes,
                                                    const MembershipCodecLimits& limits);
// Encodes a well-formed message (valid addresses, counts within the u16 range); the sender
// keeps it within its limits by budgeting with the sizes below.
Bytes encode_membership_message(const MembershipMessage& message);

std::size_t encoded_body_size(const MessageBody& body);  // header, body, the update count
std::size_t encoded_update_size(const MemberUpdate& update);

}  // namespace troupe
