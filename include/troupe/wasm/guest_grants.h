// GuestGrants: what one WebAssembly actor may do beyond computing on its own messages — read
// the clock, draw randomness, use data streams, and reach other actors — granted by whoever
// spawns it (the node grants a package what its manifest asks within the node's policy; an
// unsigned module gets nothing). Deny by default: a default-constructed GuestGrants grants
// nothing, so a guest reaches only itself.
//
// - clock, random: the guest may import troupe:host/clock (random) and WASI clock_time_get
//   (random_get). A guest importing one it was not granted is refused at start
//   (missing_capability), naming the capability; it never runs.
// - streams: register-stream, unregister-stream and send-data-stream; otherwise they answer
//   permission-denied.
// - call: the actors call, tell, call-raw and discover may reach. Each pattern is an actor
//   type "manufacturer:name:version" whose components may each be "*" (a native kind `K` is
//   the type troupe:K:0.1.0, as guests see it), or an actor name (no ':'), matching the actor
//   registered under it. A native actor (a type without ':', the node's own code) is reached
//   only when its type is also in `native_kinds`, the kinds the node exposes to guests: a
//   kind that acts on names or ids it is given (a pinger, a router) would otherwise let a guest
//   reach, through it, what its grants do not name. Beyond that nothing is reached but the
//   guest itself;
//   `call_any` (tests, the `troupe call` developer tool) reaches every actor. Either way the
//   node's own actors — supervisors and untyped internal actors — are never reached, whatever
//   id a guest guesses.
// - Actors of other nodes (through the cluster: runtime/remote_directory.h) are decided the
//   same way, on their runtime type as their node announced it and on this node's grants and
//   exposed kinds; a name pattern matches the actor the name resolves to, this node's own
//   first, then the cluster registry's. A stand-in whose remote type is unknown
//   (kUnknownRemoteType) is reached only with `call_any`.
// Plain value; its functions are pure or read the actor system's registry (thread-safe).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/runtime/actor_ref.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/guest_services.h"

namespace troupe::wasm {

struct GuestGrants {
  bool clock = false;
  bool random = false;
  bool streams = false;
  bool call_any = false;
  std::vector<std::string> call;  // patterns, as above
  // The native kinds guests may reach at all (with a matching pattern); null: none.
  std::shared_ptr<const std::set<std::string, std::less<>>> native_kinds;

  // Everything (tests and the developer tool, which run the developer's own module).
  static GuestGrants all() {
    GuestGrants g;
    g.clock = g.random = g.streams = g.call_any = true;
    return g;
  }
};

// An actor type as guests see it: (manufacturer, name, version). A signed type
// "m:n:v" is itself; an unsigned module's "unsigned:<hex>" is (unsigned, <hex>, ""); a native
// kind K is (troupe, K, 0.1.0).
struct GuestVisibleType {
  std::string manufacturer, name, version;
};
GuestVisibleType guest_visible_type(std::string_view type_name);

// Whether the runtime type belongs to the node itself (supervisors, untyped helpers).
bool is_node_internal_type(std::string_view type_name);

// Whether `pattern` ("m:n:v" with "*" components) matches the type.
bool type_pattern_matches(std::string_view pattern, const GuestVisibleType& type);

// Whether a guest with `grants`, running as `self`, may reach `target`.
bool may_reach(const GuestGrants& grants, const ActorSystem& system, const ActorRef& self,
               const ActorRef& target);
// The same for the actor `target` whose runtime type is `type_name` (of this node or, when
// target.node is another, of that node), before any reference to it is made.
bool may_reach(const GuestGrants& grants, const ActorSystem& system, ActorId self, ActorId target,
               std::string_view type_name);
// Whether a guest with `grants` may discover actors of `type` (a type pattern must match it;
// a name pattern never grants discovery by type).
bool may_discover(const GuestGrants& grants, const GuestVisibleType& type);

// The capability a module's imports need that it was not given, as permission-denied:
// "the module imports troupe:host/clock (clock.now-wall) but <why> the clock capability".
// `services` tells which services are present (storage, signing, identity).
Result<void> check_granted_imports(const GuestModule& module, const GuestGrants& grants,
                                   bool storage, bool signing, bool identity, std::string_view why);

}  // namespace troupe::wasm
