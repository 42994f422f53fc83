// EnrolledGuestIdentity: a WebAssembly actor's troupe:host/identity (wasm::GuestIdentity)
// served from the node's ActorIdentities: the credential the identity service issued this
// actor when it was enrolled, as renewed since. The guest names nothing; the actor id is the
// one the node enrolled.
// Threading and lifetime: those of wasm::GuestIdentity (one actor incarnation's, its activation
// only); the ActorIdentities must outlive it (the node owns both).
#pragma once

#include <string>

#include "troupe/base/ids.h"
#include "troupe/platform/actor_identities.h"
#include "troupe/wasm/guest_services.h"

namespace troupe {

class EnrolledGuestIdentity final : public wasm::GuestIdentity {
 public:
  EnrolledGuestIdentity(const ActorIdentities& identities, ActorId actor)
      : identities_(identities), actor_(actor) {}

  wasm::HostResult<std::string> credential() override;

 private:
  const ActorIdentities& identities_;
  ActorId actor_;
};

}  // namespace troupe
