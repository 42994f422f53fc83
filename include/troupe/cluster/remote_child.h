// RemoteChildSpec: what a supervisor's child — or a pool's worker — that lives on another node
// is made from (RemoteActors::child_factory). The factory's actors are local stand-ins: each
// spawns the package on a node of `nodes` (taken in turn, so a pool's workers spread over them),
// forwards every Envelope it receives to the remote actor, and dies with the remote actor's
// exit reason — `noconnection` when its node dies or leaves — so the local supervisor restarts
// it as it would a local child: a fresh stand-in, which spawns again. A stand-in that is stopped
// (its supervisor shuts it down) sends the remote actor an exit signal (shutdown); the target
// stops it by itself (noconnection) when it declares this node dead or gone (a linked SPAWN),
// so a partition leaves no unsupervised actor behind. A target that answers overloaded (busy
// with other spawns) is asked again after a backoff (50 ms doubling, 8 times). Until the
// remote actor exists, at most kMaxWaitingMessages messages wait (beyond: a tell is dropped, an
// ask fails overloaded); a failed spawn ends the stand-in with an error naming why.
// Plain value; thread-safe to copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/ids.h"
#include "troupe/cluster/remote_envelope.h"

namespace troupe {

struct RemoteChildSpec {
  std::vector<NodeId> nodes;             // at least one; not this node
  std::shared_ptr<const Bytes> package;  // a signed package (.actr) the targets trust
  std::string name;                      // registered on the target; empty: unnamed
  std::uint8_t tier = 0;                 // as RemoteSpawn
  std::vector<RemoteSpawnLimit> limits;
  std::chrono::milliseconds spawn_timeout{30000};
};

inline constexpr std::size_t kMaxWaitingMessages = 1024;

}  // namespace troupe
