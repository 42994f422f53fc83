// RealmTable: the short numbers ("realms") by which this node's WebAssembly guests name other
// nodes. A guest's actr-id is {realm: u32, serial: u64, type}; realm 0 is this node, and every
// other node gets the next number (1, 2, ...) the first time a guest is shown one of its
// actors. A number is never reused or reassigned while the table lives (the node's run), so an
// id a guest kept stays the same actor's; a node that left and came back keeps its number.
// Past kMaxRealms nodes the table gives out no more (kNoRealm, which names no node).
//
// Threading: every function may be called from any thread (a mutex guards the table).
// Lifetime: held by the RemoteDirectory the node installs on its ActorSystem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "troupe/base/ids.h"

namespace troupe {

class RealmTable {
 public:
  // Names no node: what a guest is shown for an actor of a node past the cap.
  static constexpr std::uint32_t kNoRealm = UINT32_MAX;
  static constexpr std::size_t kMaxRealms = 65536;

  // `node`'s realm, given it now when it has none; kNoRealm past the cap or for node 0.
  std::uint32_t realm_of(NodeId node);
  // The node `realm` was given to; nullopt for 0 (this node: not in the table) and unknown ones.
  std::optional<NodeId> node_of(std::uint32_t realm) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<NodeId, std::uint32_t> realms_;
  std::vector<NodeId> nodes_;  // realm r is nodes_[r - 1]
};

}  // namespace troupe
