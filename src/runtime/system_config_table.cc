#include "troupe/runtime/system_config_table.h"

namespace troupe {

Result<void> parse_runtime_table(const toml::table& table, const std::string& origin,
                                 SystemConfig& config) {
  constexpr std::int64_t kMaxDepth = 1'000'000;
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    if (k == "max_call_depth") {
      if (auto word = value.value_exact<std::string>(); word && *word == "unlimited") {
        config.max_call_depth = kUnlimitedCallDepth;
        continue;
      }
      auto n = value.value_exact<std::int64_t>();
      if (!n || *n < 1 || *n > kMaxDepth) {
        return Error{Errc::kInvalidArgument, origin +
                                                 ": runtime.max_call_depth must be an integer "
                                                 "in 1.." +
                                                 std::to_string(kMaxDepth) + " or \"unlimited\""};
      }
      config.max_call_depth = static_cast<std::uint32_t>(*n);
    } else {
      return Error{Errc::kInvalidArgument, origin + ": unknown key runtime." + k};
    }
  }
  return {};
}

}  // namespace troupe
