#include "troupe/node/control_options_table.h"

#include <cstdint>

namespace troupe {
namespace {

// `value` as an integer in min..max, else an error naming control.KEY.
Result<std::int64_t> integer_in(const toml::node& value, const std::string& what, std::int64_t min,
                                std::int64_t max) {
  auto n = value.value_exact<std::int64_t>();
  if (!n || *n < min || *n > max) {
    std::string message = what;
    message += " must be an integer in ";
    message += std::to_string(min);
    message += "..";
    message += std::to_string(max);
    return Error{BaseErrc::kInvalidArgument, std::move(message)};
  }
  return *n;
}

}  // namespace

Result<void> parse_control_table(const toml::table& table, const std::string& origin,
                                 ControlServer::Options& options) {
  for (auto&& [key, value] : table) {
    std::string what = origin;
    what += ": control.";
    what += key.str();
    if (key.str() == "max_connections") {
      auto n = integer_in(value, what, 1, 4096);
      if (!n.ok()) return n.error();
      options.max_connections = static_cast<std::size_t>(*n);
    } else if (key.str() == "idle_timeout_ms") {
      auto n = integer_in(value, what, 1, 3'600'000);
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
