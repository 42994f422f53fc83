#include "troupe/platform/platform_config.h"

#include <string_view>

namespace troupe::platform {

Result<void> parse_platform_table(const toml::table& table, const std::string& origin,
                                  PlatformConfig& config) {
  auto bad = [&](std::string_view key, const std::string& want) {
    return Error{BaseErrc::kInvalidArgument,
                 origin + ": platform." + std::string(key) + " must be " + want};
  };
  for (auto&& [key, value] : table) {
    const std::string_view k = key.str();
    if (k == "allow_unsigned") {
      auto v = value.value_exact<bool>();
      if (!v) return bad(k, "true or false");
      config.allow_unsigned = *v;
    } else if (k == "max_storage_quota_bytes") {
      auto v = value.value_exact<std::int64_t>();  // not a bool or a float taken for one
      if (!v || *v < 1 || static_cast<std::uint64_t>(*v) > PlatformConfig::kMaxStorageQuotaBytes) {
        return bad(k, "an integer in 1.." + std::to_string(PlatformConfig::kMaxStorageQuotaBytes));
      }
      config.max_storage_quota_bytes = static_cast<std::uint64_t>(*v);
    } else {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown key platform." + std::string(k)};
    }
  }
  return {};
}

}  // namespace troupe::platform
