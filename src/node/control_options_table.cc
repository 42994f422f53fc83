#include "troupe/node/control_options_table.h"

#include <cstdint>

namespace troupe {

Result<void> parse_control_table(const toml::table& table, const std::string& origin,
                                 ControlServer::Options& options) {
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    auto in_range = [&](std::int64_t min, std::int64_t max) -> Result<std::int64_t> {
      auto n = value.value_exact<std::int64_t>();
      if (!n || *n < min || *n > max) {
        return Error{Errc::kInvalidArgument, origin + ": control." + k + " must be an integer in " +
                                                 std::to_string(min) + ".." + std::to_string(max)};
      }
      return *n;
    };
    if (k == "max_connections") {
      auto n = in_range(1, 4096);
      if (!n.ok()) return n.error();
      options.max_connections = static_cast<std::size_t>(*n);
    } else if (k == "idle_timeout_ms") {
      auto n = in_range(1, 3'600'000);
      if (!n.ok()) return n.error();
      options.idle_timeout = std::chrono::milliseconds(*n);
    } else {
      return Error{Errc::kInvalidArgument, origin + ": unknown key control." + k};
    }
  }
  return {};
}

}  // namespace troupe
