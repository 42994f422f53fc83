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
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    // U+0080..U+009F (C1) is 0xC2 0x80..0x9F in UTF-8.
    const bool c1 = c == 0xC2 && i + 1 < name.size() &&
                    static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(name[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) return fail("contains a control character");
  }
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
