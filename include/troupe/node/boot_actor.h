// BootActor: one `[[actor]]` entry of a node's config — an actor the node starts at boot,
// before its control socket opens, the way Theater starts the actors its manifest lists. An
// entry names a signed package (`package`) or a native kind (`kind`), and may give a name, a
// package's limits and tier, and a restart policy. parse_boot_actors (boot_actor_table.h)
// reads the entries strictly; start_boot_actors spawns them, in order, through
// Operations::spawn — the path of `troupe spawn`, with its checks, its verification against
// the node's trust store, its grants and its supervision under the root — and stops at the
// first failure.
//
// Threading and lifetime: BootActor is a plain value. start_boot_actors blocks its caller until
// each spawn has answered: never call it on a worker or on the module loader (Node::start calls it
// on the thread that starts the node).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/node/operations.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/guest_policy.h"
#include "troupe/wasm/instance.h"

namespace troupe {

// More entries than this are refused: a config cannot make a node spend its start spawning
// without end (each entry is spawned and waited for before the next).
inline constexpr std::size_t kMaxBootActors = 4096;

struct BootActor {
  std::string package;  // a package (.actr) file; empty for a kind. Any bytes but NUL.
  std::string kind;     // a KindRegistry name; empty for a package
  std::string name;     // empty: unnamed
  // A package's limits and engine tier, as `troupe spawn --package` takes them: absent limits
  // are the manifest's [troupe.limits], else the node's [wasm] defaults. A kind takes neither.
  wasm::LimitRequest limits{};
  wasm::Tier tier = wasm::Tier::kAuto;
  RestartPolicy restart = RestartPolicy::kPermanent;  // what `troupe spawn` gives

  // How errors name the entry: "actor[INDEX]" or "actor[INDEX] (NAME)"; INDEX counts from 0
  // in the file's order.
  std::string label(std::size_t index) const;
  SpawnRequest spawn_request() const;
};

// Spawns each entry in order, waiting for each. The first failure is returned with its code
// (untrusted, not-found, ...) and the entry's label before its detail, "actor[1] (pinger): ...";
// the entries before it keep running (the caller shuts the node down). `interrupted`, when
// given, is asked before each entry: true (a stop was requested) ends the boot with
// unavailable, "interrupted ...", so a long boot does not outlast a SIGTERM.
Result<void> start_boot_actors(Operations& operations, const std::vector<BootActor>& actors,
                               const std::function<bool()>& interrupted = {});

}  // namespace troupe
