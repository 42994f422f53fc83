// The [runtime] table of a node's TOML config, read into a SystemConfig: the actor runtime
// owns its keys. Keys: max_call_depth (an integer in 1..1000000, or "unlimited"). Unknown keys
// and wrong types are errors naming "ORIGIN: runtime.KEY". Pure function; thread-safe.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "troupe/base/result.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {

Result<void> parse_runtime_table(const toml::table& table, const std::string& origin,
                                 SystemConfig& config);

}  // namespace troupe
