// Membership: the failure detector. One probe per (health-scaled) probe interval, targets in
// a shuffled round-robin order re-shuffled every round; a direct ping, then after the probe
// timeout ping requests through indirect_checks random alive members, then suspicion when the
// interval ends without an ack. Local health moves with every verdict (Lifeguard).
#include <algorithm>

#include "troupe/cluster/membership.h"

namespace troupe {

Clock::Duration Membership::scaled(Clock::Duration d) const {
  return config_.lifeguard ? health_.scale(d) : d;
}

void Membership::probe_round(Clock::TimePoint now) {
  if (probe_) {
    if (!probe_->indirect_sent && now >= probe_->indirect_at) send_indirect_probes();
    // The deadlines are absolute: a node that runs late finds them passed and fails its probe
    // at once — what a starved node does, and what its local health score then corrects.
    if (probe_ && now >= probe_->ends_at) fail_probe(now);
  }
  if (!probe_ && now >= next_probe_at_) start_probe(now);
}

void Membership::start_probe(Clock::TimePoint now) {
  Entry* target = next_probe_target();
  next_probe_at_ = now + scaled(config_.probe_interval);
  if (target == nullptr) return;
  Probe probe;
  probe.target = target->member.id;
  probe.incarnation = target->member.incarnation;
  probe.seq = next_seq_++;
  probe.indirect_at = now + scaled(config_.probe_timeout);
  probe.ends_at = next_probe_at_;
  Ping ping{probe.seq, probe.target, buddy_suspicion(*target)};
  if (ping.suspicion) ++counters_.buddy_pings;
  ++counters_.probes;
  probe_ = std::move(probe);
  send_message(target->member, std::move(ping));
}

void Membership::send_indirect_probes() {
  probe_->indirect_sent = true;
  auto it = members_.find(probe_->target);
  if (it == members_.end()) {  // reaped meanwhile: nothing to judge
    probe_.reset();
    return;
  }
  const Member& target = it->second.member;
  const auto relays =
      random_entries(static_cast<std::size_t>(config_.indirect_checks), [&](const Entry& e) {
        return e.member.id != target.id && e.member.state == MemberState::kAlive;
      });
  for (const Entry* relay : relays) {
    probe_->relays.push_back(relay->member.id);
    ++counters_.indirect_requests;
    send_message(relay->member, PingRequest{probe_->seq, target});
  }
}

void Membership::fail_probe(Clock::TimePoint now) {
  const Probe probe = std::move(*probe_);
  probe_.reset();
  ++counters_.probe_failures;
  if (config_.lifeguard) {
    // With relays that answer nacks we can tell "the target is gone" (nacks came back) from
    // "we are the problem" (they did not): only the missing nacks count against us.
    const auto expected = static_cast<int>(probe.relays.size());
    const auto missing = expected - static_cast<int>(probe.nacked.size());
    health_.apply(expected == 0 ? 1 : missing);
  }
  auto it = members_.find(probe.target);
  if (it == members_.end()) return;
  const auto state = it->second.member.state;
  if (state != MemberState::kAlive && state != MemberState::kSuspect) return;
  ++counters_.suspicions_raised;
  Member record = it->second.member;
  record.incarnation = probe.incarnation;
  apply_suspect(record, self_.id, now);
}

void Membership::relay_round(Clock::TimePoint now) {
  for (auto it = relays_.begin(); it != relays_.end();) {
    Relay& relay = it->second;
    if (!relay.nacked && now >= relay.nack_at) {
      relay.nacked = true;
      const Member* requester = contact(relay.requester);
      if (config_.lifeguard && requester != nullptr) {
        ++counters_.nacks_sent;
        send_message(*requester, Nack{relay.requester_seq});
      }
    }
    it = now >= relay.expires_at ? relays_.erase(it) : std::next(it);
  }
}

void Membership::handle_ping(NodeId from, const Ping& ping, Clock::TimePoint now) {
  if (ping.target != self_.id) {
    ++counters_.misdirected;
    return;
  }
  if (ping.suspicion) {
    Member accused = self_;
    accused.incarnation = ping.suspicion->incarnation;
    apply_suspect(accused, ping.suspicion->from, now);  // refutes at once if it still holds
  }
  const Member* peer = contact(from);
  if (peer == nullptr) {
    ++counters_.unknown_sender;
    return;
  }
  send_message(*peer, Ack{ping.seq});
}

void Membership::handle_ping_request(NodeId from, const PingRequest& request,
                                     Clock::TimePoint now) {
  if (request.target.id == self_.id || request.target.id == from) {
    ++counters_.misdirected;
    return;
  }
  if (contact(from) == nullptr) {
    ++counters_.unknown_sender;
    return;
  }
  // Ping the member as we know it, at the address we hold: never one we do not know, nor an
  // address a requester names (a relay must not make this node dial where a peer chooses).
  auto it = members_.find(request.target.id);
  if (it == members_.end() || (it->second.member.state != MemberState::kAlive &&
                               it->second.member.state != MemberState::kSuspect)) {
    ++counters_.relays_refused;
    return;
  }
  const Member target = it->second.member;
  const std::optional<BuddySuspicion> buddy = buddy_suspicion(it->second);
  if (relays_.size() >= config_.max_pending_relays) {
    ++counters_.relays_refused;
    return;
  }
  // The requester waits probe_interval - probe_timeout (at least) after asking us: our nack
  // must land inside that window to count, so it leaves at 80% of it.
  const auto window = config_.probe_interval - config_.probe_timeout;
  const std::uint32_t seq = next_seq_++;
  relays_[seq] = Relay{
      from, request.seq, target.id, now + window * 4 / 5, now + config_.probe_interval, false};
  ++counters_.relays;
  if (buddy) ++counters_.buddy_pings;
  send_message(target, Ping{seq, target.id, buddy});
}

void Membership::handle_ack(NodeId from, const Ack& ack) {
  if (probe_ && ack.seq == probe_->seq &&
      (from == probe_->target ||
       std::find(probe_->relays.begin(), probe_->relays.end(), from) != probe_->relays.end())) {
    const NodeId target = probe_->target;
    probe_.reset();
    if (config_.lifeguard) health_.apply(-1);
    // Only a relay got through: the direct path is lossy, or the target does not know us yet
    // (a member it has no record of gets no ack: it cannot address one). Our own record, sent
    // to it alone, settles the second case for good.
    if (from != target) {
      if (auto it = members_.find(target); it != members_.end()) {
        ++counters_.messages_sent;
        transport_.send(it->second.member, encode_membership_message(MembershipMessage{
                                               Gossip{}, {MemberUpdate{self_, self_.id}}}));
      }
    }
    return;
  }
  if (auto it = relays_.find(ack.seq); it != relays_.end() && it->second.target == from) {
    const Relay relay = it->second;
    relays_.erase(it);
    if (const Member* requester = contact(relay.requester)) {
      send_message(*requester, Ack{relay.requester_seq});
    }
    return;
  }
  ++counters_.stale_acks;
}

void Membership::handle_nack(NodeId from, const Nack& nack) {
  if (!probe_ || nack.seq != probe_->seq ||
      std::find(probe_->relays.begin(), probe_->relays.end(), from) == probe_->relays.end() ||
      std::find(probe_->nacked.begin(), probe_->nacked.end(), from) != probe_->nacked.end()) {
    ++counters_.stale_acks;
    return;
  }
  ++counters_.nacks_received;
  probe_->nacked.push_back(from);
}

std::optional<BuddySuspicion> Membership::buddy_suspicion(const Entry& entry) const {
  if (!config_.lifeguard || entry.member.state != MemberState::kSuspect) return std::nullopt;
  return BuddySuspicion{entry.member.incarnation, entry.suspected_by};
}

void Membership::add_to_probe_order(NodeId id) {
  // Once per round at most, however often it flaps: the order stays within twice the table.
  const auto rest = probe_order_.begin() + static_cast<std::ptrdiff_t>(probe_next_);
  if (std::find(rest, probe_order_.end(), id) != probe_order_.end()) return;
  // At a random place among the members not yet probed this round, as if it had been there
  // when the round was shuffled.
  std::uniform_int_distribution<std::size_t> pick(probe_next_, probe_order_.size());
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(pick(rng_)), id);
}

Membership::Entry* Membership::next_probe_target() {
  for (int pass = 0; pass < 2; ++pass) {
    while (probe_next_ < probe_order_.size()) {
      auto it = members_.find(probe_order_[probe_next_++]);
      if (it == members_.end()) continue;
      const auto state = it->second.member.state;
      if (state == MemberState::kAlive || state == MemberState::kSuspect) return &it->second;
    }
    // End of a round: a fresh shuffled order of the members probed from now on.
    probe_order_.clear();
    probe_next_ = 0;
    for (const auto& [id, entry] : members_) {
      const auto state = entry.member.state;
      if (state == MemberState::kAlive || state == MemberState::kSuspect) {
        probe_order_.push_back(id);
      }
    }
    std::shuffle(probe_order_.begin(), probe_order_.end(), rng_);
  }
  return nullptr;
}

}  // namespace troupe
