// check_toml_key_depth: refuses TOML text whose dotted keys or table headers have more parts
// than any troupe file needs, before the text reaches toml++. toml++ 3.3 (Debian's) recurses
// once per key part while parsing and again while freeing the tables, and caps only inline
// array/table nesting: a 600 KB manifest with one 300,000-part key overflowed the stack. A pure
// scan of the text (strings and comments skipped); thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe {

// The most parts a key may have ("troupe.capabilities.storage" has 3).
inline constexpr std::size_t kMaxTomlKeyParts = 16;

// Errors: invalid-argument naming the line of the first key over the limit.
Result<void> check_toml_key_depth(std::string_view text);

}  // namespace troupe
