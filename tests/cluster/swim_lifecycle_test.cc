// Membership over a members' lifetime, in a simulated network (sim_network.h): false
// suspicions refuted, restarts, leaving, and the admission predicate.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "sim_network.h"

namespace troupe::test {
namespace {

using namespace std::chrono_literals;

std::size_t count_kind(const SimNetwork& sim, MemberEventKind kind, NodeId member) {
  std::size_t n = 0;
  for (const auto& e : sim.events()) n += e.kind == kind && e.member == member ? 1 : 0;
  return n;
}

void converge(SimNetwork& sim, std::size_t n) {
  ASSERT_TRUE(sim.run_until([&] { return sim.all_alive(range(0, n)); }, 10s));
  sim.run_for(2s);
}

TEST(SwimLifecycle, AFalselySuspectedMemberRefutesWithAHigherIncarnation) {
  SimNetwork sim(11);
  sim.add_cluster(5);
  converge(sim, 5);
  const std::uint64_t before = sim.node(3).self().incarnation;
  // Node 1 tells node 2 that node 3 is suspect: node 3 is in fact fine.
  Member suspect = sim.node(1).member(sim.id(3)).value();
  suspect.state = MemberState::kSuspect;
  ASSERT_TRUE(sim.node(2)
                  .on_message(sim.id(1), encode_membership_message(MembershipMessage{
                                             Gossip{}, {MemberUpdate{suspect, sim.id(1)}}}))
                  .ok());
  ASSERT_TRUE(sim.sees(2, 3, MemberState::kSuspect));
  const auto took = sim.run_until(
      [&] {
        for (std::size_t i : {0, 1, 2, 4}) {
          auto m = sim.node(i).member(sim.id(3));
          if (!m || m->state != MemberState::kAlive || m->incarnation <= before) return false;
        }
        return true;
      },
      10s, 10ms);
  ASSERT_TRUE(took.has_value());
  std::printf(
      "[sim] refutation: suspected member alive again at incarnation %llu everywhere "
      "after %.3f s\n",
      static_cast<unsigned long long>(sim.node(3).self().incarnation), seconds(*took));
  EXPECT_GT(sim.node(3).self().incarnation, before);
  EXPECT_EQ(sim.node(3).counters().refutations, 1u);
  EXPECT_GE(sim.count_events(2, MemberEventKind::kAliveAgain, sim.id(3)), 1u);
  sim.run_for(60s);
  EXPECT_EQ(count_kind(sim, MemberEventKind::kDead, sim.id(3)), 0u);
}

TEST(SwimLifecycle, ARestartedMemberWithAHigherIncarnationIsAliveAgainAtTheOthers) {
  SimNetwork sim(12);
  sim.add_cluster(5);
  converge(sim, 5);
  sim.crash(4);
  ASSERT_TRUE(sim.run_until(
      [&] {
        for (std::size_t i : range(0, 4)) {
          if (!sim.sees(i, 4, MemberState::kDead)) return false;
        }
        return true;
      },
      60s));
  // The node's next boot: boot counter << 32.
  const std::uint64_t reborn = std::uint64_t{2} << 32;
  sim.restart(4, reborn, {0});
  const auto took = sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 10s, 10ms);
  ASSERT_TRUE(took.has_value());
  std::printf("[sim] restart: the restarted member is alive everywhere %.3f s after its join\n",
              seconds(*took));
  for (std::size_t i : range(0, 4)) {
    EXPECT_EQ(sim.node(i).member(sim.id(4))->incarnation, reborn);
    EXPECT_EQ(sim.count_events(i, MemberEventKind::kDead, sim.id(4)), 1u);
    EXPECT_EQ(sim.count_events(i, MemberEventKind::kJoined, sim.id(4)), 2u);
  }
}

TEST(SwimLifecycle, AMemberRestartedBeforeItWasNoticedIsUpdatedNotKilled) {
  SimNetwork sim(13);
  sim.add_cluster(5);
  converge(sim, 5);
  sim.crash(4);
  sim.run_for(100ms);
  sim.restart(4, std::uint64_t{2} << 32, {0});
  ASSERT_TRUE(sim.run_until(
      [&] {
        for (std::size_t i : range(0, 4)) {
          auto m = sim.node(i).member(sim.id(4));
          if (!m || m->incarnation != std::uint64_t{2} << 32) return false;
        }
        return true;
      },
      10s));
  sim.run_for(60s);
  EXPECT_TRUE(sim.all_alive(range(0, 5)));
  EXPECT_EQ(count_kind(sim, MemberEventKind::kDead, sim.id(4)), 0u);
  EXPECT_GE(count_kind(sim, MemberEventKind::kUpdated, sim.id(4)), 4u);
}

TEST(SwimLifecycle, ALeavingMemberIsSeenLeftNotDeadExactlyOnce) {
  SimNetwork sim(14);
  sim.add_cluster(5);
  converge(sim, 5);
  sim.node(2).leave();
  const auto took = sim.run_until(
      [&] {
        for (std::size_t i : {0, 1, 3, 4}) {
          if (!sim.sees(i, 2, MemberState::kLeft)) return false;
        }
        return true;
      },
      5s, 10ms);
  ASSERT_TRUE(took.has_value());
  std::printf("[sim] leave: left at all 4 others after %.3f s\n", seconds(*took));
  sim.crash(2);       // the process goes away after leaving
  sim.run_for(120s);  // past reaping and reconnect rounds
  for (std::size_t i : {0, 1, 3, 4}) {
    EXPECT_EQ(sim.count_events(i, MemberEventKind::kLeft, sim.id(2)), 1u) << "observer " << i;
    EXPECT_EQ(sim.count_events(i, MemberEventKind::kDead, sim.id(2)), 0u) << "observer " << i;
    EXPECT_EQ(sim.count_events(i, MemberEventKind::kSuspect, sim.id(2)), 0u) << "observer " << i;
    EXPECT_EQ(sim.messages_sent(i, 2) > 0, true);  // it was told and probed before leaving
  }
  // Nobody tries to reconnect to a member that left.
  std::uint64_t reconnects = 0;
  for (std::size_t i : {0, 1, 3, 4}) reconnects += sim.node(i).counters().reconnects;
  EXPECT_EQ(reconnects, 0u);
}

TEST(SwimLifecycle, AMemberTheAllowlistRefusesIsNeverListedOrProbed) {
  SimNetwork sim(15);
  // Everyone but node 1 refuses node 4; node 1 admits it (a stale allowlist), so news of
  // node 4 does reach the others, through node 1's gossip and push-pulls.
  sim.set_admission([&](std::size_t observer, const Member& m) {
    return observer == 1 || m.id != SimNetwork::make_record(4).id;
  });
  sim.add_cluster(4);
  converge(sim, 4);
  sim.add_node();
  sim.join(4, {1});
  sim.run_for(120s);
  for (std::size_t i : {0, 2, 3}) {
    EXPECT_FALSE(sim.node(i).member(sim.id(4)).has_value()) << "observer " << i;
    EXPECT_EQ(sim.messages_sent(i, 4), 0u) << "observer " << i;
    EXPECT_GT(sim.node(i).counters().refused_admission, 0u) << "observer " << i;
    EXPECT_EQ(sim.node(i).members().size(), 4u);
  }
  EXPECT_TRUE(sim.sees(1, 4, MemberState::kAlive));
  EXPECT_TRUE(sim.all_alive(range(0, 4)));
}

}  // namespace
}  // namespace troupe::test
