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
        std::string message = origin;
        message += ": runtime.max_call_depth must be an integer in 1..";
        message += std::to_string(kMaxDepth);
        message += " or \"unlimited\"";
        return Error{BaseErrc::kInvalidArgument, std::move(message)};
      }
      config.max_call_depth = static_cast<std::uint32_t>(*n);
    } else {
      std::string message = origin;
      message += ": unknown key runtime.";
      message += k;
      return Error{BaseErrc::kInvalidArgument, std::move(message)};
    }
  }
  return {};
}

}  // namespace troupe
