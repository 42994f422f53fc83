// RemoteDirectory: what this node's runtime knows of other nodes' actors, for code that must
// not depend on the cluster layer (WebAssembly guests' call, tell, call-raw and discover): the
// actors the cluster registry holds, a local stand-in (a foreign cell: ActorSystem::find(id)
// finds it afterwards) for one of them, and the realm numbers guests name other nodes by.
// The cluster implements it (RemoteActors::directory()); the node installs it on its
// ActorSystem (set_remote_directory) when the mesh is on. Without one, nothing of another
// node is reachable from a guest.
//
// Threading: every function may be called from any thread and never blocks on the network.
// Lifetime: shared; it may outlive what it reads (the cluster), and then finds nothing and
// makes no stand-in (unavailable).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/runtime/actor_ref.h"
#include "troupe/runtime/realm_table.h"

namespace troupe {

// The type a stand-in is given when whoever made it did not know the remote actor's type: no
// pattern names it, so only a guest that may reach every actor reaches it.
inline constexpr std::string_view kUnknownRemoteType = "remote";

// An actor of another node, as the cluster registry announces it.
struct RemoteActorEntry {
  std::string name;
  ActorId id;
  std::string type_name;  // its runtime type on its node ("m:n:v", or a native kind)
};

class RemoteDirectory {
 public:
  virtual ~RemoteDirectory() = default;

  // Every actor of another node the registry holds, one per name (a name two nodes claim is
  // the lower node id's), in no particular order.
  virtual std::vector<RemoteActorEntry> registered() const = 0;
  // The actor of another node registered as `name`, if any (this node's own names are the
  // caller's to look up first: they win).
  virtual std::optional<RemoteActorEntry> lookup(const std::string& name) const = 0;
  // The registered actor `id` (under any name), if the registry holds it. Scans in place: no
  // copy of the registry per call.
  virtual std::optional<RemoteActorEntry> registered_id(ActorId id) const = 0;
  // Of the registered actors whose type `matches` (called under the directory's lock: it must
  // be pure and short), the one with the lowest id (node, then serial).
  virtual std::optional<RemoteActorEntry> first_registered(
      const std::function<bool(std::string_view type)>& matches) const = 0;
  // The local stand-in for actor `id` of another node, typed `type_name`: the one that exists,
  // or a new one (dead already, noconnection, when its node is not connected).
  // Errors: invalid-argument (an id of this node), unavailable (the cluster is stopping).
  virtual Result<ActorRef> stand_in(ActorId id, const std::string& type_name) = 0;

  RealmTable& realms() { return realms_; }

 private:
  RealmTable realms_;
};

}  // namespace troupe
