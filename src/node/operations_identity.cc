// Operations on packaged actors' identities and custodial keys (operations.h): the renewal
// loop's events, `troupe identity` and `troupe keys`.
#include <spdlog/spdlog.h>

#include <map>
#include <utility>

#include "troupe/node/actor_name.h"
#include "troupe/node/operations.h"
#include "troupe/wasm/wasm_actor.h"
#include "troupe/wasm/workload_values.h"

namespace troupe {

namespace {

// The credential-event a hook gets: the credential's expiry.
wasm::WasmEvent credential_hook(const char* hook, std::int64_t expires_at) {
  const auto seconds = static_cast<std::uint64_t>(std::max<std::int64_t>(expires_at, 0));
  return wasm::WasmEvent{hook, {wasm::AbiValue::of_items({wasm::workload::timestamp(seconds, 0)})}};
}

}  // namespace

void Operations::on_identity_event(const IdentityEvent& e) {
  const std::string actor = e.actor.to_string();
  switch (e.kind) {
    case IdentityEvent::Kind::kRenewed:
    case IdentityEvent::Kind::kExpiring: {
      const bool renewed = e.kind == IdentityEvent::Kind::kRenewed;
      if (!renewed) {
        spdlog::warn("actor {}: credential expiring at {} and not renewed: {}", actor, e.expires_at,
                     e.reason);
      }
      ActorRef ref = system_.find(e.actor);
      if (!ref) return;
      // Never blocks this thread: a full mailbox drops the hook (the actor reads its current
      // credential through troupe:host/identity whenever it likes).
      auto hook = credential_hook(renewed ? "on-credential-renewed" : "on-credential-expiring",
                                  e.expires_at);
      if (system_.try_tell(ref, std::move(hook)) != Delivery::kQueued) {
        spdlog::warn("actor {}: {} not delivered (mailbox full or actor gone)", actor,
                     renewed ? "on-credential-renewed" : "on-credential-expiring");
      }
      return;
    }
    case IdentityEvent::Kind::kRefused: {
      const std::size_t stopped =
          stop_packaged([&](const PackagedActor& a) { return a.id == e.actor; }, e.reason);
      if (stopped > 0) spdlog::warn("actor {}: {}; stopped", actor, e.reason);
      return;
    }
    case IdentityEvent::Kind::kExpired:
      spdlog::error("actor {}: credential expired at {} and could not be renewed: {}", actor,
                    e.expires_at, e.reason);
      return;
  }
}

Result<ActorId> Operations::enrolled_actor(const std::string& actor) const {
  if (auto ok = check_actor_name(actor, "actor name"); !ok.ok()) return ok.error();
  auto p = platform();
  if (!p.ok()) return p.error();
  ActorRef ref = system_.resolve(actor);
  if (!ref || !ref.alive()) return Error{BaseErrc::kNotFound, "no actor '" + actor + "'"};
  if (!(*p)->identities().find(ref.id())) {
    return Error{
        BaseErrc::kNotFound,
        "actor '" + actor + "' holds no credential (only actors spawned from a package do)"};
  }
  return ref.id();
}

Result<std::string> Operations::identity_jwks() const {
  auto p = platform();
  if (!p.ok()) return p.error();
  return (*p)->identity().jwks();
}

Result<EnrolledIdentity> Operations::identity_of(const std::string& actor) const {
  auto id = enrolled_actor(actor);
  if (!id.ok()) return id.error();
  auto found = platform_->identities().find(*id);
  if (!found) return Error{BaseErrc::kNotFound, "actor '" + actor + "' stopped meanwhile"};
  return std::move(*found);
}

Result<std::vector<CustodialKeyEntry>> Operations::custodial_keys() const {
  auto p = platform();
  if (!p.ok()) return p.error();
  auto listed = (*p)->keys().list();
  if (!listed.ok()) return listed.error();
  std::map<std::string, ActorId> holders;
  for (const EnrolledIdentity& i : (*p)->identities().all()) {
    holders.emplace(i.enrollment.key_name, i.enrollment.actor);
  }
  std::vector<CustodialKeyEntry> out;
  out.reserve(listed->size());
  for (KeyInfo& k : *listed) {
    CustodialKeyEntry e;
    if (auto it = holders.find(k.name); it != holders.end()) e.actor = it->second;
    e.key = std::move(k);
    out.push_back(std::move(e));
  }
  return out;
}

Result<KeyInfo> Operations::rotate_key(const std::string& actor) {
  auto id = enrolled_actor(actor);
  if (!id.ok()) return id.error();
  ActorIdentities& identities = platform_->identities();
  auto fresh = identities.rotate_key(*id);
  if (!fresh.ok()) return fresh.error();
  on_identity_event({IdentityEvent::Kind::kRenewed, *id, fresh->claims.expires_at, {}});
  auto found = identities.find(*id);
  if (!found) return Error{BaseErrc::kNotFound, "actor '" + actor + "' stopped meanwhile"};
  return platform_->keys().info(found->enrollment.key_name);
}

}  // namespace troupe
