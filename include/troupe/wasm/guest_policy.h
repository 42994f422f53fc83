// GuestPolicy: what a node lets its WebAssembly guests have. Every per-guest limit of Limits
// that a spawn may choose has a default (what a guest gets when it does not ask) and a maximum
// (the most a spawn may ask for). "unlimited" is a word, never 0, and a guest only gets it
// where the node allows it (allow_unlimited). Beside them: the per-call host-bytes cap, the
// node-wide caps (GuestCaps) and the bounds on a guest's log output (OutputLimits).
// The descriptors (LimitInfo) name each choosable limit once — [wasm] config key, spawn request
// field and CLI flag — with its valid range, so that the three parse it alike.
// Plain values and pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "troupe/base/result.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/output_limiter.h"

namespace troupe::wasm {

enum class LimitKey { kFuel, kTimeoutMs, kMemoryPages, kTableElements, kCallDepth, kReplyBytes };
inline constexpr std::size_t kLimitKeys = 6;

struct LimitInfo {
  LimitKey key;
  const char* name;  // [wasm] key and spawn field: "fuel", "timeout_ms", ...
  const char* flag;  // CLI flag: "--fuel", "--timeout-ms", ...
  std::uint64_t min, max;
  bool may_be_unlimited;
};
const std::array<LimitInfo, kLimitKeys>& limit_infos();
const LimitInfo& limit_info(LimitKey key);
// "an integer in 1..65536 or \"unlimited\"": what a value of `info` must be.
std::string limit_expectation(const LimitInfo& info);

// One limit's value: a number in its range, or unlimited.
struct LimitValue {
  bool unlimited = false;
  std::uint64_t number = 0;
  std::string to_string() const;
  friend bool operator==(const LimitValue&, const LimitValue&) = default;
};

// The word, or a decimal number in range (as typed on a command line). Anything else —
// negative, 0, out of range, overflowing 64 bits, trailing junk — is kInvalidArgument naming
// `what` and the expectation.
Result<LimitValue> parse_limit(const LimitInfo& info, std::string_view text, std::string_view what);
// A number (from a config file or a request): in range, else kInvalidArgument.
Result<LimitValue> limit_number(const LimitInfo& info, std::uint64_t n, std::string_view what);

// The value `limits` holds for `key`, and setting it.
LimitValue get_limit(const Limits& limits, LimitKey key);
void set_limit(Limits& limits, LimitKey key, LimitValue value);

// What one spawn asks for, per LimitKey; absent: the node's default.
using LimitRequest = std::array<std::optional<LimitValue>, kLimitKeys>;

// The maxima a node applies unless its config says otherwise (docs/WASM.md).
Limits default_maxima();

struct GuestPolicy {
  Limits defaults;                   // also carries host_call_bytes, which spawns cannot change
  Limits maxima = default_maxima();  // only the LimitKey fields count
  bool allow_unlimited = false;
  GuestCaps caps;
  OutputLimits output;  // per actor

  // The limits of a guest that asks for `request`: the defaults, each replaced by what was
  // asked. kInvalidArgument for a value past the maximum, or "unlimited" when the node does not
  // allow it; either way the message says which and what the node allows.
  Result<Limits> limits_for(const LimitRequest& request) const;
};

}  // namespace troupe::wasm
