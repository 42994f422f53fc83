#include "troupe/node/control_options_table.h"

#include <cstdint>

#include "troupe/base/toml_integer.h"

namespace troupe {

Result<void> parse_control_table(const toml::table& table, const std::string& origin,
                                 ControlServer::Options& options) {
  for (auto&& [key, value] : table) {
    std::string what = origin;
    what += ": control.";
    what += key.str();
    if (key.str() == "max_connections") {
      auto n = toml_integer_in(value, what, 1, 4096);
      if (!n.ok()) return n.error();
      options.max_connections = static_cast<std::size_t>(*n);
    } else if (key.str() == "idle_timeout_ms") {
      auto n = toml_integer_in(value, what, 1, 3'600'000);
      if (!n.ok()) return n.error();
      options.idle_timeout = std::chrono::milliseconds(*n);
    } else {
      return Error{BaseErrc::kInvalidArgument,
                   origin + ": unknown key control." + std::string(key.str())};
    }
  }
  return {};
}

}  // namespace troupe
