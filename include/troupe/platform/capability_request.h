// CapabilityRequest: what a package asks for in its manifest's [troupe.capabilities] table —
// signing, identity, storage (with a byte quota), clock, random, streams, and the actor types or
// names it may call. Asking grants nothing: the node grants within its own policy. Unknown keys
// and wrong types are errors naming "troupe.capabilities.KEY". Plain value; thread-safe.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::platform {

inline constexpr std::size_t kMaxCallPatterns = 256;

struct CapabilityRequest {
  bool signing = false;
  bool identity = false;
  bool clock = false;
  bool random = false;
  bool streams = false;
  std::optional<std::uint64_t> storage_quota_bytes;  // storage = { quota_bytes = N }
  // "manufacturer:name:version" with '*' allowed as a whole component, or an actor name.
  std::vector<std::string> call;

  friend bool operator==(const CapabilityRequest&, const CapabilityRequest&) = default;
};

// kMalformed, naming the key.
Result<CapabilityRequest> parse_capability_request(const toml::table& table);
// The table's body as TOML lines ("signing = true\n..."), in a fixed order.
std::string capability_request_toml(const CapabilityRequest& request);

}  // namespace troupe::platform
