// PlatformConfig: the node's platform policy, the [platform] table of its TOML config — whether
// unsigned modules may run (a development setting, off by default) and the largest storage
// quota any actor is granted, whatever its manifest asks. The platform layer owns these keys:
// unknown keys and wrong types are errors naming "ORIGIN: platform.KEY". Plain value; pure
// parsing; thread-safe.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>

#include "troupe/base/result.h"

namespace troupe::platform {

struct PlatformConfig {
  // `spawn --wasm` (no package, no signature) runs only when this is true.
  bool allow_unsigned = false;
  // The cap on any actor's storage quota; 0 is invalid (never "unlimited").
  std::uint64_t max_storage_quota_bytes = std::uint64_t{64} << 20;

  static constexpr std::uint64_t kMaxStorageQuotaBytes = std::uint64_t{1} << 40;  // 1 TiB
};

Result<void> parse_platform_table(const toml::table& table, const std::string& origin,
                                  PlatformConfig& config);

}  // namespace troupe::platform
