// A guest's `discover` (docs/WASM.md): the live actor it finds for a type, within its grants.
// A signed type (manufacturer:name:version, from a package) first, then a native kind
// (manufacturer "troupe", the kind's name; never the node's own supervisors), this node's
// actors before the cluster's (remote_reach.h). A type outside the guest's call grants is
// permission-denied whether or not an actor of it lives, so discovery tells a guest nothing its
// grants do not let it call.
// Thread-safe (ActorSystem::find_by_type and the RemoteDirectory are); called on a guest's fiber.
#pragma once

#include "troupe/base/result.h"
#include "troupe/runtime/actor_ref.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::wasm {

// The actor `discover(type)` finds: permission-denied outside `grants`, not-found if none lives.
Result<ActorRef> discover_actor(ActorSystem& system, const GuestGrants& grants,
                                const workload::ActrType& type);

}  // namespace troupe::wasm
