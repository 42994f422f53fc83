// Internal system-queue messages of the runtime. Never seen by actors.
#pragma once

#include <functional>
#include <memory>

#include "troupe/runtime/actor.h"
#include "troupe/runtime/exit_reason.h"

namespace troupe::sys {

struct Stop {
  ExitReason reason;
};
struct Kill {};
// A linked actor terminated.
struct LinkExit {
  ActorRef from;
  ExitReason reason;
};
// Child → parent: I exited or failed; restart or finish me.
struct ChildFailed {
  ActorRef child;
  ExitReason reason;
};
// Parent → child: the decisions.
struct Restart {
  std::unique_ptr<Actor> fresh;
};
struct Finish {
  ExitReason reason;
};
struct Backpressure {
  std::size_t depth;
};
// Runs in the cell's own context (e.g. a shutdown timeout firing).
struct Run {
  std::function<void(ActorCell&)> fn;
};

}  // namespace troupe::sys
