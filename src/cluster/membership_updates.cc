// Membership: the state transitions. Incarnation numbers order what is said of a member: a
// claim about an older incarnation is stale; at the same incarnation suspect overrides alive
// and dead/left override both; only the member itself raises its incarnation (to refute, to
// leave, or on restart), so only it can make itself alive again.
#include <algorithm>

#include "troupe/cluster/membership.h"

namespace troupe {
namespace {

bool live(MemberState state) {
  return state == MemberState::kAlive || state == MemberState::kSuspect;
}

}  // namespace

void Membership::apply_update(const MemberUpdate& update, Clock::TimePoint now) {
  switch (update.member.state) {
    case MemberState::kAlive:
      apply_alive(update.member, now);
      return;
    case MemberState::kSuspect:
      apply_suspect(update.member, update.from, now);
      return;
    case MemberState::kDead:
      apply_dead(update.member, update.from, /*left=*/false, now);
      return;
    case MemberState::kLeft:
      apply_dead(update.member, update.from, /*left=*/true, now);
      return;
  }
}

void Membership::apply_alive(const Member& record, Clock::TimePoint now) {
  if (record.id == self_.id) {
    if (left_) return;
    if (record.identity != self_.identity) {
      ++counters_.identity_conflicts;
      return;
    }
    // Someone speaks of a newer us (a previous run's leftovers) or of us elsewhere: restate.
    if (record.incarnation > self_.incarnation ||
        (record.incarnation == self_.incarnation && record.address != self_.address)) {
      refute(record.incarnation);
    }
    return;
  }
  auto it = members_.find(record.id);
  if (it == members_.end()) {
    Member m = record;
    m.state = MemberState::kAlive;
    m.state_changed = now;
    if (!admit_(m)) {
      ++counters_.refused_admission;
      return;
    }
    if (!make_room()) {
      ++counters_.refused_capacity;
      return;
    }
    members_.emplace(m.id, Entry{m, std::nullopt, 0});
    failed_.erase(m.id);
    add_to_probe_order(m.id);
    emit(MemberEventKind::kJoined, m);
    gossip_.enqueue(MemberUpdate{m, m.id});
    return;
  }
  Entry& entry = it->second;
  if (record.identity != entry.member.identity) {
    ++counters_.identity_conflicts;
    return;
  }
  if (record.incarnation <= entry.member.incarnation) return;
  if (record.address != entry.member.address) {
    Member moved = entry.member;
    moved.address = record.address;
    if (!admit_(moved)) {
      ++counters_.refused_admission;
      return;
    }
  }
  const MemberState before = entry.member.state;
  entry.member.incarnation = record.incarnation;
  entry.member.address = record.address;
  entry.suspicion.reset();
  MemberEventKind kind = MemberEventKind::kUpdated;
  if (before != MemberState::kAlive) {
    entry.member.state = MemberState::kAlive;
    entry.member.state_changed = now;
    kind =
        before == MemberState::kSuspect ? MemberEventKind::kAliveAgain : MemberEventKind::kJoined;
  }
  if (!live(before)) {
    failed_.erase(record.id);
    add_to_probe_order(record.id);
  }
  emit(kind, entry.member);
  gossip_.enqueue(MemberUpdate{entry.member, record.id});
}

void Membership::apply_suspect(const Member& record, NodeId accuser, Clock::TimePoint now) {
  if (record.id == self_.id) {
    accused(record.incarnation);
    return;
  }
  auto it = members_.find(record.id);
  if (it == members_.end()) return;  // we hold no record to suspect
  Entry& entry = it->second;
  if (record.incarnation < entry.member.incarnation || !live(entry.member.state)) return;
  if (entry.member.state == MemberState::kSuspect &&
      record.incarnation == entry.member.incarnation) {
    // Another member confirms: the timeout shrinks, and the news is worth passing on.
    if (entry.suspicion && accuser != record.id && entry.suspicion->confirm(accuser)) {
      ++counters_.suspicion_confirmations;
      gossip_.enqueue(MemberUpdate{entry.member, accuser});
    }
    return;
  }
  const bool was_alive = entry.member.state == MemberState::kAlive;
  entry.member.incarnation = record.incarnation;
  entry.member.state = MemberState::kSuspect;
  if (was_alive) entry.member.state_changed = now;
  const SuspicionBounds bounds = suspicion_bounds();
  entry.suspicion.emplace(accuser, bounds.expected, bounds.min, bounds.max, now);
  entry.suspected_by = accuser;
  if (was_alive) emit(MemberEventKind::kSuspect, entry.member);
  gossip_.enqueue(MemberUpdate{entry.member, accuser});
}

void Membership::apply_dead(const Member& record, NodeId from, bool left, Clock::TimePoint now) {
  if (record.id == self_.id) {
    accused(record.incarnation);
    return;
  }
  auto it = members_.find(record.id);
  if (it == members_.end()) return;
  Entry& entry = it->second;
  // Dead and left are final for an incarnation: reported once, then absorbed until the member
  // itself comes back with a higher incarnation.
  if (record.incarnation < entry.member.incarnation || !live(entry.member.state)) return;
  entry.member.incarnation = record.incarnation;
  entry.member.state = left ? MemberState::kLeft : MemberState::kDead;
  entry.member.state_changed = now;
  entry.suspicion.reset();
  emit(left ? MemberEventKind::kLeft : MemberEventKind::kDead, entry.member);
  gossip_.enqueue(MemberUpdate{entry.member, from});
  if (left) {
    failed_.erase(record.id);
  } else {
    remember_failed(entry.member, now);
  }
}

// A peer's whole table. Its "dead" is not trusted as dead (it may be stale, or the peer on
// the wrong side of a partition): memberlist's rule, it becomes a suspicion with the peer as
// accuser, which the member can still refute — and if the member is us, we refute now.
void Membership::merge_state(NodeId from, const std::vector<Member>& members,
                             Clock::TimePoint now) {
  for (const Member& m : members) {
    switch (m.state) {
      case MemberState::kAlive:
        apply_alive(m, now);
        break;
      case MemberState::kLeft:
        apply_dead(m, m.id, /*left=*/true, now);
        break;
      case MemberState::kSuspect:
      case MemberState::kDead:
        apply_suspect(m, from, now);
        break;
    }
  }
}

// Suspect, dead or left said of us. At our incarnation or above we refute; below it the
// speaker missed our last refutation (its retransmissions are spent), so our current record
// goes back into the queue — it rides on the reply to a buddy ping, among others.
void Membership::accused(std::uint64_t incarnation) {
  if (left_) return;
  if (incarnation >= self_.incarnation) {
    refute(incarnation);
  } else {
    gossip_.enqueue(MemberUpdate{self_, self_.id});
  }
}

void Membership::refute(std::uint64_t accused_incarnation) {
  // Saturates: a peer that claims the last incarnation leaves us nothing to refute with (only
  // a peer the allowlist admitted can say it, and it could as well declare us dead).
  const std::uint64_t base = std::max(self_.incarnation, accused_incarnation);
  self_.incarnation = base < kMaxIncarnation ? base + 1 : kMaxIncarnation;
  ++counters_.refutations;
  // Being suspected is itself a sign we may be the slow one (Lifeguard).
  if (config_.lifeguard) health_.apply(1);
  gossip_.enqueue(MemberUpdate{self_, self_.id});
  refuted_ = true;
}

void Membership::expire_suspicions(Clock::TimePoint now) {
  std::vector<Member> expired;
  for (const auto& [id, entry] : members_) {
    if (entry.suspicion && now >= entry.suspicion->deadline()) expired.push_back(entry.member);
  }
  for (const Member& m : expired) {
    ++counters_.deaths_declared;
    apply_dead(m, self_.id, /*left=*/false, now);
  }
}

// The table holds at most max_members - 1 others. When it is full a dead or left record (the
// longest gone) makes room early; live members are never pushed out by newcomers.
bool Membership::make_room() {
  if (members_.size() + 1 < config_.max_members) return true;
  auto oldest = members_.end();
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (live(it->second.member.state)) continue;
    if (oldest == members_.end() ||
        it->second.member.state_changed < oldest->second.member.state_changed) {
      oldest = it;
    }
  }
  if (oldest == members_.end()) return false;
  gossip_.erase(oldest->first);
  ++counters_.reaped;
  members_.erase(oldest);
  return true;
}

Membership::SuspicionBounds Membership::suspicion_bounds() const {
  const std::size_t n = live_count();
  const auto min = suspicion_min_timeout(config_.suspicion_mult, n, config_.probe_interval);
  if (!config_.lifeguard) return SuspicionBounds{min, min, 0};
  return SuspicionBounds{min, min * config_.suspicion_max_timeout_mult,
                         expected_suspicion_confirmations(config_.suspicion_mult, n)};
}

void Membership::remember_failed(const Member& member, Clock::TimePoint now) {
  if (failed_.size() >= config_.max_members && failed_.find(member.id) == failed_.end()) {
    auto oldest = std::min_element(
        failed_.begin(), failed_.end(),
        [](const auto& a, const auto& b) { return a.second.since < b.second.since; });
    failed_.erase(oldest);
  }
  failed_[member.id] = Failed{member, now};
}

}  // namespace troupe
