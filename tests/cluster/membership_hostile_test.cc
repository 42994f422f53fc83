// Hostile bytes at Membership::on_message: seeded random buffers, mutations of valid messages
// and valid floods of fresh members. Nothing may crash, and no table may outgrow its cap.
// (The decoder's individual bounds are pinned in membership_codec_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "troupe/cluster/membership.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;

class CountingTransport final : public MembershipTransport {
 public:
  void send(const Member&, Bytes message) override {
    ++sent;
    max_bytes = std::max(max_bytes, message.size());
  }
  std::uint64_t sent = 0;
  std::size_t max_bytes = 0;
};

Member random_member(std::mt19937_64& rng, MemberState state) {
  Member m;
  for (auto& b : m.identity) b = static_cast<std::uint8_t>(rng());
  m.id = member_id_of(m.identity);
  m.address = "10." + std::to_string(rng() % 256) + ".0.1:" + std::to_string(rng() % 65536);
  m.incarnation = rng() % 4 == 0 ? ~std::uint64_t{0} - rng() % 3 : rng() % 8;
  m.state = state;
  return m;
}

MemberState random_state(std::mt19937_64& rng) { return static_cast<MemberState>(1 + rng() % 4); }

MembershipMessage random_valid_message(std::mt19937_64& rng, const std::vector<Member>& known,
                                       NodeId self) {
  auto pick = [&]() -> Member {
    if (!known.empty() && rng() % 2 == 0) {
      Member m = known[rng() % known.size()];
      m.incarnation += rng() % 3;
      m.state = random_state(rng);
      return m;
    }
    return random_member(rng, random_state(rng));
  };
  MembershipMessage message;
  switch (rng() % 7) {
    case 0:
      message.body = Ping{
          static_cast<std::uint32_t>(rng()), rng() % 2 ? self : rng(),
          rng() % 2 ? std::optional<BuddySuspicion>(BuddySuspicion{rng(), rng()}) : std::nullopt};
      break;
    case 1:
      message.body = PingRequest{static_cast<std::uint32_t>(rng()), pick()};
      break;
    case 2:
      message.body = Ack{static_cast<std::uint32_t>(rng() % 64)};
      break;
    case 3:
      message.body = Nack{static_cast<std::uint32_t>(rng() % 64)};
      break;
    case 4:
      message.body = Gossip{};
      break;
    default: {
      PushPull state{rng() % 2 == 0, {}};
      const std::size_t n = rng() % 40;
      for (std::size_t i = 0; i < n; ++i) state.members.push_back(pick());
      message.body = std::move(state);
    }
  }
  const std::size_t updates = rng() % 12;
  for (std::size_t i = 0; i < updates; ++i) {
    message.updates.push_back(MemberUpdate{pick(), rng() % 2 ? self : rng()});
  }
  return message;
}

Bytes mutate(std::mt19937_64& rng, Bytes bytes) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!bytes.empty()) bytes[rng() % bytes.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:  // overwrite a byte
        if (!bytes.empty()) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        break;
      case 2:  // truncate
        bytes.resize(bytes.empty() ? 0 : rng() % bytes.size());
        break;
      case 3:  // insert bytes
        bytes.insert(bytes.empty() ? 0 : rng() % bytes.size(), rng() % 8 + 1,
                     static_cast<char>(rng()));
        break;
      case 4:  // a huge count somewhere
        if (bytes.size() > 2) {
          const std::size_t at = rng() % (bytes.size() - 1);
          bytes[at] = '\xff';
          bytes[at + 1] = '\xff';
        }
        break;
      default:  // a plausible header on random bytes
        if (bytes.size() > 1) {
          bytes[0] = kMembershipProtocolVersion;
          bytes[1] = static_cast<char>(1 + rng() % 7);
        }
        break;
    }
  }
  return bytes;
}

TEST(MembershipHostile, RandomAndMutatedBytesNeverCrashOrOutgrowTheCaps) {
  SwimConfig config;
  config.max_members = 24;
  config.max_pending_relays = 8;
  ManualClock clock;
  CountingTransport transport;
  std::mt19937_64 rng(20261207);
  Member self = random_member(rng, MemberState::kAlive);
  self.incarnation = 1;
  std::size_t events = 0;
  auto created = Membership::create(
      config, self, transport, clock, 1, [](const Member&) { return true; },
      [&](const MemberEvent&) { ++events; });
  ASSERT_TRUE(created.ok());
  Membership& m = **created;

  std::vector<Bytes> corpus;
  std::vector<Member> known;
  std::uint64_t accepted = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes;
    switch (rng() % 4) {
      case 0: {  // random bytes
        bytes.resize(rng() % 700);
        for (char& c : bytes) c = static_cast<char>(rng());
        break;
      }
      case 1:  // a valid message
        bytes = encode_membership_message(random_valid_message(rng, known, self.id));
        corpus.push_back(bytes);
        break;
      default:  // a mutated valid one
        bytes = corpus.empty() ? Bytes{} : mutate(rng, corpus[rng() % corpus.size()]);
        break;
    }
    const NodeId from = !known.empty() && rng() % 2 ? known[rng() % known.size()].id
                                                    : (rng() % 50 == 0 ? self.id : rng());
    auto handled = m.on_message(from, bytes);
    (handled.ok() ? accepted : refused) += 1;
    if (i % 50 == 0) {
      clock.advance(std::chrono::milliseconds(rng() % 3000));
      m.tick();
      if (rng() % 200 == 0) m.on_peer_unreachable(from);
    }
    known = m.members();
    ASSERT_LE(known.size(), config.max_members);
    ASSERT_LE(transport.max_bytes, max_push_pull_bytes(config));
    ASSERT_GE(m.next_deadline(), clock.now() - 1h);  // always some deadline, never garbage
  }
  // The run must have exercised both sides: refusals and real state changes.
  EXPECT_GT(refused, 5000u);
  EXPECT_GT(accepted, 5000u);
  EXPECT_GT(events, 100u);
  EXPECT_EQ(m.counters().malformed, refused);
  EXPECT_GT(m.counters().refused_capacity, 0u);
  EXPECT_GT(transport.sent, 0u);
}

TEST(MembershipHostile, AFloodOfValidNewMembersStopsAtTheCap) {
  SwimConfig config;
  config.max_members = 64;
  ManualClock clock;
  CountingTransport transport;
  std::mt19937_64 rng(7);
  Member self = random_member(rng, MemberState::kAlive);
  auto created =
      Membership::create(config, self, transport, clock, 1, [](const Member&) { return true; });
  ASSERT_TRUE(created.ok());
  Membership& m = **created;
  for (int i = 0; i < 200; ++i) {
    PushPull state{true, {}};
    for (int k = 0; k < 40; ++k) state.members.push_back(random_member(rng, MemberState::kAlive));
    ASSERT_TRUE(m.on_message(rng(), encode_membership_message({std::move(state), {}})).ok());
    ASSERT_LE(m.members().size(), config.max_members);
  }
  EXPECT_EQ(m.members().size(), config.max_members);
  EXPECT_GE(m.counters().refused_capacity, 200u * 40 - config.max_members);
}

}  // namespace
}  // namespace troupe
