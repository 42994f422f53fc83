// Membership, one instance driven by hand: a recording transport, a ManualClock, messages
// crafted with the codec. What each protocol step sends and how the table moves.
#include "troupe/cluster/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "troupe/base/error.h"
#include "troupe/cluster/cluster_error.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;

Member record(std::uint8_t key_byte, std::uint64_t incarnation = 1) {
  Member m;
  m.identity.fill(key_byte);
  m.id = member_id_of(m.identity);
  m.address = "10.0.0." + std::to_string(key_byte) + ":7400";
  m.incarnation = incarnation;
  return m;
}

struct Sent {
  NodeId to;
  MembershipMessage message;
};

class RecordingTransport final : public MembershipTransport {
 public:
  void send(const Member& to, Bytes message) override {
    auto decoded = decode_membership_message(message, MembershipCodecLimits{});
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    sent.push_back(Sent{to.id, std::move(*decoded)});
  }
  template <class T>
  std::vector<std::pair<NodeId, T>> take() {
    std::vector<std::pair<NodeId, T>> out;
    for (const auto& s : sent) {
      if (auto* body = std::get_if<T>(&s.message.body)) out.emplace_back(s.to, *body);
    }
    return out;
  }
  std::vector<Sent> sent;
};

class MembershipTest : public ::testing::Test {
 protected:
  void make(SwimConfig config = {}, Membership::Admission admit = {}) {
    if (!admit) admit = [](const Member&) { return true; };
    auto created = Membership::create(config, self_, transport_, clock_, 99, admit,
                                      [this](const MemberEvent& e) { events_.push_back(e); });
    ASSERT_TRUE(created.ok()) << created.error().detail;
    m_ = std::move(*created);
  }
  // Feeds a push-pull reply from `from` listing `members` (`from` included).
  void learn(const std::vector<Member>& members, NodeId from) {
    deliver(from, MembershipMessage{PushPull{true, members}, {}});
  }
  void deliver(NodeId from, const MembershipMessage& message) {
    auto handled = m_->on_message(from, encode_membership_message(message));
    EXPECT_TRUE(handled.ok()) << handled.error().detail;
  }
  // Advances the clock to the next deadline and ticks.
  void step() {
    const auto next = m_->next_deadline();
    if (next > clock_.now()) clock_.advance(next - clock_.now());
    m_->tick();
  }
  void advance(Clock::Duration d) {
    const auto end = clock_.now() + d;
    while (m_->next_deadline() <= end) step();
    if (end > clock_.now()) clock_.advance(end - clock_.now());
    m_->tick();
  }
  std::size_t count(MemberEventKind kind, NodeId id) const {
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](auto& e) {
      return e.kind == kind && e.member.id == id;
    }));
  }
  // Four other members a, b, c, d known alive.
  void with_four_members() {
    make();
    learn({a_, b_, c_, d_}, a_.id);
    transport_.sent.clear();
  }
  // Runs until a probe's ping leaves; returns its target and seq.
  std::pair<NodeId, std::uint32_t> next_ping() {
    for (int i = 0; i < 100; ++i) {
      transport_.sent.clear();
      step();
      auto pings = transport_.take<Ping>();
      if (!pings.empty()) return {pings[0].first, pings[0].second.seq};
    }
    ADD_FAILURE() << "no probe";
    return {0, 0};
  }

  Member self_ = record(1, 5);
  Member a_ = record(2), b_ = record(3), c_ = record(4), d_ = record(5);
  ManualClock clock_;
  RecordingTransport transport_;
  std::vector<MemberEvent> events_;
  std::unique_ptr<Membership> m_;
};

TEST_F(MembershipTest, CreateRefusesABadConfigAndASelfWhoseIdIsNotItsKeys) {
  SwimConfig bad;
  bad.probe_interval = 0s;
  auto admit = [](const Member&) { return true; };
  EXPECT_FALSE(Membership::create(bad, self_, transport_, clock_, 1, admit).ok());
  Member forged = self_;
  forged.id += 1;
  auto created = Membership::create(SwimConfig{}, forged, transport_, clock_, 1, admit);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ClusterErrc::kMalformed);
}

TEST_F(MembershipTest, JoinPushesPullsWithEverySeedButSelf) {
  make();
  ASSERT_TRUE(m_->join({self_, a_, b_}).ok());
  auto pushes = transport_.take<PushPull>();
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[0].first, a_.id);
  EXPECT_EQ(pushes[1].first, b_.id);
  EXPECT_FALSE(pushes[0].second.reply);
  ASSERT_EQ(pushes[0].second.members.size(), 1u);  // just us
  EXPECT_EQ(pushes[0].second.members[0].id, self_.id);
  EXPECT_EQ(pushes[0].second.members[0].incarnation, 5u);
}

TEST_F(MembershipTest, JoinRefusesAForgedOrUnadmittedSeedAndSendsNothing) {
  make({}, [this](const Member& m) { return m.id != b_.id; });
  Member forged = a_;
  forged.identity[0] ^= 1;
  auto joined = m_->join({a_, forged});
  ASSERT_FALSE(joined.ok());
  EXPECT_EQ(joined.error().code, ClusterErrc::kMalformed);
  joined = m_->join({a_, b_});
  ASSERT_FALSE(joined.ok());
  EXPECT_EQ(joined.error().code, BaseErrc::kRefused);
  EXPECT_TRUE(transport_.sent.empty());
}

TEST_F(MembershipTest, APushPullReplyAddsItsMembersOnceEach) {
  make();
  learn({a_, b_}, a_.id);
  learn({a_, b_}, a_.id);
  EXPECT_EQ(m_->members().size(), 3u);
  EXPECT_EQ(m_->members()[0].id, self_.id);
  EXPECT_EQ(count(MemberEventKind::kJoined, a_.id), 1u);
  EXPECT_EQ(count(MemberEventKind::kJoined, b_.id), 1u);
  EXPECT_EQ(m_->member(b_.id)->state, MemberState::kAlive);
  EXPECT_EQ(m_->member(b_.id)->state_changed, clock_.now());
}

TEST_F(MembershipTest, APushPullRequestIsAnsweredWithOurTable) {
  make();
  deliver(a_.id, MembershipMessage{PushPull{false, {a_}}, {}});
  auto replies = transport_.take<PushPull>();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].first, a_.id);
  EXPECT_TRUE(replies[0].second.reply);
  EXPECT_EQ(replies[0].second.members.size(), 2u);
}

TEST_F(MembershipTest, AMalformedMessageIsCountedAndChangesNothing) {
  make();
  auto result = m_->on_message(a_.id, Bytes("\x01\x63junk", 6));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ClusterErrc::kMalformed);
  EXPECT_EQ(m_->counters().malformed, 1u);
  EXPECT_EQ(m_->members().size(), 1u);
  EXPECT_TRUE(transport_.sent.empty());
}

TEST_F(MembershipTest, APingIsAckedAndAPingForAnotherNodeIsNot) {
  with_four_members();
  deliver(a_.id, MembershipMessage{Ping{77, self_.id, std::nullopt}, {}});
  auto acks = transport_.take<Ack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, a_.id);
  EXPECT_EQ(acks[0].second.seq, 77u);
  transport_.sent.clear();
  deliver(a_.id, MembershipMessage{Ping{78, b_.id, std::nullopt}, {}});
  EXPECT_TRUE(transport_.take<Ack>().empty());
  EXPECT_EQ(m_->counters().misdirected, 1u);
}

TEST_F(MembershipTest, ABuddyPingMakesUsRefuteAndTheAckCarriesTheRefutation) {
  with_four_members();
  deliver(a_.id, MembershipMessage{Ping{7, self_.id, BuddySuspicion{5, b_.id}}, {}});
  EXPECT_EQ(m_->self().incarnation, 6u);
  EXPECT_EQ(m_->counters().refutations, 1u);
  EXPECT_EQ(m_->health_score(), 1);  // being suspected counts against our own health
  ASSERT_FALSE(transport_.sent.empty());
  const Sent& ack = transport_.sent.front();
  ASSERT_TRUE(std::holds_alternative<Ack>(ack.message.body));
  auto refutation = std::find_if(ack.message.updates.begin(), ack.message.updates.end(),
                                 [&](auto& u) { return u.member.id == self_.id; });
  ASSERT_NE(refutation, ack.message.updates.end());
  EXPECT_EQ(refutation->member.state, MemberState::kAlive);
  EXPECT_EQ(refutation->member.incarnation, 6u);
  // A stale suspicion (older incarnation) is not refuted again.
  deliver(a_.id, MembershipMessage{Ping{8, self_.id, BuddySuspicion{5, b_.id}}, {}});
  EXPECT_EQ(m_->self().incarnation, 6u);
}

TEST_F(MembershipTest, AFailedProbeGoesIndirectThenSuspectsAndRaisesTheHealthScore) {
  with_four_members();
  const auto [target, seq] = next_ping();
  const auto started = clock_.now();
  transport_.sent.clear();
  while (transport_.take<PingRequest>().empty() && clock_.now() - started < 1s) step();
  EXPECT_EQ(clock_.now() - started, 500ms);  // the probe timeout
  auto requests = transport_.take<PingRequest>();
  ASSERT_EQ(requests.size(), 3u);
  std::set<NodeId> relays;
  for (const auto& [to, req] : requests) {
    EXPECT_NE(to, target);
    EXPECT_EQ(req.seq, seq);
    EXPECT_EQ(req.target.id, target);
    relays.insert(to);
  }
  EXPECT_EQ(relays.size(), 3u);
  while (clock_.now() - started < 1s) step();
  EXPECT_EQ(m_->member(target)->state, MemberState::kSuspect);
  EXPECT_EQ(count(MemberEventKind::kSuspect, target), 1u);
  EXPECT_EQ(m_->counters().suspicions_raised, 1u);
  // No relay answered, not even with a nack: we may be the problem.
  EXPECT_EQ(m_->health_score(), 3);
  // Five members, k = 2: the suspicion starts at its maximum, 6 * 4 s.
  EXPECT_EQ(*m_->suspicion_deadline(target), clock_.now() + 24s);
}

TEST_F(MembershipTest, NacksFromTheRelaysSpareTheHealthScore) {
  with_four_members();
  const auto [target, seq] = next_ping();
  const auto pinged = clock_.now();
  while (transport_.take<PingRequest>().empty() && clock_.now() - pinged < 1s) step();
  for (const auto& [relay, req] : transport_.take<PingRequest>()) {
    deliver(relay, MembershipMessage{Nack{seq}, {}});
  }
  const auto started = clock_.now();
  while (m_->member(target)->state == MemberState::kAlive && clock_.now() - started < 1s) {
    step();
  }
  EXPECT_EQ(m_->member(target)->state, MemberState::kSuspect);
  EXPECT_EQ(m_->counters().nacks_received, 3u);
  EXPECT_EQ(m_->health_score(), 0);
}

TEST_F(MembershipTest, AnAckFromTheTargetOrARelayEndsTheProbeButNotFromAnyoneElse) {
  with_four_members();
  auto [target, seq] = next_ping();
  NodeId other = target == a_.id ? b_.id : a_.id;
  deliver(other, MembershipMessage{Ack{seq}, {}});  // not the target, no relay yet
  EXPECT_EQ(m_->counters().stale_acks, 1u);
  deliver(target, MembershipMessage{Ack{seq}, {}});
  advance(900ms);  // the rest of this probe's interval
  EXPECT_EQ(m_->member(target)->state, MemberState::kAlive);
  EXPECT_EQ(m_->counters().probe_failures, 0u);
  EXPECT_TRUE(transport_.take<PingRequest>().empty());
}

TEST_F(MembershipTest, APingRequestIsRelayedAndTheAckForwardedElseANack) {
  with_four_members();
  deliver(a_.id, MembershipMessage{PingRequest{500, b_}, {}});
  auto pings = transport_.take<Ping>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, b_.id);
  transport_.sent.clear();
  deliver(b_.id, MembershipMessage{Ack{pings[0].second.seq}, {}});
  auto acks = transport_.take<Ack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, a_.id);
  EXPECT_EQ(acks[0].second.seq, 500u);

  transport_.sent.clear();
  deliver(a_.id, MembershipMessage{PingRequest{501, c_}, {}});
  const auto asked = clock_.now();
  advance(450ms);
  auto nacks = transport_.take<Nack>();
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].first, a_.id);
  EXPECT_EQ(nacks[0].second.seq, 501u);
  EXPECT_EQ(m_->counters().nacks_sent, 1u);
  // Inside the requester's indirect window (probe_interval - probe_timeout = 500 ms).
  EXPECT_LE(clock_.now() - asked, 500ms);
}

TEST_F(MembershipTest, ASuspicionExpiresIntoOneDeadEventAndOnlyAHigherIncarnationRevives) {
  with_four_members();
  Member suspect = b_;
  suspect.state = MemberState::kSuspect;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{suspect, a_.id}}});
  ASSERT_EQ(m_->member(b_.id)->state, MemberState::kSuspect);
  const auto deadline = *m_->suspicion_deadline(b_.id);
  EXPECT_EQ(deadline - clock_.now(), 24s);
  // c confirms independently: 24 s shrinks to 11.381 s from the start.
  deliver(c_.id, MembershipMessage{Gossip{}, {MemberUpdate{suspect, c_.id}}});
  EXPECT_EQ(*m_->suspicion_deadline(b_.id), deadline - 24s + 11381ms);
  EXPECT_EQ(m_->counters().suspicion_confirmations, 1u);
  advance(12s);
  EXPECT_EQ(m_->member(b_.id)->state, MemberState::kDead);
  EXPECT_EQ(count(MemberEventKind::kDead, b_.id), 1u);
  // Dead is final for the incarnation: more dead, suspect, alive at the same one change
  // nothing.
  Member dead = b_;
  dead.state = MemberState::kDead;
  Member alive = b_;
  deliver(c_.id, MembershipMessage{Gossip{}, {MemberUpdate{dead, c_.id}}});
  deliver(c_.id, MembershipMessage{Gossip{}, {MemberUpdate{suspect, c_.id}}});
  deliver(c_.id, MembershipMessage{Gossip{}, {MemberUpdate{alive, b_.id}}});
  EXPECT_EQ(m_->member(b_.id)->state, MemberState::kDead);
  EXPECT_EQ(count(MemberEventKind::kDead, b_.id), 1u);
  alive.incarnation = 2;
  deliver(c_.id, MembershipMessage{Gossip{}, {MemberUpdate{alive, b_.id}}});
  EXPECT_EQ(m_->member(b_.id)->state, MemberState::kAlive);
  EXPECT_EQ(count(MemberEventKind::kJoined, b_.id), 2u);
}

TEST_F(MembershipTest, WithoutLifeguardTheSuspicionTimeoutIsFixedAndPingsCarryNoSuspicion) {
  SwimConfig config;
  config.lifeguard = false;
  make(config);
  learn({a_, b_, c_, d_}, a_.id);
  Member suspect = b_;
  suspect.state = MemberState::kSuspect;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{suspect, a_.id}}});
  EXPECT_EQ(*m_->suspicion_deadline(b_.id) - clock_.now(), 4s);
  for (int i = 0; i < 8; ++i) {
    auto [target, seq] = next_ping();
    (void)seq;
    if (target == b_.id) break;
  }
  EXPECT_EQ(m_->counters().buddy_pings, 0u);
}

TEST_F(MembershipTest, APingToASuspectCarriesTheSuspicion) {
  with_four_members();
  Member suspect = b_;
  suspect.state = MemberState::kSuspect;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{suspect, a_.id}}});
  for (int i = 0; i < 8; ++i) {
    transport_.sent.clear();
    step();
    for (const auto& [to, ping] : transport_.take<Ping>()) {
      if (to != b_.id) continue;
      ASSERT_TRUE(ping.suspicion.has_value());
      EXPECT_EQ(ping.suspicion->incarnation, 1u);
      EXPECT_EQ(ping.suspicion->from, a_.id);
      return;
    }
  }
  ADD_FAILURE() << "b was never probed";
}

TEST_F(MembershipTest, LeaveTellsEveryLiveMemberLeftAtAHigherIncarnationAndStopsProbing) {
  with_four_members();
  m_->leave();
  auto gossips = transport_.take<Gossip>();
  ASSERT_EQ(gossips.size(), 4u);
  for (const auto& s : transport_.sent) {
    ASSERT_EQ(s.message.updates.size(), 1u);
    EXPECT_EQ(s.message.updates[0].member.id, self_.id);
    EXPECT_EQ(s.message.updates[0].member.state, MemberState::kLeft);
    EXPECT_EQ(s.message.updates[0].member.incarnation, 6u);
  }
  EXPECT_TRUE(m_->has_left());
  transport_.sent.clear();
  advance(10s);
  EXPECT_TRUE(transport_.take<Ping>().empty());
  EXPECT_FALSE(m_->join({a_}).ok());
  // Suspicions of a member that left are not refuted.
  Member me = m_->self();
  me.state = MemberState::kSuspect;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{me, a_.id}}});
  EXPECT_EQ(m_->counters().refutations, 0u);
}

TEST_F(MembershipTest, AGossipedNewerOrMovedSelfIsRefuted) {
  make();
  Member newer = self_;
  newer.incarnation = 9;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{newer, self_.id}}});
  EXPECT_EQ(m_->self().incarnation, 10u);
  Member moved = m_->self();
  moved.address = "10.9.9.9:1";
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{moved, self_.id}}});
  EXPECT_EQ(m_->self().incarnation, 11u);
  EXPECT_EQ(m_->self().address, self_.address);
}

TEST_F(MembershipTest, AnAliveMemberMovesOnlyWithAHigherIncarnation) {
  with_four_members();
  Member moved = b_;
  moved.address = "10.9.9.9:1";
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{moved, b_.id}}});
  EXPECT_EQ(m_->member(b_.id)->address, b_.address);
  moved.incarnation = 2;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{moved, b_.id}}});
  EXPECT_EQ(m_->member(b_.id)->address, "10.9.9.9:1");
  EXPECT_EQ(count(MemberEventKind::kUpdated, b_.id), 1u);
}

TEST_F(MembershipTest, TheTableStopsAtMaxMembersAndDeadRecordsMakeRoom) {
  SwimConfig config;
  config.max_members = 4;  // self + 3
  make(config);
  learn({a_, b_, c_, d_}, a_.id);
  EXPECT_EQ(m_->members().size(), 4u);
  EXPECT_EQ(m_->counters().refused_capacity, 1u);
  EXPECT_FALSE(m_->member(d_.id).has_value());
  Member dead = c_;
  dead.state = MemberState::kDead;
  deliver(a_.id, MembershipMessage{Gossip{}, {MemberUpdate{dead, a_.id}}});
  learn({d_}, a_.id);
  EXPECT_EQ(m_->members().size(), 4u);
  EXPECT_TRUE(m_->member(d_.id).has_value());
  EXPECT_FALSE(m_->member(c_.id).has_value());
}

TEST_F(MembershipTest, AnUnreachableHintMakesThatMemberTheNextProbe) {
  with_four_members();
  auto [first, seq] = next_ping();
  (void)seq;
  const NodeId hinted = first == d_.id ? c_.id : d_.id;
  m_->on_peer_unreachable(hinted);
  auto [second, seq2] = next_ping();
  (void)seq2;
  EXPECT_EQ(second, hinted);
}

TEST_F(MembershipTest, UnadmittedMembersAreNeitherListedNorProbedNorRelayedTo) {
  make({}, [this](const Member& m) { return m.id != c_.id; });
  learn({a_, b_, c_}, a_.id);
  Member gossiped = c_;
  deliver(b_.id, MembershipMessage{Gossip{}, {MemberUpdate{gossiped, c_.id}}});
  EXPECT_EQ(m_->members().size(), 3u);
  EXPECT_FALSE(m_->member(c_.id).has_value());
  EXPECT_EQ(m_->counters().refused_admission, 2u);
  deliver(a_.id, MembershipMessage{PingRequest{9, c_}, {}});
  EXPECT_EQ(m_->counters().relays_refused, 1u);
  advance(20s);
  for (const auto& s : transport_.sent) EXPECT_NE(s.to, c_.id);
}

}  // namespace
}  // namespace troupe
