// Internal: OutputGate, the messages half of the output gate (workerd's idea) of a WebAssembly
// actor that has storage. While an invocation (a dispatch or a hook) runs, the tells it makes
// are held; when it ends, its storage writes commit if it succeeded and only then do the held
// tells go out (its reply goes out after, in the actor's continuation); if it failed, or the
// commit did, its writes roll back and its tells are dropped. A message that must go out at
// once (a call, whose answer the guest waits for; a stream chunk) first commits what was
// written so far and releases the held tells (checkpoint). Held tells are bounded.
// Threading and lifetime: the actor's (one activation at a time); the storage outlives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/runtime/actor_ref.h"
#include "troupe/runtime/envelope.h"
#include "troupe/wasm/guest_services.h"

namespace troupe::wasm {

class OutputGate {
 public:
  // How held tells leave when released.
  using Send = std::function<void(const ActorRef& to, Envelope envelope)>;
  static constexpr std::size_t kMostHeldTells = 1024;

  // `storage` null: no gate (nothing is held).
  OutputGate(GuestStorage* storage, std::uint64_t max_held_bytes)
      : storage_(storage), max_held_bytes_(max_held_bytes) {}

  // An invocation starts (its writes join one transaction).
  void open();
  // Whether tells are held now.
  bool holding() const { return holding_; }
  // Holds a tell made by the invocation; an error (unavailable) past kMostHeldTells or
  // max_held_bytes of routes and payloads.
  Result<void> hold(const ActorRef& to, Envelope envelope);
  // Commits what was written so far and sends the held tells, then goes on holding. An error
  // (the commit's code only; the detail is logged): nothing of the invocation was kept.
  Result<void> checkpoint(const Send& send, const std::string& who);
  // The invocation ended: commits and sends when it `succeeded`, else rolls back and drops.
  // An error when the commit failed (tells dropped): the invocation must fail with it.
  Result<void> close(bool succeeded, const Send& send, const std::string& who);

 private:
  struct HeldTell {
    ActorRef to;
    Envelope envelope;
  };
  Result<void> commit(const std::string& who);
  std::vector<HeldTell> take();

  GuestStorage* storage_;
  std::uint64_t max_held_bytes_;
  bool holding_ = false;
  std::vector<HeldTell> held_;
  std::uint64_t held_bytes_ = 0;
};

}  // namespace troupe::wasm
