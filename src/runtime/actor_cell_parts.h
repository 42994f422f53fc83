// Internal: the lazily allocated parts of an ActorCell, shared by its two implementation files
// (actor_cell.cc: lifecycle and family; actor_cell_mailbox.cc: enqueue, dequeue, limits).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "troupe/runtime/actor_cell.h"
#include "troupe/runtime/bounded_queue.h"

namespace troupe {

struct ActorCell::Family {
  std::vector<ActorRef> children;  // start order
  std::vector<std::pair<ActorRef, std::uint64_t>> watchers;
  std::vector<ActorRef> links;
  std::vector<TimerId> timers;
  std::vector<ActorRef> throttled;  // kBackpressure: senders paused until the mailbox drains
  std::vector<std::function<void()>> room_waiters;  // notify_when_room: one-shot callbacks
  std::string name;
};

struct ActorCell::OwnerState {
  std::uint64_t awaited_request = 0;
  std::optional<ExitReason> pending_stop;  // Actor::stop() inside a handler
  // An orderly exit in progress.
  bool exiting = false;
  ExitReason reason;
  Origin origin = Origin::kSelf;
  std::unique_ptr<Actor> fresh;   // kRestart: the instance to install afterwards
  std::vector<ActorRef> to_stop;  // children still to stop, last = next
  ActorRef waiting_for;           // child currently being stopped
  TimerId kill_timer;
};

struct ActorCell::MailboxLimits {
  std::unique_ptr<BoundedQueue> bounded;  // kFail, kDropNewest, kDropOldest
  OverflowPolicy policy = OverflowPolicy::kFail;
  std::uint32_t bp_bound = 0;   // kBackpressure (the queue itself stays user_)
  std::uint32_t threshold = 0;  // on_backpressure
  std::atomic<bool> armed{true};
  std::atomic<std::uint32_t> waiters{0};  // paused sender actors and room callbacks
};

// Runs notify_when_room callbacks (outside any lock); a callback that throws is logged.
void run_room_callbacks(std::vector<std::function<void()>>& callbacks);

}  // namespace troupe
