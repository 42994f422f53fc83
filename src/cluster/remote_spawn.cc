// RemoteActors, remote spawn: asking another node to verify and spawn a signed package (SPAWN),
// and answering other nodes' SPAWNs through the node's handler, bounded in number and bytes,
// with `linked` spawns tied to the asking node's membership.
#include <spdlog/spdlog.h>

#include "troupe/cluster/cluster_error.h"
#include "troupe/cluster/remote_actors.h"
#include "troupe/net/net_error.h"
#include "troupe/platform/platform_error.h"

namespace troupe {

void RemoteActors::spawn(NodeId node, RemoteSpawn request_body, std::chrono::milliseconds timeout,
                         std::function<void(Result<RemoteSpawned>)> done) {
  if (node == system_.node_id() || node == 0) {
    return done(Error{BaseErrc::kInvalidArgument, "a remote spawn names another node"});
  }
  if (timeout.count() <= 0 || timeout.count() > kMaxRemoteTimeLeftMs) {
    return done(
        Error{BaseErrc::kInvalidArgument,
              "a spawn timeout outside 1.." + std::to_string(kMaxRemoteTimeLeftMs) + " ms"});
  }
  if (request_body.limits.size() > kMaxRemoteSpawnLimits) {
    return done(Error{BaseErrc::kInvalidArgument, "too many limits"});
  }
  if (request_body.name.size() > kMaxRemoteNameBytes ||
      request_body.supervisor.size() > kMaxRemoteNameBytes) {
    return done(Error{BaseErrc::kInvalidArgument,
                      "a name of more than " + std::to_string(kMaxRemoteNameBytes) + " bytes"});
  }
  if (request_body.package.empty()) {
    return done(Error{BaseErrc::kInvalidArgument, "an empty package"});
  }
  const std::uint64_t id = next_request_.fetch_add(1);
  request_body.request_id = id;
  request_body.time_left_ms = static_cast<std::uint32_t>(timeout.count());
  Bytes body = encode_remote_spawn(request_body);
  request_body.package.clear();
  if (body.size() > net::max_frame_body(net::FrameType::kSpawn)) {
    return done(Error{BaseErrc::kTooLarge,
                      "the package is too large to spawn on another node (a spawn frame holds "
                      "at most " +
                          std::to_string(net::max_frame_body(net::FrameType::kSpawn)) + " bytes)"});
  }
  request(node, id, net::FrameType::kSpawn, body, timeout,
          [done = std::move(done)](Result<Bytes> reply) {
            if (!reply.ok()) return done(reply.error());
            done(decode_remote_spawned(*reply));
          });
}

void RemoteActors::set_spawn_handler(SpawnHandler handler) { spawn_handler_ = std::move(handler); }

void RemoteActors::handle_spawn(NodeId from, RemoteSpawn request_body) {
  const std::uint64_t request_id = request_body.request_id;
  auto answer = reply_to(from, request_id);
  if (!spawn_handler_) {
    return answer(Error{PlatformErrc::kPermissionDenied,
                        "this node does not accept remote spawns ([mesh] remote_spawn)"});
  }
  const std::size_t bytes = request_body.package.size();
  {
    std::lock_guard lock(incoming_spawns_->mutex);
    // One peer gets at most half of the slots and bytes: it cannot shut the others out.
    SpawnBudget::Share& mine = incoming_spawns_->by_peer[from];
    if (incoming_spawns_->count >= kMaxIncomingSpawns ||
        incoming_spawns_->bytes + bytes > kMaxIncomingSpawnBytes ||
        mine.count >= kMaxIncomingSpawns / 2 || mine.bytes + bytes > kMaxIncomingSpawnBytes / 2) {
      if (mine.count == 0) incoming_spawns_->by_peer.erase(from);
      return answer(Error{NetErrc::kOverloaded, "too many remote spawns at once on this node"});
    }
    ++incoming_spawns_->count;
    incoming_spawns_->bytes += bytes;
    ++mine.count;
    mine.bytes += bytes;
  }
  const bool linked = request_body.linked;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(request_body.time_left_ms);
  spawn_handler_(from, std::move(request_body),
                 [answer, budget = incoming_spawns_, bytes, linked, from, deadline,
                  handle = handle_, system = &system_,
                  once = std::make_shared<std::atomic<bool>>(false)](Result<RemoteSpawned> r) {
                   if (once->exchange(true)) return;
                   {
                     std::lock_guard lock(budget->mutex);
                     --budget->count;
                     budget->bytes -= bytes;
                     if (--budget->by_peer[from].count == 0)
                       budget->by_peer.erase(from);
                     else
                       budget->by_peer[from].bytes -= bytes;
                   }
                   if (!r.ok()) return answer(r.error());
                   if (std::chrono::steady_clock::now() > deadline) {
                     // The asker has given up: an actor spawned now would be nobody's.
                     std::shared_lock lock(handle->mutex);
                     if (handle->self) {
                       if (ActorRef late = system->find(ActorId{system->node_id(), r->serial})) {
                         system->stop(late, ExitReason::shutdown());
                       }
                     }
                     return answer(Error{BaseErrc::kTimedOut,
                                         "spawned after the asker's deadline, and stopped"});
                   }
                   if (linked) {
                     std::shared_lock lock(handle->mutex);
                     if (handle->self) handle->self->link_to_requester(from, r->serial);
                   }
                   answer(encode_remote_spawned(*r));
                 });
}

void RemoteActors::link_to_requester(NodeId from, std::uint64_t serial) {
  ActorRef orphan;
  {
    std::lock_guard lock(mutex_);
    if (gone_.count(from) == 0) {
      auto& serials = linked_spawns_[from];
      std::erase_if(serials, [this](std::uint64_t s) {
        return !system_.find(ActorId{system_.node_id(), s});
      });
      serials.push_back(serial);
      return;
    }
    orphan = system_.find(ActorId{system_.node_id(), serial});
  }
  // The node that asked is gone already: nobody would supervise it.
  if (orphan) system_.stop(orphan, ExitReason::noconnection());
}

}  // namespace troupe
