// The one rule config tables use for an integer key: exactly a TOML integer (not a bool, a
// float or a string taken for one) in min..max, else "WHAT must be an integer in MIN..MAX".
// Header-only (its users already parse TOML); a pure function, thread-safe.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>

#include "troupe/base/error.h"
#include "troupe/base/result.h"

namespace troupe {

inline Result<std::int64_t> toml_integer_in(const toml::node& value, const std::string& what,
                                            std::int64_t min, std::int64_t max) {
  auto n = value.value_exact<std::int64_t>();
  if (!n || *n < min || *n > max) {
    return Error{BaseErrc::kInvalidArgument, what + " must be an integer in " +
                                                 std::to_string(min) + ".." + std::to_string(max)};
  }
  return *n;
}

}  // namespace troupe
