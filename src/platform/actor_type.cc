#include "troupe/platform/actor_type.h"

#include "troupe/platform/platform_error.h"

namespace troupe::platform {

Result<void> check_type_component(std::string_view field, std::string_view value) {
  const std::string what(field);
  if (value.empty()) return Error{PlatformErrc::kMalformed, what + " is empty"};
  if (value.size() > kMaxTypeComponent) {
    return Error{PlatformErrc::kMalformed,
                 what + " is longer than " + std::to_string(kMaxTypeComponent) + " characters"};
  }
  if (value == "." || value == "..") {
    return Error{PlatformErrc::kMalformed, what + " may not be \".\" or \"..\""};
  }
  // The version may carry semver build metadata; no component may hold ':' (the separator)
  // or '/' (it names storage directories).
  const bool version = field == "version";
  for (char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || (version && c == '+');
    if (!ok) {
      return Error{PlatformErrc::kMalformed, what + " may hold only letters, digits and . _ -" +
                                                 (version ? std::string(" +") : std::string())};
    }
  }
  return {};
}

Result<ActorType> parse_actor_type(std::string_view text) {
  const auto first = text.find(':');
  const auto second = first == std::string_view::npos ? first : text.find(':', first + 1);
  if (second == std::string_view::npos || text.find(':', second + 1) != std::string_view::npos) {
    return Error{PlatformErrc::kMalformed, "an actor type is manufacturer:name:version"};
  }
  ActorType type{std::string(text.substr(0, first)),
                 std::string(text.substr(first + 1, second - first - 1)),
                 std::string(text.substr(second + 1))};
  if (auto r = check_type_component("manufacturer", type.manufacturer); !r) return r.error();
  if (auto r = check_type_component("name", type.name); !r) return r.error();
  if (auto r = check_type_component("version", type.version); !r) return r.error();
  return type;
}

}  // namespace troupe::platform
