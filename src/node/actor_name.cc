#include "troupe/node/actor_name.h"

#include <string>

#include "troupe/base/encoding.h"
#include "troupe/base/ids.h"

namespace troupe {

Result<void> check_actor_name(std::string_view name, std::string_view what) {
  const auto fail = [&](const std::string& why) {
    return Error{BaseErrc::kInvalidArgument, std::string(what) + " " + why};
  };
  if (name.empty()) return fail("is empty");
  if (name.size() > kMaxActorNameBytes) {
    return fail("is " + std::to_string(name.size()) + " bytes (at most " +
                std::to_string(kMaxActorNameBytes) + ")");
  }
  if (!is_valid_utf8(name)) return fail("is not valid UTF-8");
  if (!is_plain_text(name)) return fail("contains a control character");
  return {};
}

Result<void> check_spawn_name(std::string_view name, std::string_view what) {
  if (auto ok = check_actor_name(name, what); !ok.ok()) return ok;
  if (ActorId::parse(name)) {
    return Error{BaseErrc::kInvalidArgument, std::string(what) + " '" + std::string(name) +
                                                 "' reads as an actor id: names must not"};
  }
  return {};
}

}  // namespace troupe
