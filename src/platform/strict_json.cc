#include "strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace troupe::platform_detail {

std::optional<nlohmann::json> parse_strict_json_object(std::string_view text, int max_depth) {
  using nlohmann::json;
  bool refused = false;
  std::vector<std::set<std::string>> open_objects;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= max_depth) refused = true;
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (open_objects.empty() || !open_objects.back().insert(parsed.get<std::string>()).second)
          refused = true;
        break;
      default:
        break;
    }
    return !refused;
  };
  json value = json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false);
  if (refused || value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

}  // namespace troupe::platform_detail
