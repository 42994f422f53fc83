// NodeErrc: the codes only the node's control plane produces (the control socket's framing and
// its client). They travel as ErrorCode (base/error_code.h) beside the shared BaseErrc codes.
// Plain values, thread-safe.
#pragma once

#include <string_view>

#include "troupe/base/error_code.h"

namespace troupe {

enum class NodeErrc {
  kProtocol,  // a malformed or unexpected control frame
};

std::string_view errc_name(NodeErrc code);
inline constexpr ErrorDomain kNodeErrorDomain = make_error_domain<NodeErrc>("node");
constexpr const ErrorDomain& error_domain(NodeErrc) { return kNodeErrorDomain; }

}  // namespace troupe
