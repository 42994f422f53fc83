// Guests and actors of other nodes (docs/WASM.md, "Across nodes"): how a guest's id with a realm
// resolves to a stand-in, which actor of another node `discover` finds, and the stand-in a
// caller of another node gets. All go through the ActorSystem's RemoteDirectory (none: nothing
// of another node is reachable). Grants are decided on the type the remote node announced or,
// for a live stand-in, the one it was made with — never on the type inside the guest's id.
// Thread-safe (the directory is); called on a guest's fiber.
#pragma once

#include <string>

#include "troupe/base/result.h"
#include "troupe/runtime/actor_ref.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::wasm {

// The actor of another node `id` (realm != 0) names, if `grants` let `self` reach it. Unknown
// realms and actors answer as unreachable ones do: permission-denied, or not-found with call_any.
Result<ActorRef> resolve_remote_actor(ActorSystem& system, const GuestGrants& grants, ActorId self,
                                      const workload::ActrId& id);

// A caller of another node: its stand-in, typed as its envelope says (its own node's word: a
// node clears a caller of a third node), or none.
ActorRef remote_caller_stand_in(ActorSystem& system, ActorId caller,
                                const std::string& caller_type);

// The actor of another node that discover finds for `type` (may_discover allowed it): of those
// the registry holds with that type, the lowest id's stand-in; none if there is none.
ActorRef discover_remote_actor(ActorSystem& system, const workload::ActrType& type);

}  // namespace troupe::wasm
