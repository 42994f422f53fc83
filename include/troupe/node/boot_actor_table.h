// The [[actor]] entries of a node's TOML config (the `actor` key, an array of tables), read
// into BootActors (boot_actor.h): keys package or kind, name, the limit keys of [wasm] (fuel,
// timeout_ms, ...) and tier for a package, restart. Unknown keys, wrong types and bad values are
// errors naming the entry, "ORIGIN: actor[N] (NAME): KEY ...". Pure function; thread-safe.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/node/boot_actor.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe {

// Reads the config's `actor` key, an array of tables (`[[actor]]`). A relative `package` path
// is resolved against `base_dir` (the config file's directory) when that is not empty. Limits
// are checked against `policy` (the node's [wasm] maxima and allow_unlimited) so that a value
// no spawn would accept fails the load, not the start; so do two entries with one name and
// more than kMaxBootActors entries. Errors are invalid-argument, one line:
// "ORIGIN: actor[N] (NAME): KEY must be ...", "ORIGIN: actor[N]: unknown key KEY", ...
Result<std::vector<BootActor>> parse_boot_actors(const toml::node& actors,
                                                 const std::string& origin,
                                                 const std::string& base_dir,
                                                 const wasm::GuestPolicy& policy);

}  // namespace troupe
