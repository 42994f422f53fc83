// How an actor's user mailbox behaves when it fills up. The system queue (stop, exit, DOWN)
// is never bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "troupe/base/ids.h"

namespace troupe {

enum class OverflowPolicy : std::uint8_t {
  kFail,          // the send is refused: tell returns kRefused, ask fails with kMailboxFull
  kDropNewest,    // the incoming message becomes a dead letter
  kDropOldest,    // the oldest queued message becomes a dead letter
  kBackpressure,  // an actor sender is paused between messages; any other sender gets kFull
};

struct MailboxOptions {
  std::size_t bound = 0;  // 0 = unbounded
  OverflowPolicy policy = OverflowPolicy::kFail;
  // When > 0: on_backpressure(depth) is called once each time the depth reaches this value,
  // re-armed when the depth falls to half of it.
  std::size_t backpressure_threshold = 0;
};

// What happened to a tell.
enum class Delivery : std::uint8_t {
  kQueued,      // in the mailbox
  kDeadLetter,  // the target is dead; counted as a dead letter
  kDropped,     // an overflow policy dropped a message (this one or the oldest)
  kRefused,     // bounded mailbox full with policy kFail
  kFull,        // backpressure mailbox at its bound, and the sender may not be paused (not an
                // actor, or try_tell): not queued; notify_when_room says when to retry
};

struct SpawnOptions {
  std::string name;       // optional registered name, unique on the node
  std::string type_name;  // shown by `troupe ls`; defaults to "actor"
  MailboxOptions mailbox;
  // Internal (the cluster's proxies): the cell stands for this actor of another node and
  // carries its id. It takes no serial of this node, no name, and is found by find(id) among
  // the other nodes' actors; it is still stopped at shutdown like any top-level actor.
  ActorId foreign_id;
};

}  // namespace troupe
