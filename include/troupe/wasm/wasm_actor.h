// WasmActor: an actor whose handlers run in a WebAssembly guest (either tier). It is an
// actor like any other — mailbox, supervision, monitors, pools — and the guest sees the
// runtime through the 11 host imports of actr:workload@0.1.0:
// - call / call-raw ask another actor and suspend the guest on its fiber until the reply
//   (the actor awaits: it takes no other message meanwhile, and the worker runs other actors);
//   tell sends; discover finds a live actor by type on this node, then in the cluster
//   registry; all four reach actors of other nodes through the system's RemoteDirectory
//   (realms: docs/WASM.md, "Across nodes");
// - dest `local` is this actor itself; dest `shell` (the actor hosting the workload) does not
//   exist in troupe, so it answers unavailable;
// - register-stream / unregister-stream / send-data-stream: see DataStreamMessage;
// - log-message and WASI fd_write go to the node log with the actor's id, bounded in size and
//   rate (OutputLimiter; what is dropped is counted and reported in a log line); the get-*
//   imports answer during an export call and trap outside one.
// Exports: dispatch per Envelope (reply: the bytes, or the guest's actr-error as an Error);
// on-start and on-ready at start (on the fresh instance after each restart), on-stop at stop,
// on-error after a handler error (same instance) or a trap or limit breach (the actor fails,
// its supervisor restarts it with a fresh instance, which gets on-error after on-ready).
// on-mailbox-backpressure when the mailbox crosses its threshold. The other hooks come as
// WasmEvent messages (the internal event API the signaling, WebSocket, WebRTC and credential
// subsystems will send).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "troupe/runtime/actor.h"
#include "troupe/wasm/guest_error_mapping.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/guest_services.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/output_limiter.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::wasm {

struct WasmActorOptions {
  std::string type_name;  // the actr-type name others discover it by
  Limits limits;
  // For each of the guest's call / call-raw; also the most waiting, in all, that one invocation
  // may leave out of its deadline.
  std::chrono::milliseconds call_timeout{5000};
  std::size_t mailbox_threshold = 0;  // reported by on-mailbox-backpressure
  // Each incarnation is created on this tier (kAuto: AOT once the module's code is ready).
  Tier tier = Tier::kAuto;
  // How long a guest runs before it gives its worker back to other ready actors (checked at
  // each fuel checkpoint, every kFuelSlice units) — Erlang's reductions, in time.
  std::chrono::microseconds time_slice{1000};
  // The guest's fd_write and log-message output, one bucket for all incarnations.
  OutputLimits output;
  // Clock, random, streams and the actors it may reach (guest_grants.h); default: none.
  GuestGrants grants;
  // What the node serves each incarnation beyond the contract (storage, signing, identity);
  // empty: none.
  // A guest importing a service its incarnation was not given fails its start.
  GuestServicesFactory services;
};

// A hook call for a WebAssembly actor: `hook` is its WIT name ("on-webrtc-connected", ...),
// `args` its parameters (see workload_values.h). Send it with tell().
struct WasmEvent {
  std::string hook;
  std::vector<AbiValue> args;
};

// A data-stream chunk sent with send-data-stream. stream-reliable chunks come as an ask: the
// receiver replies (empty bytes) once it has handled the chunk, and the sending guest waits for
// that before its send-data-stream returns (stop-and-wait: backpressure with a window of one).
// stream-latency-first chunks come as a tell with `in_flight`, the sender's count of chunks
// not yet handled, which the receiver decrements; the sender drops a chunk instead of sending
// it while kLatencyFirstWindow are in flight. Any actor may handle it; a WebAssembly actor
// calls on-data-stream. Across nodes a proxy carries it as a STREAM frame (docs/PROTOCOL.md):
// there `in_flight` counts the chunks not yet handed to the network.
// A latency-first chunk's place in its stream's window (the sender's count of chunks in
// flight): taken when made, given back exactly once — when the slot is destroyed, that is when
// the chunk is handled, handed to the network, or dropped anywhere (a dead letter included).
class InFlightSlot {
 public:
  explicit InFlightSlot(std::shared_ptr<std::atomic<int>> count) : count_(std::move(count)) {
    count_->fetch_add(1, std::memory_order_relaxed);
  }
  ~InFlightSlot() { count_->fetch_sub(1, std::memory_order_relaxed); }
  InFlightSlot(const InFlightSlot&) = delete;
  InFlightSlot& operator=(const InFlightSlot&) = delete;

 private:
  std::shared_ptr<std::atomic<int>> count_;
};

struct DataStreamMessage {
  workload::DataStreamChunk chunk;
  ActorId sender;
  std::shared_ptr<InFlightSlot> in_flight;  // latency-first only
  std::string sender_type;  // from another node: the type its node announced for the sender
};
inline constexpr int kLatencyFirstWindow = 64;

// Process-wide data-stream figures (for tests and, later, metrics).
struct StreamCounters {
  std::uint64_t sent = 0;       // chunks handed to the runtime
  std::uint64_t delivered = 0;  // chunks a receiver handled
  std::uint64_t dropped = 0;    // latency-first chunks not sent because the receiver lagged
};
StreamCounters stream_counters();

// The factory a supervisor restarts the actor with: each call builds a fresh instance of the
// same module. Failures of one incarnation are handed to the next one's on-error.
std::function<std::unique_ptr<Actor>()> wasm_actor_factory(
    std::shared_ptr<const GuestModule> module, WasmActorOptions options);

}  // namespace troupe::wasm
