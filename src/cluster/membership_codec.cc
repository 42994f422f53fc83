#include "troupe/cluster/membership_codec.h"

#include <string>
#include <type_traits>
#include <utility>

#include "troupe/base/byte_reader.h"
#include "troupe/cluster/cluster_error.h"
#include "troupe/cluster/swim_config.h"

namespace troupe {
namespace {

Error malformed(std::string detail) {
  return Error{ClusterErrc::kMalformed, "membership message: " + std::move(detail)};
}

// --- writing ---

void put_record(Bytes& out, const Member& m) {
  put_u64(out, m.id);
  out.append(reinterpret_cast<const char*>(m.identity.data()), m.identity.size());
  put_u8(out, static_cast<std::uint8_t>(m.address.size()));
  out.append(m.address);
  put_u64(out, m.incarnation);
}
std::size_t record_size(const Member& m) { return 8 + 32 + 1 + m.address.size() + 8; }

// --- reading: every read checks the bytes left first ---

class Reader : public ByteReader {
 public:
  explicit Reader(BytesView bytes)
      : ByteReader(bytes, ClusterErrc::kMalformed, "membership message") {}
};

Result<MemberState> read_state(Reader& in) {
  TROUPE_READ(v, in.u8("member state"));
  if (v < 1 || v > 4) return malformed("member state " + std::to_string(v));
  return static_cast<MemberState>(v);
}

Result<Member> read_record(Reader& in) {
  Member m;
  TROUPE_READ(id, in.u64("member id"));
  TROUPE_READ(key, in.take(32, "member identity"));
  TROUPE_READ(len, in.u8("address length"));
  TROUPE_READ(address, in.take(len, "address"));
  TROUPE_READ(incarnation, in.u64("incarnation"));
  m.id = id;
  for (std::size_t i = 0; i < 32; ++i) m.identity[i] = static_cast<std::uint8_t>(key[i]);
  m.address.assign(address);
  m.incarnation = incarnation;
  if (auto checked = check_member(m); !checked.ok()) return malformed(checked.error().detail);
  return m;
}

// A count of entries of at least min_entry bytes each: refused before any allocation when the
// bytes left cannot hold it, so the vector reserved is never larger than the input.
Result<std::size_t> read_count(Reader& in, std::size_t max, std::size_t min_entry,
                               const char* what) {
  TROUPE_READ(n, in.u16(what));
  if (n > max) {
    return malformed(std::string(what) + " " + std::to_string(n) + " over the limit " +
                     std::to_string(max));
  }
  if (n * min_entry > in.left()) {
    return malformed(std::string(what) + " " + std::to_string(n) + " larger than the message");
  }
  return static_cast<std::size_t>(n);
}

Result<MessageBody> read_body(Reader& in, MessageType type, const MembershipCodecLimits& limits) {
  switch (type) {
    case MessageType::kPing: {
      Ping ping;
      TROUPE_READ(seq, in.u32("ping seq"));
      TROUPE_READ(target, in.u64("ping target"));
      TROUPE_READ(flag, in.u8("ping suspicion flag"));
      ping.seq = seq;
      ping.target = target;
      if (flag > 1) return malformed("ping suspicion flag " + std::to_string(flag));
      if (flag == 1) {
        TROUPE_READ(incarnation, in.u64("buddy incarnation"));
        TROUPE_READ(from, in.u64("buddy from"));
        ping.suspicion = BuddySuspicion{incarnation, from};
      }
      return MessageBody{ping};
    }
    case MessageType::kPingRequest: {
      TROUPE_READ(seq, in.u32("ping-request seq"));
      TROUPE_READ(target, read_record(in));
      return MessageBody{PingRequest{seq, std::move(target)}};
    }
    case MessageType::kAck: {
      TROUPE_READ(seq, in.u32("ack seq"));
      return MessageBody{Ack{seq}};
    }
    case MessageType::kNack: {
      TROUPE_READ(seq, in.u32("nack seq"));
      return MessageBody{Nack{seq}};
    }
    case MessageType::kGossip:
      return MessageBody{Gossip{}};
    case MessageType::kPushPull:
    case MessageType::kPushPullReply: {
      PushPull state;
      state.reply = type == MessageType::kPushPullReply;
      TROUPE_READ(n, read_count(in, limits.max_members, kMinPushPullEntryBytes, "member count"));
      state.members.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        TROUPE_READ(s, read_state(in));
        TROUPE_READ(m, read_record(in));
        m.state = s;
        state.members.push_back(std::move(m));
      }
      return MessageBody{std::move(state)};
    }
  }
  return malformed("unknown message type");
}

MessageType type_of(const MessageBody& body) {
  return std::visit(
      [](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Ping>) return MessageType::kPing;
        if constexpr (std::is_same_v<T, PingRequest>) return MessageType::kPingRequest;
        if constexpr (std::is_same_v<T, Ack>) return MessageType::kAck;
        if constexpr (std::is_same_v<T, Nack>) return MessageType::kNack;
        if constexpr (std::is_same_v<T, Gossip>) return MessageType::kGossip;
        if constexpr (std::is_same_v<T, PushPull>) {
          return b.reply ? MessageType::kPushPullReply : MessageType::kPushPull;
        }
      },
      body);
}

}  // namespace

MembershipCodecLimits membership_codec_limits(const SwimConfig& config) {
  return MembershipCodecLimits{config.max_message_bytes, max_push_pull_bytes(config),
                               config.max_updates_per_message, config.max_members};
}

Result<MembershipMessage> decode_membership_message(BytesView bytes,
                                                    const MembershipCodecLimits& limits) {
  Reader in(bytes);
  TROUPE_READ(version, in.u8("version"));
  if (version != kMembershipProtocolVersion) {
    return malformed("protocol version " + std::to_string(version));
  }
  TROUPE_READ(type_byte, in.u8("type"));
  if (type_byte < 1 || type_byte > 7) return malformed("type " + std::to_string(type_byte));
  const auto type = static_cast<MessageType>(type_byte);
  const bool push_pull = type == MessageType::kPushPull || type == MessageType::kPushPullReply;
  const std::size_t cap = push_pull ? limits.max_push_pull_bytes : limits.max_message_bytes;
  if (bytes.size() > cap) {
    return malformed(std::to_string(bytes.size()) + " bytes, over the limit " +
                     std::to_string(cap));
  }

  MembershipMessage message;
  TROUPE_READ(body, read_body(in, type, limits));
  message.body = std::move(body);
  TROUPE_READ(n, read_count(in, limits.max_updates, kMinUpdateBytes, "update count"));
  message.updates.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    TROUPE_READ(s, read_state(in));
    TROUPE_READ(m, read_record(in));
    TROUPE_READ(from, in.u64("update from"));
    m.state = s;
    message.updates.push_back(MemberUpdate{std::move(m), from});
  }
  if (in.left() != 0) return malformed(std::to_string(in.left()) + " trailing bytes");
  return message;
}

#undef TROUPE_READ

Bytes encode_membership_message(const MembershipMessage& message) {
  Bytes out;
  std::size_t size = encoded_body_size(message.body);
  for (const auto& u : message.updates) size += encoded_update_size(u);
  out.reserve(size);
  put_u8(out, kMembershipProtocolVersion);
  put_u8(out, static_cast<std::uint8_t>(type_of(message.body)));
  std::visit(
      [&out](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Ping>) {
          put_u32(out, b.seq);
          put_u64(out, b.target);
          put_u8(out, b.suspicion ? 1 : 0);
          if (b.suspicion) {
            put_u64(out, b.suspicion->incarnation);
            put_u64(out, b.suspicion->from);
          }
        } else if constexpr (std::is_same_v<T, PingRequest>) {
          put_u32(out, b.seq);
          put_record(out, b.target);
        } else if constexpr (std::is_same_v<T, Ack> || std::is_same_v<T, Nack>) {
          put_u32(out, b.seq);
        } else if constexpr (std::is_same_v<T, PushPull>) {
          put_u16(out, static_cast<std::uint16_t>(b.members.size()));
          for (const auto& m : b.members) {
            put_u8(out, static_cast<std::uint8_t>(m.state));
            put_record(out, m);
          }
        }
      },
      message.body);
  put_u16(out, static_cast<std::uint16_t>(message.updates.size()));
  for (const auto& u : message.updates) {
    put_u8(out, static_cast<std::uint8_t>(u.member.state));
    put_record(out, u.member);
    put_u64(out, u.from);
  }
  return out;
}

std::size_t encoded_body_size(const MessageBody& body) {
  const std::size_t body_size = std::visit(
      [](const auto& b) -> std::size_t {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Ping>) return 4 + 8 + 1 + (b.suspicion ? 16 : 0);
        if constexpr (std::is_same_v<T, PingRequest>) return 4 + record_size(b.target);
        if constexpr (std::is_same_v<T, Ack> || std::is_same_v<T, Nack>) return 4;
        if constexpr (std::is_same_v<T, Gossip>) return 0;
        if constexpr (std::is_same_v<T, PushPull>) {
          std::size_t n = 2;
          for (const auto& m : b.members) n += 1 + record_size(m);
          return n;
        }
      },
      body);
  return kMembershipHeaderBytes + body_size + 2;
}

std::size_t encoded_update_size(const MemberUpdate& update) {
  return 1 + record_size(update.member) + 8;
}

}  // namespace troupe
