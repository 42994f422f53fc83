// ActorType: a packaged actor's type, `manufacturer:name:version`, taken from the signed manifest
// and nowhere else. Each component becomes part of paths the node derives (per-actor storage),
// so each is validated: 1..64 characters of [A-Za-z0-9._-] (the version may also hold '+'),
// never "." or "..". Plain value; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe::platform {

inline constexpr std::size_t kMaxTypeComponent = 64;

struct ActorType {
  std::string manufacturer;
  std::string name;
  std::string version;

  std::string to_string() const { return manufacturer + ":" + name + ":" + version; }
  friend bool operator==(const ActorType&, const ActorType&) = default;
};

// kMalformed naming `field` when `value` is not a valid component.
Result<void> check_type_component(std::string_view field, std::string_view value);
// From "manufacturer:name:version"; kMalformed unless exactly three valid components.
Result<ActorType> parse_actor_type(std::string_view text);

}  // namespace troupe::platform
