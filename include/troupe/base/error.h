// Error: a code of some layer's closed error enum plus a human-readable detail, the error half
// of every Result. BaseErrc holds the codes every layer shares; a layer's own codes live in its
// enum (RuntimeErrc, WasmErrc, NodeErrc) and travel as the same ErrorCode (error_code.h).
// Values are plain data: copyable, thread-safe to pass around.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "troupe/base/error_code.h"

namespace troupe {

enum class BaseErrc {
  kInvalidArgument,  // malformed input from a caller
  kNotFound,         // no such actor, name, kind or file
  kTimedOut,         // a deadline passed before the reply arrived
  kUnavailable,      // the system is shutting down or the service is not running
  kRefused,          // input outside policy: a guest module or a file the node will not trust
  kIo,               // an operating-system call failed
  kTooLarge,         // an input (file, frame, payload) is over its documented size cap
  kInternal,         // a bug: an invariant did not hold
};

std::string_view errc_name(BaseErrc code);
inline constexpr ErrorDomain kBaseErrorDomain = make_error_domain<BaseErrc>("base");
constexpr const ErrorDomain& error_domain(BaseErrc) { return kBaseErrorDomain; }

// The code's kebab-case name, whatever its layer.
inline std::string_view errc_name(ErrorCode code) { return code.name(); }

struct Error {
  ErrorCode code;
  std::string detail;

  Error(ErrorCode c, std::string d = {})  // NOLINT: implicit on purpose
      : code(c), detail(std::move(d)) {}
  template <ErrorEnum E>
  Error(E c, std::string d = {})  // NOLINT: implicit on purpose
      : code(c), detail(std::move(d)) {}
  std::string to_string() const;
  friend bool operator==(const Error& a, const Error& b) { return a.code == b.code; }
};

}  // namespace troupe
