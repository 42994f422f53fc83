#include "troupe/cluster/membership_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "troupe/cluster/cluster_error.h"

namespace troupe {
namespace {

Member record(std::uint8_t key_byte, std::string address = "10.0.0.1:7400",
              std::uint64_t incarnation = 3, MemberState state = MemberState::kAlive) {
  Member m;
  m.identity.fill(key_byte);
  m.id = member_id_of(m.identity);
  m.address = std::move(address);
  m.incarnation = incarnation;
  m.state = state;
  return m;
}

MemberUpdate update(std::uint8_t key_byte, MemberState state) {
  return MemberUpdate{record(key_byte, "h:1", 9, state), 0x1122334455667788ULL};
}

std::vector<MembershipMessage> one_of_each() {
  return {
      {Ping{42, 0x0102030405060708ULL, std::nullopt}, {}},
      {Ping{43, 7, BuddySuspicion{5, 6}}, {update(1, MemberState::kSuspect)}},
      {PingRequest{44, record(2)}, {update(3, MemberState::kAlive)}},
      {Ack{45}, {update(4, MemberState::kDead), update(5, MemberState::kLeft)}},
      {Nack{46}, {}},
      {Gossip{}, {update(6, MemberState::kAlive)}},
      {PushPull{false, {record(7), record(8, "unix:/x", 1, MemberState::kDead)}}, {}},
      {PushPull{true, {record(9, "a:1", 2, MemberState::kSuspect)}},
       {update(10, MemberState::kLeft)}},
  };
}

Result<MembershipMessage> decode(BytesView bytes, MembershipCodecLimits limits = {}) {
  return decode_membership_message(bytes, limits);
}

void expect_malformed(BytesView bytes, const std::string& what, MembershipCodecLimits limits = {}) {
  auto decoded = decode(bytes, limits);
  ASSERT_FALSE(decoded.ok()) << what;
  EXPECT_EQ(decoded.error().code, ClusterErrc::kMalformed) << what;
}

std::string hex(BytesView bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

TEST(MembershipCodec, EveryMessageTypeRoundTripsAndItsSizeIsPredicted) {
  for (const auto& message : one_of_each()) {
    const Bytes bytes = encode_membership_message(message);
    std::size_t predicted = encoded_body_size(message.body);
    for (const auto& u : message.updates) predicted += encoded_update_size(u);
    EXPECT_EQ(bytes.size(), predicted);
    auto decoded = decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    // state_changed is not carried; everything else is.
    EXPECT_EQ(*decoded, message);
  }
}

// The layout of docs/PROTOCOL.md, "Membership", byte by byte.
TEST(MembershipCodec, PingLayoutIsAsDocumented) {
  const Bytes bytes = encode_membership_message(
      {Ping{0x2a, 0x0102030405060708ULL, BuddySuspicion{0x10, 0x20}}, {}});
  EXPECT_EQ(hex(bytes),
            "01"                // version
            "01"                // type: ping
            "0000002a"          // seq
            "0102030405060708"  // target id
            "01"                // a buddy suspicion follows
            "0000000000000010"  // its incarnation
            "0000000000000020"  // its accuser
            "0000");            // no updates
}

TEST(MembershipCodec, UpdateAndPushPullEntryLayoutsAreAsDocumented) {
  Member m = record(0xab, "h:1", 0x0102, MemberState::kSuspect);
  const Bytes bytes = encode_membership_message({PushPull{true, {m}}, {MemberUpdate{m, 0x33}}});
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(m.id));
  const std::string key(64, 'a');  // 0xab repeated: "ab" * 32
  std::string key_hex;
  for (int i = 0; i < 32; ++i) key_hex += "ab";
  const std::string rec = std::string(id) + key_hex + "03" + "683a31" + "0000000000000102";
  EXPECT_EQ(hex(bytes),
            "01"
            "07"    // push-pull reply
            "0001"  // one entry
            "02" +
                rec +   // state suspect, record
                "0001"  // one update
                "02" +
                rec +                 // kind suspect, record
                "0000000000000033");  // from
}

TEST(MembershipCodec, EveryTruncationIsRefused) {
  for (const auto& message : one_of_each()) {
    const Bytes bytes = encode_membership_message(message);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      expect_malformed(BytesView(bytes).substr(0, n), "prefix of " + std::to_string(n));
    }
  }
}

TEST(MembershipCodec, TrailingBytesAreRefused) {
  for (const auto& message : one_of_each()) {
    Bytes bytes = encode_membership_message(message);
    bytes.push_back('\0');
    expect_malformed(bytes, "one trailing byte");
  }
}

TEST(MembershipCodec, UnknownVersionTypeStateAndFlagAreRefused) {
  const Bytes ping = encode_membership_message({Ping{1, 2, std::nullopt}, {}});
  Bytes b = ping;
  b[0] = 2;
  expect_malformed(b, "version 2");
  for (int type : {0, 8, 255}) {
    b = ping;
    b[1] = static_cast<char>(type);
    expect_malformed(b, "type " + std::to_string(type));
  }
  b = ping;
  b[2 + 4 + 8] = 2;
  expect_malformed(b, "suspicion flag 2");

  const Bytes gossip = encode_membership_message({Gossip{}, {update(1, MemberState::kAlive)}});
  for (int state : {0, 5, 255}) {
    b = gossip;
    b[4] = static_cast<char>(state);  // version, type, count(2), then the update's kind
    expect_malformed(b, "update kind " + std::to_string(state));
  }
  const Bytes push_pull = encode_membership_message({PushPull{false, {record(1)}}, {}});
  for (int state : {0, 5}) {
    b = push_pull;
    b[4] = static_cast<char>(state);
    expect_malformed(b, "entry state " + std::to_string(state));
  }
}

TEST(MembershipCodec, BadRecordsAreRefused) {
  const Bytes gossip = encode_membership_message({Gossip{}, {update(1, MemberState::kAlive)}});
  const std::size_t rec = 5;  // the update's record starts after version, type, count, kind
  Bytes b = gossip;
  b[rec] ^= 1;  // id no longer the key's
  expect_malformed(b, "id mismatch");
  b = gossip;
  b[rec + 8] ^= 1;  // key no longer the id's
  expect_malformed(b, "key mismatch");
  b = gossip;
  b[rec + 40 + 1] = '\n';  // the address "h:1" with a control byte
  expect_malformed(b, "non-printable address");
  b = gossip;
  b[rec + 40 + 1] = static_cast<char>(0xc3);
  expect_malformed(b, "non-ASCII address");
  // An empty address: length 0, the three address bytes dropped.
  b = gossip;
  b[rec + 40] = 0;
  b.erase(rec + 41, 3);
  expect_malformed(b, "empty address");
  // An address length pointing past the end.
  b = gossip;
  b[rec + 40] = static_cast<char>(255);
  expect_malformed(b, "address length past the end");
}

TEST(MembershipCodec, CountsAreCheckedAgainstLimitsAndBytesLeft) {
  MembershipCodecLimits limits;
  limits.max_updates = 2;
  limits.max_members = 2;
  MembershipMessage three{Gossip{},
                          {update(1, MemberState::kAlive), update(2, MemberState::kAlive),
                           update(3, MemberState::kAlive)}};
  expect_malformed(encode_membership_message(three), "3 updates over 2", limits);
  three.updates.pop_back();
  EXPECT_TRUE(decode(encode_membership_message(three), limits).ok());

  MembershipMessage members{PushPull{false, {record(1), record(2), record(3)}}, {}};
  expect_malformed(encode_membership_message(members), "3 entries over 2", limits);

  // Counts that claim more entries than the bytes could hold are refused before any
  // allocation (a 65535 count in a 6-byte message).
  expect_malformed(std::string("\x01\x05\xff\xff", 4), "65535 updates in 4 bytes");
  expect_malformed(std::string("\x01\x06\xff\xff\x00\x00", 6), "65535 entries in 6 bytes");
  Bytes b = encode_membership_message({Gossip{}, {update(1, MemberState::kAlive)}});
  b[3] = 2;  // says two updates, holds one
  expect_malformed(b, "count past the bytes");
}

TEST(MembershipCodec, MessagesOverTheirSizeCapAreRefused) {
  MembershipCodecLimits limits;
  limits.max_message_bytes = 100;
  limits.max_push_pull_bytes = 150;
  const Bytes gossip = encode_membership_message({Gossip{}, {update(1, MemberState::kAlive)}});
  ASSERT_LE(gossip.size(), 100u);
  EXPECT_TRUE(decode(gossip, limits).ok());
  const Bytes two = encode_membership_message(
      {Gossip{}, {update(1, MemberState::kAlive), update(2, MemberState::kAlive)}});
  ASSERT_GT(two.size(), 100u);
  expect_malformed(two, "gossip over 100 bytes", limits);
  // Push-pull has its own, larger cap.
  const Bytes pp = encode_membership_message({PushPull{false, {record(1), record(2)}}, {}});
  ASSERT_GT(pp.size(), 100u);
  ASSERT_LE(pp.size(), 150u);
  EXPECT_TRUE(decode(pp, limits).ok());
  const Bytes pp3 =
      encode_membership_message({PushPull{false, {record(1), record(2), record(3)}}, {}});
  expect_malformed(pp3, "push-pull over 150 bytes", limits);
}

}  // namespace
}  // namespace troupe
