#include "troupe/runtime/realm_table.h"

namespace troupe {

std::uint32_t RealmTable::realm_of(NodeId node) {
  if (node == 0) return kNoRealm;
  std::lock_guard lock(mutex_);
  if (auto it = realms_.find(node); it != realms_.end()) return it->second;
  if (nodes_.size() >= kMaxRealms) return kNoRealm;
  nodes_.push_back(node);
  const auto realm = static_cast<std::uint32_t>(nodes_.size());
  realms_.emplace(node, realm);
  return realm;
}

std::optional<NodeId> RealmTable::node_of(std::uint32_t realm) const {
  std::lock_guard lock(mutex_);
  if (realm == 0 || realm > nodes_.size()) return std::nullopt;
  return nodes_[realm - 1];
}

}  // namespace troupe
