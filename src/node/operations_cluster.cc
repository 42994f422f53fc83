// Operations on the mesh (operations.h): `troupe cluster members` and `troupe cluster allow`.
#include "troupe/base/error.h"
#include "troupe/node/operations.h"

namespace troupe {

namespace {

Error no_mesh() {
  return Error{BaseErrc::kUnavailable,
               "this node takes no part in a mesh (start it with --listen or --join, or [mesh])"};
}

}  // namespace

Result<std::vector<Member>> Operations::cluster_members() const {
  if (!cluster_) return no_mesh();
  return cluster_->members();
}

std::vector<RemoteActors::RemoteName> Operations::cluster_names() const {
  if (!cluster_ || !cluster_->remote()) return {};
  return cluster_->remote()->names();
}

std::optional<Operations::RemoteTarget> Operations::resolve_remote(
    const std::string& name_or_id) const {
  if (!cluster_ || !cluster_->remote()) return std::nullopt;
  if (auto id = ActorId::parse(name_or_id)) {
    if (id->node == system_.node_id() || !id->valid()) return std::nullopt;
    return RemoteTarget{id->node, id->serial};
  }
  if (auto named = cluster_->remote()->lookup(name_or_id)) {
    return RemoteTarget{named->id.node, named->id.serial};
  }
  return std::nullopt;
}

Result<bool> Operations::cluster_allow(const std::string& key_text) {
  if (!cluster_) return no_mesh();
  auto key = net::parse_node_key(key_text);
  if (!key.ok()) return key.error();
  return cluster_->allow(*key);
}

Result<Cluster::Disallowed> Operations::cluster_disallow(const std::string& key_text) {
  if (!cluster_) return no_mesh();
  auto key = net::parse_node_key(key_text);
  if (!key.ok()) return key.error();
  return cluster_->disallow(*key);
}

}  // namespace troupe
