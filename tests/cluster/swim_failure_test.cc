// Membership under faults, in a simulated network (sim_network.h): a crashed node, lossy
// links, a partition and its healing, a CPU-starved node — in virtual time, with the bounds
// derived from the config.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "sim_network.h"

namespace troupe::test {
namespace {

using namespace std::chrono_literals;

std::size_t count_kind(const SimNetwork& sim, MemberEventKind kind) {
  std::size_t n = 0;
  for (const auto& e : sim.events()) n += e.kind == kind ? 1 : 0;
  return n;
}

std::uint64_t total(SimNetwork& sim, std::uint64_t MembershipCounters::*field) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < sim.size(); ++i) n += sim.node(i).counters().*field;
  return n;
}

// The worst case from a crash to DEAD everywhere, from the config alone: a prober reaches the
// crashed member within two of its rounds (n - 1 probes each, the order re-shuffled between
// rounds), the probe takes one interval, the suspicion runs at most its maximum timeout, and
// the dead news then needs a few gossip rounds.
Duration crash_detection_bound(const SwimConfig& c, std::size_t n) {
  const auto min =
      c.probe_interval * c.suspicion_mult * std::max(1.0, std::log10(static_cast<double>(n)));
  const auto max_suspicion =
      std::chrono::duration_cast<Duration>(min * c.suspicion_max_timeout_mult);
  const auto first_failed_probe = c.probe_interval * (2 * (n - 1) + 1);
  return first_failed_probe + max_suspicion + 10 * c.gossip_interval;
}

TEST(SwimFailure, CrashedNodeIsDeadEverywhereWithinTheBoundAndOnlyOnce) {
  SimNetwork sim(2);
  sim.add_cluster(5);
  ASSERT_TRUE(sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 10s));
  sim.run_for(5s);
  const auto bound = crash_detection_bound(SwimConfig{}, 5);
  sim.crash(3);
  const auto crashed_at = sim.now();
  const auto took = sim.run_until(
      [&] {
        for (std::size_t i : {0, 1, 2, 4}) {
          if (!sim.sees(i, 3, MemberState::kDead)) return false;
        }
        return true;
      },
      2 * bound, 10ms);
  ASSERT_TRUE(took.has_value());
  double first = 1e9;
  for (const auto& e : sim.events()) {
    if (e.kind == MemberEventKind::kSuspect && e.member == sim.id(3) && e.at >= crashed_at) {
      first = std::min(first, seconds(e.at - crashed_at));
    }
  }
  std::printf(
      "[sim] crash: first suspicion after %.3f s, DEAD at all 4 after %.3f s "
      "(bound from config %.1f s)\n",
      first, seconds(*took), seconds(bound));
  EXPECT_LE(*took, bound);
  // Long after — reaped, reconnect attempts to it failing — still exactly one DEAD each.
  sim.run_for(120s);
  for (std::size_t i : {0, 1, 2, 4}) {
    EXPECT_EQ(sim.count_events(i, MemberEventKind::kDead, sim.id(3)), 1u) << "observer " << i;
    EXPECT_FALSE(sim.node(i).member(sim.id(3)).has_value()) << "reaped at " << i;
  }
  EXPECT_EQ(count_kind(sim, MemberEventKind::kDead), 4u);
}

TEST(SwimFailure, TenPercentLossForTenMinutesDeclaresNobodyDead) {
  SimNetwork sim(3);
  sim.add_cluster(5);
  ASSERT_TRUE(sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 10s));
  sim.set_loss(0.10);
  sim.run_for(600s);
  const auto suspects = count_kind(sim, MemberEventKind::kSuspect);
  const auto refuted = count_kind(sim, MemberEventKind::kAliveAgain);
  std::printf(
      "[sim] 10%% loss, 600 s: %zu suspect events, %zu alive-again, %llu refutations, "
      "%llu probe failures of %llu probes, %llu dropped of %llu\n",
      suspects, refuted,
      static_cast<unsigned long long>(total(sim, &MembershipCounters::refutations)),
      static_cast<unsigned long long>(total(sim, &MembershipCounters::probe_failures)),
      static_cast<unsigned long long>(total(sim, &MembershipCounters::probes)),
      static_cast<unsigned long long>(sim.messages_dropped()),
      static_cast<unsigned long long>(sim.messages_dropped() + sim.messages_delivered()));
  EXPECT_EQ(count_kind(sim, MemberEventKind::kDead), 0u);
  EXPECT_GT(suspects, 0u) << "the loss must have caused suspicions for the test to mean much";
  sim.set_loss(0);
  EXPECT_TRUE(sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 30s));
}

void partition_and_heal(std::uint64_t seed, Duration extra_partition_time) {
  SimNetwork sim(seed);
  sim.add_cluster(5);
  ASSERT_TRUE(sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 10s));
  const std::vector<std::size_t> left{0, 1}, right{2, 3, 4};
  sim.partition({left, right});
  const auto split = sim.run_until(
      [&] {
        for (std::size_t i : left) {
          for (std::size_t j : right) {
            if (sim.node(i).member(sim.id(j)).has_value() && !sim.sees(i, j, MemberState::kDead))
              return false;
            if (sim.node(j).member(sim.id(i)).has_value() && !sim.sees(j, i, MemberState::kDead))
              return false;
          }
        }
        return true;
      },
      120s);
  ASSERT_TRUE(split.has_value());
  EXPECT_TRUE(sim.all_alive(left));
  EXPECT_TRUE(sim.all_alive(right));
  sim.run_for(extra_partition_time);
  sim.heal();
  const auto healed = sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 120s);
  ASSERT_TRUE(healed.has_value());
  const SwimConfig c;
  std::printf(
      "[sim] partition 2|3: sides saw each other dead after %.3f s; healed after "
      "%.1f s more apart: 5 alive everywhere %.3f s after the heal (reconnect "
      "interval %.0f s)\n",
      seconds(*split), seconds(extra_partition_time), seconds(*healed),
      seconds(c.reconnect_interval));
  EXPECT_LE(*healed, c.reconnect_interval + 10s);
  sim.run_for(60s);
  EXPECT_TRUE(sim.all_alive(range(0, 5)));
}

TEST(SwimFailure, PartitionShowsEachSideTheOtherDeadAndHealsBeforeReaping) {
  partition_and_heal(4, 0s);
}

TEST(SwimFailure, PartitionHealsAfterTheDeadWereReaped) {
  partition_and_heal(5, SwimConfig{}.gossip_to_the_dead_time + 10s);
}

struct SlowRun {
  std::size_t dead_events = 0;             // anyone declared dead by anyone
  std::size_t dead_events_of_slow = 0;     // the slow node declared dead
  std::uint64_t slow_node_suspicions = 0;  // raised by the slow node's own failed probes
  std::uint64_t suspicions_of_slow = 0;    // raised by the others' probes of it
  int max_score = 0;
};

// Node 4 of 5 handles every message and timer 2-3 s late (a starved CPU) for five minutes.
SlowRun run_with_slow_node(bool lifeguard, std::uint64_t seed) {
  SwimConfig config;
  config.lifeguard = lifeguard;
  SimNetwork sim(seed, config);
  sim.add_cluster(5);
  EXPECT_TRUE(sim.run_until([&] { return sim.all_alive(range(0, 5)); }, 10s));
  sim.set_slow(4, 2s, 3s);
  SlowRun run;
  for (int step = 0; step < 30; ++step) {
    sim.run_for(10s);
    run.max_score = std::max(run.max_score, sim.node(4).health_score());
  }
  for (const auto& e : sim.events()) {
    if (e.kind != MemberEventKind::kDead) continue;
    ++run.dead_events;
    if (e.member == sim.id(4)) ++run.dead_events_of_slow;
  }
  run.slow_node_suspicions = sim.node(4).counters().suspicions_raised;
  for (std::size_t i = 0; i < 4; ++i) {
    run.suspicions_of_slow += sim.node(i).counters().suspicions_raised;
  }
  return run;
}

// What Lifeguard buys against a starved member. Its acks come seconds late, so the others
// suspect it at almost every probe; it must refute each time before a suspicion times out.
// And it misreads its own probes (acks handled after their timeouts), so without local health
// awareness it keeps accusing healthy members.
TEST(SwimFailure, SlowNodeIsNotDeclaredDeadWithLifeguardAndAccusesLessThanWithout) {
  SlowRun with, without;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const SlowRun on = run_with_slow_node(true, seed);
    const SlowRun off = run_with_slow_node(false, seed);
    EXPECT_EQ(on.dead_events, 0u) << "seed " << seed;
    EXPECT_GT(on.max_score, 0) << "seed " << seed << ": local health never noticed";
    with.dead_events += on.dead_events;
    with.slow_node_suspicions += on.slow_node_suspicions;
    with.suspicions_of_slow += on.suspicions_of_slow;
    without.dead_events += off.dead_events;
    without.dead_events_of_slow += off.dead_events_of_slow;
    without.slow_node_suspicions += off.slow_node_suspicions;
    without.suspicions_of_slow += off.suspicions_of_slow;
  }
  std::printf(
      "[sim] slow node (2-3 s lag), 8 runs x 300 s: lifeguard on: %zu DEAD events, "
      "the slow node raised %llu false suspicions, was suspected %llu times; "
      "lifeguard off: %zu DEAD events (%zu of them of the slow node), %llu false "
      "suspicions raised by the slow node\n",
      with.dead_events, static_cast<unsigned long long>(with.slow_node_suspicions),
      static_cast<unsigned long long>(with.suspicions_of_slow), without.dead_events,
      without.dead_events_of_slow, static_cast<unsigned long long>(without.slow_node_suspicions));
  EXPECT_GT(without.dead_events, 0u);
  EXPECT_GT(without.slow_node_suspicions, 5 * with.slow_node_suspicions + 5);
}

}  // namespace
}  // namespace troupe::test
