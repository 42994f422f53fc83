// check_actor_name: the one rule for the names a control request carries — spawn names,
// supervisor names, actor lookups (a name or an id), kinds and type names. A name is 1..255
// bytes of UTF-8 without control characters (C0, DEL, C1), so it prints on one line, escapes to
// a bounded size in JSON, and `ls` of the node's largest tree fits in one response frame.
// check_spawn_name adds the rule for the name an actor is registered under.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "troupe/base/result.h"

namespace troupe {

inline constexpr std::size_t kMaxActorNameBytes = 255;

// `what` says which field failed ("actor name", "type name"); errors are invalid-argument.
Result<void> check_actor_name(std::string_view name, std::string_view what);

// The name a spawn registers an actor under (`troupe spawn --name`, a config's [[actor]] name):
// check_actor_name, and it must not read as an actor id (NODE.SERIAL). Lookups take a name or
// an id; a name that reads as an id would make the two ambiguous (a client could pose as
// another actor by naming a decoy after its predictable id).
Result<void> check_spawn_name(std::string_view name, std::string_view what);

}  // namespace troupe
