// The [control] table of a node's TOML config, read into ControlServer::Options: the control
// socket owns its keys. Keys: max_connections (1..4096), idle_timeout_ms (1..3600000).
// `troupe node run` flags override them. Unknown keys and wrong types are errors naming
// "ORIGIN: control.KEY". Pure function; thread-safe.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "troupe/base/result.h"
#include "troupe/node/control_server.h"

namespace troupe {

Result<void> parse_control_table(const toml::table& table, const std::string& origin,
                                 ControlServer::Options& options);

}  // namespace troupe
