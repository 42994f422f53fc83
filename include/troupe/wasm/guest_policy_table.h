// The [wasm] table of a node's TOML config, read into a GuestPolicy: the WebAssembly layer owns
// its keys (docs/WASM.md). Each choosable limit has KEY (the default) and max_KEY; beside them
// host_call_bytes, max_guest_instances, max_guest_memory_mb, log_record_bytes,
// log_bytes_per_s and allow_unlimited. "unlimited" anywhere needs allow_unlimited = true.
// Unknown keys and wrong types are errors naming "ORIGIN: wasm.KEY". Pure; thread-safe.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "troupe/base/result.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe::wasm {

// One limit's TOML value: an integer in `info`'s range or, where `info` allows it, the word
// "unlimited" (whether the node allows unlimited is the caller's to check). Anything else —
// 0, negative, a float, a bool, another word — is kInvalidArgument "WHAT must be ...". The
// [wasm] table and the node config's [[actor]] entries read their limits with it.
Result<LimitValue> parse_limit_value(const toml::node& value, const LimitInfo& info,
                                     const std::string& what);

Result<void> parse_wasm_table(const toml::table& table, const std::string& origin,
                              GuestPolicy& policy);

}  // namespace troupe::wasm
