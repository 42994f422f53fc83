// PlatformConfig: the node's platform policy, the [platform] table of its TOML config — whether
// unsigned modules may run (a development setting, off by default), how long credentials live,
// and what packages may be granted: the capabilities the node grants at all and the largest
// storage quota, node-wide and per signing key. A package gets what its signed manifest asks
// for, within this policy; what the policy withholds is not granted (a guest importing it is
// refused at spawn, naming the capability). The platform layer owns these keys: unknown keys and
// wrong types are errors naming "ORIGIN: platform.KEY". Plain value; pure parsing; thread-safe.
//
//   [platform]
//   allow_unsigned = false
//   max_storage_quota_bytes = 67108864
//   credential_ttl_seconds = 3600
//   grant = ["signing", "identity", "storage", "clock", "random", "streams", "call"]
//   [platform.keys."mfr-0123456789abcdef"]      # packages signed by this key
//   grant = ["storage", "call"]                  # instead of the node-wide list
//   max_storage_quota_bytes = 1048576           # at most the node-wide cap
//
// Per-key rather than per-manufacturer-name: any trusted key may sign any manufacturer string,
// so only the key says who made a package.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe::platform {

enum class Capability : unsigned {
  kSigning = 1u << 0,
  kIdentity = 1u << 1,
  kStorage = 1u << 2,
  kClock = 1u << 3,
  kRandom = 1u << 4,
  kStreams = 1u << 5,
  kCall = 1u << 6,
};
inline constexpr unsigned kAllCapabilities = (1u << 7) - 1;
// "signing", "identity", ...; nullopt for another word.
std::optional<Capability> capability_from_name(std::string_view name);
std::string_view capability_name(Capability capability);

// What packages of one signing key (or of every key) may be granted.
struct GrantPolicy {
  unsigned grant = kAllCapabilities;  // Capability bits
  std::uint64_t max_storage_quota_bytes = std::uint64_t{64} << 20;

  bool allows(Capability c) const { return (grant & static_cast<unsigned>(c)) != 0; }
};

struct PlatformConfig {
  static constexpr std::uint64_t kMaxStorageQuotaBytes = std::uint64_t{1} << 40;  // 1 TiB
  static constexpr std::int64_t kMaxCredentialTtlSeconds = std::int64_t{7} * 24 * 3600;
  // Credential times are whole seconds and renewal runs at two thirds of the lifetime, checked
  // up to a second late: a shorter lifetime would be renewed on every pass and seen expired
  // between passes.
  static constexpr std::int64_t kMinCredentialTtlSeconds = 10;
  static constexpr std::size_t kMaxKeyPolicies = 4096;

  // `spawn --wasm` (no package, no signature) runs only when this is true.
  bool allow_unsigned = false;
  // The cap on any actor's storage quota; 0 is invalid (never "unlimited").
  std::uint64_t max_storage_quota_bytes = std::uint64_t{64} << 20;
  // The lifetime of the credentials the identity service issues (10 s .. 7 days).
  std::int64_t credential_ttl_seconds = 3600;
  // What every package may be granted, unless its key has its own entry below.
  unsigned grant = kAllCapabilities;
  // By signing key id ("mfr-" + 16 hex digits).
  std::map<std::string, GrantPolicy> keys;

  // The policy for packages signed by `key_id`; quotas never above max_storage_quota_bytes.
  GrantPolicy policy_for(const std::string& key_id) const;
};

Result<void> parse_platform_table(const toml::table& table, const std::string& origin,
                                  PlatformConfig& config);

}  // namespace troupe::platform
