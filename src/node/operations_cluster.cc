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

Result<bool> Operations::cluster_allow(const std::string& key_text) {
  if (!cluster_) return no_mesh();
  auto key = net::parse_node_key(key_text);
  if (!key.ok()) return key.error();
  return cluster_->allow(*key);
}

}  // namespace troupe
