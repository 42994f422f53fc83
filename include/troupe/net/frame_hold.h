// FrameHold: handed to a connection's owner with each frame, so that a frame whose target
// cannot take it yet (an actor's full backpressure mailbox) is held rather than dropped
// (docs/PROTOCOL.md, "Credit"). The owner returns FrameVerdict::kHeld and arranges for the
// resumer to be called once the target has room; until then that lane delivers nothing more
// and grants its sender no more credit — so the sender stops at its window — while the other
// lanes go on. A frame is held at most MeshConnection::Settings::max_hold: then it is offered
// once more with last_offer() true, and whatever the owner answers it is taken.
//
// Threading: the hold is valid during the owner's callback only; the resumer it makes may be
// called from any thread, once (later calls, and calls after the connection closed, do nothing).
// Lifetime: the resumer keeps only a weak reference to the connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace troupe::net {

class MeshConnection;

class FrameHold {
 public:
  FrameHold(std::weak_ptr<MeshConnection> connection, std::size_t lane, std::uint64_t offer,
            bool last_offer, std::chrono::steady_clock::duration held_for)
      : connection_(std::move(connection)),
        lane_(lane),
        offer_(offer),
        last_offer_(last_offer),
        held_for_(held_for) {}

  // Whether the frame may be held at all: system frames (exits, DOWN, membership) never are.
  bool may_hold() const;
  // True when the frame has waited max_hold already: it is taken whatever the owner answers,
  // so the owner delivers it past its target's bound or drops it (and counts the drop).
  bool last_offer() const { return last_offer_; }
  // How long the frame has been held so far (zero on its first offer).
  std::chrono::steady_clock::duration held_for() const { return held_for_; }
  // What to call, once, when the target may have room: the frame is then offered again.
  std::function<void()> resumer() const;

 private:
  std::weak_ptr<MeshConnection> connection_;
  std::size_t lane_;
  std::uint64_t offer_;
  bool last_offer_;
  std::chrono::steady_clock::duration held_for_;
};

}  // namespace troupe::net
