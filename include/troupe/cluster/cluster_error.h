// ClusterErrc: the codes the cluster layer (SWIM membership, the gossiped registry, remote
// actors) produces. They travel as ErrorCode (base/error_code.h) beside the shared BaseErrc
// codes. Never rename one: the names are what logs and the CLI print. Plain values, thread-safe.
#pragma once

#include <string_view>

#include "troupe/base/error_code.h"

namespace troupe {

enum class ClusterErrc {
  kMalformed,      // a membership or registry message that breaks its format
  kNoConnection,   // the node the actor lives on is dead, left or unreachable
  kUnknownMember,  // no member with that id
};

std::string_view errc_name(ClusterErrc code);
inline constexpr ErrorDomain kClusterErrorDomain = make_error_domain<ClusterErrc>("cluster");
constexpr const ErrorDomain& error_domain(ClusterErrc) { return kClusterErrorDomain; }

}  // namespace troupe
