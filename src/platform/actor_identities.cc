#include "troupe/platform/actor_identities.h"

#include <limits>
#include <utility>

#include "troupe/platform/credential_renewal.h"
#include "troupe/platform/platform_error.h"

namespace troupe {

ActorIdentities::ActorIdentities(const IdentityService& service, KeyCustody& keys,
                                 UnixClock clock, StillTrusted still_trusted)
    : service_(service), keys_(keys), clock_(clock), still_trusted_(std::move(still_trusted)) {}

CredentialRequest ActorIdentities::request_of(const Enrollment& e) const {
  return CredentialRequest{e.actor, e.actor_type, e.package_hash, e.key_name};
}

Result<Credential> ActorIdentities::enroll(const Enrollment& enrollment) {
  // A package revoked since it was verified gets no credential, not even one for its first
  // moments: a guest could pass it on before the node stops it.
  if (!still_trusted_(enrollment.signing_key_id, enrollment.package_hash)) {
    return Error{PlatformErrc::kRevoked,
                 "the package or its signing key " + enrollment.signing_key_id + " was revoked"};
  }
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(enrollment.actor); it != entries_.end()) {
      return it->second.credential;
    }
  }
  if (auto key = keys_.get_or_create(enrollment.key_name); !key.ok()) return key.error();
  auto credential = service_.issue(request_of(enrollment));
  if (!credential.ok()) return credential.error();
  std::lock_guard lock(mutex_);
  // Two incarnations of one actor never start at once, but keep the first if they did.
  auto [it, inserted] = entries_.try_emplace(enrollment.actor, Entry{enrollment, *credential});
  return it->second.credential;
}

Result<Credential> ActorIdentities::credential(ActorId actor) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(actor);
  if (it == entries_.end()) {
    return Error{BaseErrc::kNotFound, "actor " + actor.to_string() + " holds no credential"};
  }
  if (clock_.now() >= it->second.credential.claims.expires_at) {
    return Error{BaseErrc::kUnavailable,
                 "the credential of actor " + actor.to_string() + " expired and was not renewed"};
  }
  return it->second.credential;
}

std::optional<EnrolledIdentity> ActorIdentities::find(ActorId actor) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(actor);
  if (it == entries_.end()) return std::nullopt;
  return EnrolledIdentity{it->second.enrollment, it->second.credential};
}

std::vector<EnrolledIdentity> ActorIdentities::all() const {
  std::lock_guard lock(mutex_);
  std::vector<EnrolledIdentity> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back({e.enrollment, e.credential});
  return out;
}

std::int64_t ActorIdentities::next_check() const {
  const std::int64_t now = clock_.now();
  std::lock_guard lock(mutex_);
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  for (const auto& [id, e] : entries_) {
    const RenewalPlan plan = when_to_renew(e.credential.claims, now);
    // An expired credential already reported waits for nothing but a renewal attempt, which
    // the next pass makes anyway: no busy loop on it.
    if (plan.action == RenewalAction::kExpired && e.told_expired) continue;
    next = std::min(next, plan.action == RenewalAction::kWait ? plan.next_check : now);
  }
  return next;
}

std::vector<IdentityEvent> ActorIdentities::renew_due() {
  const std::int64_t now = clock_.now();
  struct Due {
    Enrollment enrollment;
    RenewalAction action;
    std::string token_id;  // the credential this pass replaces
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : entries_) {
      const RenewalPlan plan = when_to_renew(e.credential.claims, now);
      // A credential issued now would expire no later than this one (whole seconds, a short
      // lifetime): renewing it would change nothing but tell the guest again.
      if (now + service_.ttl_seconds() <= e.credential.claims.expires_at) continue;
      if (plan.action != RenewalAction::kWait) {
        due.push_back({e.enrollment, plan.action, e.credential.claims.token_id});
      }
    }
  }
  std::vector<IdentityEvent> events;
  for (Due& d : due) {
    const ActorId actor = d.enrollment.actor;
    if (!still_trusted_(d.enrollment.signing_key_id, d.enrollment.package_hash)) {
      // Only for an actor still enrolled: a revocation forgets the actors it stops, and
      // reporting those again would only be noise.
      std::lock_guard lock(mutex_);
      if (entries_.contains(actor)) {
        events.push_back({IdentityEvent::Kind::kRefused, actor, 0,
                          "credential renewal refused: the package or its signing key " +
                              d.enrollment.signing_key_id + " was revoked"});
      }
      continue;
    }
    auto fresh = service_.issue(request_of(d.enrollment));
    std::lock_guard lock(mutex_);
    auto it = entries_.find(actor);
    // Forgotten, or rotated meanwhile (which issued a newer credential): nothing to do.
    if (it == entries_.end() || it->second.credential.claims.token_id != d.token_id) continue;
    Entry& e = it->second;
    if (fresh.ok()) {
      e.credential = std::move(fresh).value();
      e.told_expiring = e.told_expired = false;
      events.push_back(
          {IdentityEvent::Kind::kRenewed, actor, e.credential.claims.expires_at, std::string()});
    } else if (d.action == RenewalAction::kExpired && !e.told_expired) {
      e.told_expired = true;
      events.push_back({IdentityEvent::Kind::kExpired, actor, e.credential.claims.expires_at,
                        fresh.error().to_string()});
    } else if (d.action == RenewalAction::kExpiring && !e.told_expiring) {
      e.told_expiring = true;
      events.push_back({IdentityEvent::Kind::kExpiring, actor, e.credential.claims.expires_at,
                        fresh.error().to_string()});
    }
  }
  return events;
}

Result<Credential> ActorIdentities::rotate_key(ActorId actor) {
  // One rotation at a time: two interleaved could store the credential bound to the key the
  // other one just retired.
  std::lock_guard rotating(rotate_mutex_);
  auto entry = find(actor);
  if (!entry) {
    return Error{BaseErrc::kNotFound, "actor " + actor.to_string() + " holds no credential"};
  }
  if (auto rotated = keys_.rotate(entry->enrollment.key_name); !rotated.ok()) {
    return rotated.error();
  }
  auto fresh = service_.issue(request_of(entry->enrollment));
  if (!fresh.ok()) return fresh.error();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(actor);
  if (it == entries_.end()) {
    return Error{BaseErrc::kNotFound, "actor " + actor.to_string() + " stopped meanwhile"};
  }
  it->second.credential = *fresh;
  it->second.told_expiring = it->second.told_expired = false;
  return fresh;
}

void ActorIdentities::forget(ActorId actor) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(actor);
  if (it == entries_.end()) return;
  if (it->second.enrollment.ephemeral_key) {
    keys_to_remove_.push_back(std::move(it->second.enrollment.key_name));
  }
  entries_.erase(it);
}

void ActorIdentities::remove_forgotten_keys() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    names.swap(keys_to_remove_);
  }
  for (const std::string& name : names) (void)keys_.remove(name);
}

std::vector<ActorId> ActorIdentities::actors() const {
  std::lock_guard lock(mutex_);
  std::vector<ActorId> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(id);
  return out;
}

std::size_t ActorIdentities::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace troupe
