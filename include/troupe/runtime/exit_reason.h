// Why an actor terminated, and the notifications that carry it (DOWN, exit signals, child
// exits). Plain values.
#pragma once

#include <cstdint>
#include <string>

#include "troupe/runtime/actor_ref.h"

namespace troupe {

struct ExitReason {
  enum class Kind : std::uint8_t {
    kNormal,    // the actor stopped itself or was stopped on request
    kShutdown,  // stopped by its supervisor or the node during orderly shutdown
    kKilled,    // killed without running on_stop (shutdown timeout, kill)
    kError,     // a handler or hook failed; detail says how
    // An actor of another node that can no longer be reached: its node died, left or was
    // taken off the allowlist (Erlang's `noconnection`). What a proxy dies with.
    kNoConnection,
  };
  Kind kind = Kind::kNormal;
  std::string detail;

  static ExitReason normal() { return {Kind::kNormal, {}}; }
  static ExitReason shutdown() { return {Kind::kShutdown, {}}; }
  static ExitReason killed() { return {Kind::kKilled, {}}; }
  static ExitReason error(std::string what) { return {Kind::kError, std::move(what)}; }
  static ExitReason noconnection() { return {Kind::kNoConnection, {}}; }

  // OTP's sense: a transient child is restarted only after an abnormal exit.
  bool abnormal() const {
    return kind == Kind::kError || kind == Kind::kKilled || kind == Kind::kNoConnection;
  }
  std::string to_string() const;
};

// Delivered exactly once per monitor, also when the target was already dead.
struct Down {
  ActorRef actor;
  std::uint64_t monitor_id = 0;
  ExitReason reason;
};

// Delivered to an actor that traps exits when a linked actor terminates.
struct ExitSignal {
  ActorRef from;
  ExitReason reason;
};

// Delivered to a parent when one of its children has terminated for good.
struct ChildExit {
  ActorRef child;
  ExitReason reason;
};

}  // namespace troupe
