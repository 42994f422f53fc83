// SimNetwork: a deterministic, simulated cluster for Membership tests. N Membership instances
// share one ManualClock; an event queue advances virtual time to the next event (a message
// delivery or a node's tick at its next_deadline()). Messages take a configurable latency plus
// jitter, may be lost per link, are dropped across partitions and to crashed nodes; a "slow"
// node handles its messages and its ticks late by a random lag (a starved CPU). Every random
// choice comes from one seeded PRNG, so a run replays exactly.
// Single-threaded; the Membership instances live as long as the SimNetwork.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "troupe/base/clock.h"
#include "troupe/cluster/membership.h"

namespace troupe::test {

using Duration = Clock::Duration;

struct ObservedEvent {
  Clock::TimePoint at;
  std::size_t observer;
  MemberEventKind kind;
  NodeId member;
  std::uint64_t incarnation;
};

class SimNetwork {
 public:
  explicit SimNetwork(std::uint64_t seed, SwimConfig config = {});
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // A deterministic identity (key bytes from the index) and address "10.0.<i>.1:7400".
  static Member make_record(std::size_t index, std::uint64_t incarnation = 1);

  // Adds node `size()`, not yet joined (its ticks run from now on).
  std::size_t add_node(std::uint64_t incarnation = 1);
  void join(std::size_t node, const std::vector<std::size_t>& seeds);
  // Adds `count` nodes; all but the first join through node 0.
  void add_cluster(std::size_t count);

  Membership& node(std::size_t i);
  NodeId id(std::size_t i) const;
  const Member& record(std::size_t i) const;
  std::size_t size() const { return nodes_.size(); }

  // Faults.
  void crash(std::size_t i);
  // A new Membership instance for node i (same key and address), joined through `seeds`.
  void restart(std::size_t i, std::uint64_t incarnation, const std::vector<std::size_t>& seeds);
  void set_slow(std::size_t i, Duration min_lag, Duration max_lag);
  void set_loss(double probability) { loss_ = probability; }
  void partition(const std::vector<std::vector<std::size_t>>& groups);
  void heal();
  // The admission predicate every node applies (default: admit all).
  void set_admission(std::function<bool(std::size_t observer, const Member&)> admit) {
    admit_ = std::move(admit);
  }
  void set_latency(Duration base, Duration jitter) {
    latency_ = base;
    jitter_ = jitter;
  }

  // Time.
  Clock::TimePoint now() const { return clock_.now(); }
  ManualClock& clock() { return clock_; }
  void run_for(Duration d);
  // Runs until pred() holds (checked every `step`), at most `limit`; the virtual time it took.
  std::optional<Duration> run_until(const std::function<bool()>& pred, Duration limit,
                                    Duration step = std::chrono::milliseconds(50));

  // Observations.
  const std::vector<ObservedEvent>& events() const { return events_; }
  std::size_t count_events(std::size_t observer, MemberEventKind kind, NodeId member) const;
  // Whether `observer` holds `target` in `state` (self counts as alive).
  bool sees(std::size_t observer, std::size_t target, MemberState state);
  // Whether every member of `group` sees every member of `group` alive.
  bool all_alive(const std::vector<std::size_t>& group);
  std::uint64_t messages_delivered() const { return delivered_; }
  std::uint64_t messages_dropped() const { return dropped_; }
  // Messages node `from` handed to its transport for node `to` (delivered or not).
  std::uint64_t messages_sent(std::size_t from, std::size_t to) const;

 private:
  struct Node;
  class Transport;
  struct Event {
    Clock::TimePoint at;
    std::uint64_t order;
    bool tick;
    std::size_t to;
    NodeId from;
    std::uint64_t generation;  // ticks: only the latest scheduled one runs
    Bytes bytes;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };

  void make_membership(std::size_t i, std::uint64_t incarnation);
  void route(std::size_t from, const Member& to, Bytes bytes);
  void reschedule(std::size_t i);
  void handle(Event event);
  Duration lag(std::size_t i);
  Duration uniform(Duration lo, Duration hi);
  void push(Event event);

  SwimConfig config_;
  ManualClock clock_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t next_order_ = 0;
  std::function<bool(std::size_t, const Member&)> admit_;
  Duration latency_ = std::chrono::milliseconds(2);
  Duration jitter_ = std::chrono::milliseconds(3);
  double loss_ = 0.0;
  std::vector<int> group_;  // partition group per node; empty = no partition
  std::vector<ObservedEvent> events_;
  std::uint64_t delivered_ = 0, dropped_ = 0;
  std::map<std::pair<std::size_t, std::size_t>, std::uint64_t> sent_;
};

// Helpers the scenario tests share.
inline double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline std::vector<std::size_t> range(std::size_t from, std::size_t to) {
  std::vector<std::size_t> out;
  for (std::size_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

}  // namespace troupe::test
