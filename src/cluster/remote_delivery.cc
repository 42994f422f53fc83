// RemoteActors, the incoming side of actor messages: an ENVELOPE or STREAM frame from another
// node delivered to one of this node's actors without blocking the I/O thread — held (its lane
// waits, net::FrameHold) while the actor's mailbox is full, dropped and counted, or answered.
#include <spdlog/spdlog.h>

#include "troupe/cluster/remote_actors.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/wasm_actor.h"

namespace troupe {

template <class M, class Prepare>
net::FrameVerdict RemoteActors::deliver_request(NodeId from, std::uint64_t request_id,
                                                const ActorRef& target, const std::string& who,
                                                std::uint32_t time_left_ms,
                                                const net::FrameHold& hold, M message,
                                                Prepare prepare) {
  if (!target) {
    reply_to(from,
             request_id)(Error{BaseErrc::kNotFound, "no actor " + who + " on node " +
                                                        fmt::format("{:016x}", system_.node_id())});
    return net::FrameVerdict::kTaken;
  }
  // The time it waited here (held, or behind held frames) is gone from its deadline.
  const auto time_left = std::chrono::milliseconds(time_left_ms) -
                         std::chrono::ceil<std::chrono::milliseconds>(hold.held_for());
  if (time_left.count() <= 0) {
    reply_to(from, request_id)(
        Error{BaseErrc::kTimedOut, "the request's deadline passed while " + who + " was full"});
    return net::FrameVerdict::kTaken;
  }
  prepare(message, time_left);
  const Delivery delivery = backlogged(target)
                                ? Delivery::kFull
                                : system_.try_ask_then<Bytes>(target, std::move(message), time_left,
                                                              reply_to(from, request_id));
  if (delivery != Delivery::kFull) return net::FrameVerdict::kTaken;
  if (hold_for(target, hold)) return net::FrameVerdict::kHeld;
  reply_to(from,
           request_id)(Error{RuntimeErrc::kMailboxFull, "the mailbox of " + who + " stayed full"});
  return net::FrameVerdict::kTaken;
}

net::FrameVerdict RemoteActors::handle_stream(const net::PeerInfo& peer, RemoteStreamChunk chunk,
                                              const net::FrameHold& hold) {
  ActorRef target = system_.find(ActorId{system_.node_id(), chunk.to_serial});
  if (target && wasm::is_node_internal_type(target.type_name())) target = ActorRef{};
  const std::string who = std::to_string(chunk.to_serial);
  const ActorId sender =
      chunk.sender_serial != 0 ? ActorId{peer.id, chunk.sender_serial} : ActorId{};
  wasm::DataStreamMessage message{std::move(chunk.chunk), sender, nullptr,
                                  std::move(chunk.sender_type)};
  if (!chunk.reliable) {
    // Latency-first: never held; a chunk the target cannot take now is dropped and counted.
    const Delivery delivery = !target              ? Delivery::kDeadLetter
                              : backlogged(target) ? Delivery::kFull
                                                   : system_.try_tell(target, std::move(message));
    if (delivery != Delivery::kQueued) {
      std::lock_guard lock(mutex_);
      ++counters_.stream_drops;
    }
    return net::FrameVerdict::kTaken;
  }
  return deliver_request(peer.id, chunk.request_id, target, who, chunk.time_left_ms, hold,
                         std::move(message), [](wasm::DataStreamMessage&, auto) {});
}

bool RemoteActors::backlogged(const ActorRef& target) {
  return target && !target.cell()->mailbox_bounded() &&
         target.cell()->mailbox_depth() >= kMaxNetworkBacklog;
}

bool RemoteActors::hold_for(const ActorRef& target, const net::FrameHold& hold) {
  if (!hold.may_hold()) return false;
  if (hold.last_offer()) {
    std::lock_guard lock(mutex_);
    ++counters_.hold_expired;
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    ++counters_.held_frames;
  }
  if (target.cell()->mailbox_bounded()) {
    system_.notify_when_room(target, hold.resumer());
  } else {
    system_.timers().after(kBacklogRetry, hold.resumer());  // no room callback unbounded
  }
  return true;
}

net::FrameVerdict RemoteActors::handle_envelope(const net::PeerInfo& peer, RemoteEnvelope remote,
                                                const net::FrameHold& hold) {
  Envelope& e = remote.envelope;
  e.request_node = peer.id;
  // A peer speaks for its own actors only: a caller of another node (whose type a guest would
  // then take for the truth, and whose node would take a realm) is not believed.
  if (e.caller.valid() && e.caller.node != peer.id) {
    e.caller = ActorId{};
    e.caller_type.clear();
    std::lock_guard lock(mutex_);
    ++counters_.forged_callers;
  }
  ActorRef target = remote.to_serial != 0
                        ? system_.find(ActorId{system_.node_id(), remote.to_serial})
                        : system_.find(remote.to_name);
  // The node's own machinery (supervisors, untyped internal actors) is never reachable from
  // another node, and answers as if it did not exist.
  if (target && wasm::is_node_internal_type(target.type_name())) target = ActorRef{};
  const std::string who =
      remote.to_serial != 0 ? std::to_string(remote.to_serial) : "'" + remote.to_name + "'";
  if (e.kind == EnvelopeKind::kTell) {
    const Delivery delivery = !target              ? Delivery::kDeadLetter
                              : backlogged(target) ? Delivery::kFull
                                                   : system_.try_tell(target, std::move(e));
    if (delivery == Delivery::kFull && hold_for(target, hold)) return net::FrameVerdict::kHeld;
    if (delivery != Delivery::kQueued) {
      std::lock_guard lock(mutex_);
      ++counters_.dropped_tells;
    }
    return net::FrameVerdict::kTaken;
  }
  return deliver_request(peer.id, e.request_id, target, who, remote.time_left_ms, hold,
                         std::move(e), [this](Envelope& request, std::chrono::milliseconds left) {
                           request.deadline = system_.clock().now() + left;
                         });
}

}  // namespace troupe
