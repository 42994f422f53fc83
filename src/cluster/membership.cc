// Membership: construction, the public calls, outgoing messages with their piggybacked
// gossip, and the periodic rounds other than probing (gossip, push-pull, reconnect, reaping).
#include "troupe/cluster/membership.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "troupe/base/error.h"
#include "troupe/cluster/cluster_error.h"

namespace troupe {
namespace {

// A uniformly drawn offset in [0, d): spreads the members' rounds apart.
Clock::Duration stagger(std::mt19937_64& rng, Clock::Duration d) {
  if (d.count() <= 1) return Clock::Duration::zero();
  std::uniform_int_distribution<Clock::Duration::rep> pick(0, d.count() - 1);
  return Clock::Duration(pick(rng));
}

// The next time of a periodic round that was due at `at`: one interval on, or one interval
// from now when the caller ran so late that rounds were missed (they are skipped, not
// bunched).
Clock::TimePoint next_round(Clock::TimePoint at, Clock::Duration interval, Clock::TimePoint now) {
  at += interval;
  return at <= now ? now + interval : at;
}

}  // namespace

std::string_view member_event_name(MemberEventKind kind) {
  switch (kind) {
    case MemberEventKind::kJoined:
      return "joined";
    case MemberEventKind::kSuspect:
      return "suspect";
    case MemberEventKind::kAliveAgain:
      return "alive-again";
    case MemberEventKind::kDead:
      return "dead";
    case MemberEventKind::kLeft:
      return "left";
    case MemberEventKind::kUpdated:
      return "updated";
  }
  return "unknown";
}

Result<std::unique_ptr<Membership>> Membership::create(const SwimConfig& config, Member self,
                                                       MembershipTransport& transport,
                                                       const Clock& clock, std::uint64_t seed,
                                                       Admission admit, EventHandler on_event) {
  if (auto ok = check_swim_config(config); !ok.ok()) return ok.error();
  if (auto ok = check_member(self); !ok.ok()) return ok.error();
  if (!admit) return Error{BaseErrc::kInvalidArgument, "membership needs an admission predicate"};
  return std::unique_ptr<Membership>(new Membership(config, std::move(self), transport, clock, seed,
                                                    std::move(admit), std::move(on_event)));
}

Membership::Membership(const SwimConfig& config, Member self, MembershipTransport& transport,
                       const Clock& clock, std::uint64_t seed, Admission admit,
                       EventHandler on_event)
    : config_(config),
      limits_(membership_codec_limits(config)),
      self_(std::move(self)),
      transport_(transport),
      clock_(clock),
      rng_(seed),
      admit_(std::move(admit)),
      on_event_(std::move(on_event)),
      health_(config.awareness_max_multiplier) {
  const auto now = clock_.now();
  self_.state = MemberState::kAlive;
  self_.state_changed = now;
  next_probe_at_ = now + stagger(rng_, config_.probe_interval);
  next_gossip_at_ = now + stagger(rng_, config_.gossip_interval);
  next_push_pull_at_ = now + config_.push_pull_interval + stagger(rng_, config_.push_pull_interval);
  next_reconnect_at_ = now + stagger(rng_, config_.reconnect_interval);
  // Our own alive record rides on our first messages, so a member that has not heard of us
  // yet learns who we are before it reads the ping it must answer.
  gossip_.enqueue(MemberUpdate{self_, self_.id});
}

Result<void> Membership::join(const std::vector<Member>& seeds) {
  if (left_) return Error{BaseErrc::kUnavailable, "this member has left the cluster"};
  for (const auto& seed : seeds) {
    if (auto ok = check_member(seed); !ok.ok()) return ok.error();
    if (seed.id != self_.id && !admit_(seed)) {
      return Error{BaseErrc::kRefused, "join seed " + seed.address + " is not admitted"};
    }
  }
  for (const auto& seed : seeds) {
    if (seed.id == self_.id) continue;
    auto known = std::find_if(seeds_.begin(), seeds_.end(),
                              [&](const Member& m) { return m.id == seed.id; });
    if (known != seeds_.end()) {
      *known = seed;
    } else if (seeds_.size() < config_.max_members) {
      seeds_.push_back(seed);
    }
    ++counters_.push_pulls_sent;
    send_message(seed, PushPull{false, state_snapshot()});
  }
  flush_events();
  return {};
}

Result<void> Membership::on_message(NodeId from, BytesView bytes) {
  ++counters_.messages_received;
  auto decoded = decode_membership_message(bytes, limits_);
  if (!decoded.ok()) {
    ++counters_.malformed;
    return decoded.error();
  }
  if (from == self_.id) {
    ++counters_.misdirected;
    return {};
  }
  const auto now = clock_.now();
  MembershipMessage& message = *decoded;
  for (const auto& update : message.updates) apply_update(update, now);
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Ping>) handle_ping(from, body, now);
        if constexpr (std::is_same_v<T, PingRequest>) handle_ping_request(from, body, now);
        if constexpr (std::is_same_v<T, Ack>) handle_ack(from, body);
        if constexpr (std::is_same_v<T, Nack>) handle_nack(from, body);
        if constexpr (std::is_same_v<T, PushPull>) handle_push_pull(from, std::move(body), now);
      },
      message.body);
  // A refutation races the suspicion timeouts running at every other member: it goes out now
  // rather than at the next gossip round (a starved node's next round may be seconds away).
  if (refuted_) {
    refuted_ = false;
    gossip_round(now);
  }
  flush_events();
  return {};
}

void Membership::tick() {
  const auto now = clock_.now();
  expire_suspicions(now);
  if (!left_) probe_round(now);
  relay_round(now);
  if (now >= next_gossip_at_) {
    gossip_round(now);
    reap(now);
    next_gossip_at_ = next_round(next_gossip_at_, config_.gossip_interval, now);
  }
  if (!left_ && now >= next_push_pull_at_) {
    push_pull_round();
    next_push_pull_at_ = next_round(next_push_pull_at_, push_pull_interval(), now);
  }
  if (!left_ && now >= next_reconnect_at_) {
    reconnect_round(now);
    next_reconnect_at_ = next_round(next_reconnect_at_, config_.reconnect_interval, now);
  }
  flush_events();
}

Clock::TimePoint Membership::next_deadline() const {
  Clock::TimePoint next = next_gossip_at_;
  if (!left_) {
    if (probe_) {
      next = std::min(next, probe_->indirect_sent ? probe_->ends_at : probe_->indirect_at);
    } else {
      next = std::min(next, next_probe_at_);
    }
    next = std::min({next, next_push_pull_at_, next_reconnect_at_});
  }
  for (const auto& [seq, relay] : relays_) {
    next = std::min(next, relay.nacked ? relay.expires_at : relay.nack_at);
  }
  for (const auto& [id, entry] : members_) {
    if (entry.suspicion) next = std::min(next, entry.suspicion->deadline());
  }
  return next;
}

void Membership::leave() {
  if (left_) return;
  const auto now = clock_.now();
  left_ = true;
  probe_.reset();
  if (self_.incarnation < kMaxIncarnation) self_.incarnation += 1;
  self_.state = MemberState::kLeft;
  self_.state_changed = now;
  const MemberUpdate update{self_, self_.id};
  gossip_.enqueue(update);
  // Told directly to every live member as well: a member that misses it would otherwise probe
  // us, fail, and report us dead rather than left.
  const Bytes message = encode_membership_message(MembershipMessage{Gossip{}, {update}});
  for (const auto& [id, entry] : members_) {
    const auto state = entry.member.state;
    if (state != MemberState::kAlive && state != MemberState::kSuspect) continue;
    ++counters_.messages_sent;
    transport_.send(entry.member, message);
  }
  flush_events();
}

void Membership::on_peer_unreachable(NodeId id) {
  ++counters_.unreachable_hints;
  if (left_) return;
  auto it = members_.find(id);
  if (it == members_.end()) return;
  const auto state = it->second.member.state;
  if (state != MemberState::kAlive && state != MemberState::kSuspect) return;
  if (probe_ && probe_->target == id) return;
  const auto rest = probe_order_.begin() + static_cast<std::ptrdiff_t>(probe_next_);
  if (auto queued = std::find(rest, probe_order_.end(), id); queued != probe_order_.end()) {
    probe_order_.erase(queued);
  }
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(probe_next_), id);
}

std::vector<Member> Membership::members() const {
  std::vector<Member> out;
  out.reserve(members_.size() + 1);
  out.push_back(self_);
  for (const auto& [id, entry] : members_) out.push_back(entry.member);
  return out;
}

std::optional<Member> Membership::member(NodeId id) const {
  if (id == self_.id) return self_;
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second.member;
}

std::optional<Clock::TimePoint> Membership::suspicion_deadline(NodeId id) const {
  auto it = members_.find(id);
  if (it == members_.end() || !it->second.suspicion) return std::nullopt;
  return it->second.suspicion->deadline();
}

// --- outgoing messages ---

void Membership::send_message(const Member& to, MessageBody body, bool only_with_updates) {
  MembershipMessage message{std::move(body), {}};
  const bool push_pull = std::holds_alternative<PushPull>(message.body);
  const std::size_t cap = push_pull ? limits_.max_push_pull_bytes : limits_.max_message_bytes;
  const std::size_t base = encoded_body_size(message.body);
  if (base <= cap) {
    message.updates = gossip_.take(cap - base, limits_.max_updates, retransmit_limit());
  }
  if (only_with_updates && message.updates.empty()) return;
  ++counters_.messages_sent;
  transport_.send(to, encode_membership_message(message));
}

void Membership::gossip_round(Clock::TimePoint now) {
  if (gossip_.empty()) return;
  const auto targets =
      random_entries(static_cast<std::size_t>(config_.gossip_nodes), [&](const Entry& e) {
        switch (e.member.state) {
          case MemberState::kAlive:
          case MemberState::kSuspect:
            return true;
          case MemberState::kDead:  // so a member we wrongly hold dead learns it and refutes
            return now - e.member.state_changed < config_.gossip_to_the_dead_time;
          case MemberState::kLeft:
            return false;
        }
        return false;
      });
  for (const Entry* target : targets) {
    if (gossip_.empty()) break;
    send_message(target->member, Gossip{}, /*only_with_updates=*/true);
  }
}

void Membership::push_pull_round() {
  const auto peers =
      random_entries(1, [](const Entry& e) { return e.member.state == MemberState::kAlive; });
  if (peers.empty()) return;
  ++counters_.push_pulls_sent;
  send_message(peers.front()->member, PushPull{false, state_snapshot()});
}

// Serf's reconnect loop, reduced to its core: after a partition both sides hold each other
// dead and no message crosses any more; a push-pull with a dead member's last address lets
// both learn the other's view (and refute what they find said of themselves).
void Membership::reconnect_round(Clock::TimePoint now) {
  for (auto it = failed_.begin(); it != failed_.end();) {
    it = now - it->second.since >= config_.reconnect_timeout ? failed_.erase(it) : std::next(it);
  }
  std::vector<const Member*> candidates;
  for (const auto& [id, failed] : failed_) candidates.push_back(&failed.member);
  if (live_count() == 1) {
    for (const auto& seed : seeds_) candidates.push_back(&seed);
  }
  if (candidates.empty()) return;
  std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
  const Member target = *candidates[pick(rng_)];
  ++counters_.reconnects;
  ++counters_.push_pulls_sent;
  send_message(target, PushPull{false, state_snapshot()});
}

void Membership::reap(Clock::TimePoint now) {
  for (auto it = members_.begin(); it != members_.end();) {
    const Member& m = it->second.member;
    const bool gone = m.state == MemberState::kDead || m.state == MemberState::kLeft;
    if (gone && now - m.state_changed >= config_.gossip_to_the_dead_time) {
      gossip_.erase(m.id);
      ++counters_.reaped;
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
}

void Membership::handle_push_pull(NodeId from, PushPull&& state, Clock::TimePoint now) {
  ++counters_.push_pulls_received;
  if (!left_) merge_state(from, state.members, now);
  if (state.reply) return;
  const Member* peer = contact(from);
  if (peer == nullptr) {
    ++counters_.unknown_sender;
    return;
  }
  send_message(*peer, PushPull{true, state_snapshot()});
}

std::vector<Member> Membership::state_snapshot() const { return members(); }

const Member* Membership::contact(NodeId id) const {
  if (auto it = members_.find(id); it != members_.end()) return &it->second.member;
  if (auto it = failed_.find(id); it != failed_.end()) return &it->second.member;
  for (const auto& seed : seeds_) {
    if (seed.id == id) return &seed;
  }
  return nullptr;
}

std::vector<const Membership::Entry*> Membership::random_entries(
    std::size_t count, const std::function<bool(const Entry&)>& pick) {
  std::vector<const Entry*> candidates;
  for (const auto& [id, entry] : members_) {
    if (pick(entry)) candidates.push_back(&entry);
  }
  // A partial Fisher-Yates shuffle: the first `count` are a uniform sample.
  const std::size_t n = std::min(count, candidates.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<std::size_t> j(i, candidates.size() - 1);
    std::swap(candidates[i], candidates[j(rng_)]);
  }
  candidates.resize(n);
  return candidates;
}

std::size_t Membership::live_count() const {
  std::size_t n = 1;
  for (const auto& [id, entry] : members_) {
    const auto state = entry.member.state;
    if (state == MemberState::kAlive || state == MemberState::kSuspect) ++n;
  }
  return n;
}

int Membership::retransmit_limit() const {
  const double n = static_cast<double>(members_.size() + 1);
  return config_.retransmit_mult * static_cast<int>(std::ceil(std::log10(n + 1.0)));
}

// memberlist's scaling: above 32 members the full-state exchange slows down with log2(n), so
// its total bandwidth grows far slower than the cluster.
Clock::Duration Membership::push_pull_interval() const {
  constexpr double kThreshold = 32;
  const double n = static_cast<double>(live_count());
  if (n <= kThreshold) return config_.push_pull_interval;
  const int mult = static_cast<int>(std::ceil(std::log2(n) - std::log2(kThreshold))) + 1;
  return config_.push_pull_interval * mult;
}

void Membership::emit(MemberEventKind kind, const Member& member) {
  pending_events_.push_back(MemberEvent{kind, member});
}

void Membership::flush_events() {
  if (pending_events_.empty()) return;
  std::vector<MemberEvent> events;
  events.swap(pending_events_);
  if (!on_event_) return;
  for (const auto& event : events) on_event_(event);
}

}  // namespace troupe
