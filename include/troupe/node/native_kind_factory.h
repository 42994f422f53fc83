// native_kind_factory: the one way to start a native actor of a registered kind with its
// services — what `troupe spawn KIND` uses, and what anything else that spawns kinds (boot
// entries, say) should use, so every path grants the same. The factory it returns is what a
// supervisor starts and restarts the actor with: each call builds a fresh instance with a fresh
// NativeActorContext for (kind, name), granted what the kind declared, drawing on `platform`.
//
// Checked here, before anything runs, so a spawn that could not have its services is refused
// instead of failing later: the kind exists; for a kind granted storage or signing, a name is
// given (stores and keys are kept under it), the kind and name are path components
// (NativeActorContext::check_names) and the node has platform services. Nothing is opened and
// no disk is touched: the context opens the store and the key at the actor's first use, on the
// worker that runs it.
//
// Pure function of its arguments; thread-safe. Lifetime: the factory holds the kind's factory
// (a copy) and `platform`, which must outlive every actor it builds (the node's does).
#pragma once

#include <string>

#include "troupe/base/result.h"
#include "troupe/node/kind_registry.h"

namespace troupe {

class PlatformServices;

// Errors: not-found (no such kind; the detail lists the known ones), invalid-argument (a
// granted kind without a name, or with a name or kind outside the path rules), unavailable
// (a granted kind on a node without platform services).
// The checks above that need no platform: the kind exists, and a granted kind's name and kind
// are path components. (A node runs them on its [[actor]] entries before it writes anything.)
Result<const KindRegistry::Kind*> check_native_spawn(const KindRegistry& kinds,
                                                     const std::string& kind,
                                                     const std::string& name);

Result<KindRegistry::Factory> native_kind_factory(const KindRegistry& kinds,
                                                  const std::string& kind, const std::string& name,
                                                  PlatformServices* platform);

}  // namespace troupe
