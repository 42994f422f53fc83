// RuntimeErrc: the codes only the actor runtime produces (delivery, asks, handlers). They travel
// as ErrorCode (base/error_code.h) beside the shared BaseErrc codes. Plain values, thread-safe.
#pragma once

#include <string_view>

#include "troupe/base/error_code.h"

namespace troupe {

enum class RuntimeErrc {
  kDead,          // the target actor has terminated
  kHandlerError,  // the handler failed (threw or returned an error)
  kCallCycle,     // the request would wait on an actor that is already waiting on it
  kMailboxFull,   // a bounded mailbox refused the message (policy: fail)
  kBadReply,      // the reply had a different type than the asker expected
};

std::string_view errc_name(RuntimeErrc code);
inline constexpr ErrorDomain kRuntimeErrorDomain = make_error_domain<RuntimeErrc>("runtime");
constexpr const ErrorDomain& error_domain(RuntimeErrc) { return kRuntimeErrorDomain; }

}  // namespace troupe
