// Membership: troupe's cluster membership protocol — SWIM (randomized round-robin probing,
// indirect probes, suspicion, incarnation refutation, piggybacked infection-style gossip,
// push-pull state exchange) with the Lifeguard refinements (local health awareness, dynamic
// suspicion timeouts, buddy pings, nacks from indirect probers), as a pure state machine.
//
// It does no I/O, never sleeps and starts no thread: messages come in through on_message()
// with the authenticated id of the peer that sent them, go out through a MembershipTransport,
// time is read from the injected Clock, randomness comes from a PRNG seeded at construction
// (so a test replays a run exactly), and next_deadline() says when the driver must call
// tick() next. After every call the deadline may have moved (earlier, too): the driver
// re-reads it each time.
//
// Threading and lifetime: not thread-safe — every call on one thread (a strand). The transport,
// the clock, the admission predicate and the event handler must outlive the Membership; the
// transport and the handlers must not call back into it (events are delivered at the end of
// the call that caused them; a handler may read members()/member() but not mutate).
//
// Design notes: docs/PROTOCOL.md, "Membership" (wire layout and rules).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/clock.h"
#include "troupe/base/result.h"
#include "troupe/cluster/gossip_queue.h"
#include "troupe/cluster/local_health.h"
#include "troupe/cluster/member.h"
#include "troupe/cluster/member_event.h"
#include "troupe/cluster/membership_codec.h"
#include "troupe/cluster/membership_counters.h"
#include "troupe/cluster/membership_transport.h"
#include "troupe/cluster/suspicion.h"
#include "troupe/cluster/swim_config.h"

namespace troupe {

class Membership {
 public:
  // The node's allowlist: a member it refuses is never stored, listed, probed or gossiped.
  using Admission = std::function<bool(const Member&)>;
  using EventHandler = std::function<void(const MemberEvent&)>;

  // `self.incarnation` must grow across restarts of the node (e.g. boot counter << 32): a
  // restarted node then overrides what the cluster remembers of its previous run. Fails on a
  // bad config or a self record whose id is not its key's id.
  static Result<std::unique_ptr<Membership>> create(const SwimConfig& config, Member self,
                                                    MembershipTransport& transport,
                                                    const Clock& clock, std::uint64_t seed,
                                                    Admission admit, EventHandler on_event = {});

  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Pushes-pulls state with each seed (an unanswered join is retried by the reconnect loop
  // while no peer is alive). Seeds equal to self are skipped; a seed whose id is not its
  // key's (kMalformed) or that the predicate refuses (kRefused) fails the whole call.
  Result<void> join(const std::vector<Member>& seeds);

  // One message from the peer `from` (authenticated by the connection layer). A malformed
  // message is dropped, counted and its error returned; it changes nothing.
  Result<void> on_message(NodeId from, BytesView bytes);

  // Runs whatever is due: probe phases, suspicion timeouts, indirect-probe nacks, gossip,
  // push-pull, reconnects, reaping. Harmless when nothing is due.
  void tick();
  Clock::TimePoint next_deadline() const;

  // Leaves for good: tells every live member `left` at a higher incarnation, stops probing
  // and refuting; keeps gossiping (tick) so the news spreads. A node rejoins as a new
  // Membership with a higher incarnation.
  void leave();

  // The connection layer could not reach `id`: probe it next rather than in its turn.
  void on_peer_unreachable(NodeId id);

  // Self first, then every member held (alive, suspect, and dead/left until reaped) by id.
  std::vector<Member> members() const;
  std::optional<Member> member(NodeId id) const;
  const Member& self() const { return self_; }
  bool has_left() const { return left_; }
  int health_score() const { return health_.score(); }
  const MembershipCounters& counters() const { return counters_; }
  // The current suspicion's deadline of a suspect member (for tests and diagnostics).
  std::optional<Clock::TimePoint> suspicion_deadline(NodeId id) const;
  const SwimConfig& config() const { return config_; }

 private:
  struct Entry {
    Member member;
    std::optional<Suspicion> suspicion;
    NodeId suspected_by = 0;  // the accuser a buddy ping names
  };
  struct Probe {
    NodeId target = 0;
    std::uint64_t incarnation = 0;
    std::uint32_t seq = 0;
    Clock::TimePoint indirect_at, ends_at;
    bool indirect_sent = false;
    std::vector<NodeId> relays;
    std::vector<NodeId> nacked;
  };
  struct Relay {  // a ping we send on another member's behalf
    NodeId requester = 0;
    std::uint32_t requester_seq = 0;
    NodeId target = 0;
    Clock::TimePoint nack_at, expires_at;
    bool nacked = false;
  };
  struct Failed {  // a dead member we keep trying to reach (reconnect loop)
    Member member;
    Clock::TimePoint since;
  };
  struct SuspicionBounds {
    Clock::Duration min, max;
    int expected;
  };

  Membership(const SwimConfig& config, Member self, MembershipTransport& transport,
             const Clock& clock, std::uint64_t seed, Admission admit, EventHandler on_event);

  // membership.cc: messages out, periodic rounds, table helpers
  void send_message(const Member& to, MessageBody body, bool only_with_updates = false);
  void gossip_round(Clock::TimePoint now);
  void push_pull_round();
  void reconnect_round(Clock::TimePoint now);
  void reap(Clock::TimePoint now);
  void handle_push_pull(NodeId from, PushPull&& state, Clock::TimePoint now);
  std::vector<Member> state_snapshot() const;
  const Member* contact(NodeId id) const;  // a record to reply to: table, failed list, seeds
  std::vector<const Entry*> random_entries(std::size_t count,
                                           const std::function<bool(const Entry&)>& pick);
  std::size_t live_count() const;  // alive and suspect members, self included
  int retransmit_limit() const;
  Clock::Duration push_pull_interval() const;
  void emit(MemberEventKind kind, const Member& member);
  void flush_events();

  // membership_probe.cc: the failure detector
  void probe_round(Clock::TimePoint now);
  void start_probe(Clock::TimePoint now);
  void send_indirect_probes();
  void fail_probe(Clock::TimePoint now);
  void relay_round(Clock::TimePoint now);
  void handle_ping(NodeId from, const Ping& ping, Clock::TimePoint now);
  void handle_ping_request(NodeId from, const PingRequest& request, Clock::TimePoint now);
  void handle_ack(NodeId from, const Ack& ack);
  void handle_nack(NodeId from, const Nack& nack);
  std::optional<BuddySuspicion> buddy_suspicion(const Entry& entry) const;
  void add_to_probe_order(NodeId id);
  Entry* next_probe_target();
  Clock::Duration scaled(Clock::Duration d) const;

  // membership_updates.cc: state transitions
  void apply_update(const MemberUpdate& update, Clock::TimePoint now);
  void apply_alive(const Member& record, Clock::TimePoint now);
  void apply_suspect(const Member& record, NodeId accuser, Clock::TimePoint now);
  void apply_dead(const Member& record, NodeId from, bool left, Clock::TimePoint now);
  void merge_state(NodeId from, const std::vector<Member>& members, Clock::TimePoint now);
  void accused(std::uint64_t incarnation);
  void refute(std::uint64_t accused_incarnation);
  void expire_suspicions(Clock::TimePoint now);
  bool make_room();
  SuspicionBounds suspicion_bounds() const;
  void remember_failed(const Member& member, Clock::TimePoint now);

  SwimConfig config_;
  MembershipCodecLimits limits_;
  Member self_;
  MembershipTransport& transport_;
  const Clock& clock_;
  std::mt19937_64 rng_;
  Admission admit_;
  EventHandler on_event_;

  std::map<NodeId, Entry> members_;  // everyone but self
  GossipQueue gossip_;
  LocalHealth health_;

  std::vector<NodeId> probe_order_;
  std::size_t probe_next_ = 0;
  std::optional<Probe> probe_;
  std::map<std::uint32_t, Relay> relays_;  // by the seq of our ping to the target
  std::uint32_t next_seq_ = 1;

  std::map<NodeId, Failed> failed_;
  std::vector<Member> seeds_;

  Clock::TimePoint next_probe_at_, next_gossip_at_, next_push_pull_at_, next_reconnect_at_;
  bool left_ = false;
  bool refuted_ = false;  // a refutation to gossip before on_message returns
  std::vector<MemberEvent> pending_events_;
  MembershipCounters counters_;
};

}  // namespace troupe
