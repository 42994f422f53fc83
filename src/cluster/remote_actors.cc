#include "troupe/cluster/remote_actors.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "troupe/cluster/cluster_error.h"
#include "troupe/net/net_error.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/wasm/guest_grants.h"

namespace troupe {

namespace asio = boost::asio;

RemoteActors::RemoteActors(ActorSystem& system, net::MeshTransport& transport, asio::io_context& io,
                           Options options)
    : system_(system), transport_(transport), io_(io), options_(options) {
  outbox_->transport = &transport;
}

RemoteActors::~RemoteActors() { stop(); }

void RemoteActors::stop() {
  {
    std::lock_guard lock(outbox_->mutex);
    outbox_->transport = nullptr;
  }
  std::map<std::uint64_t, Pending> pending;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    pending.swap(pending_);
  }
  for (auto& [id, p] : pending) {
    p.timer->cancel();
    p.done(Error{BaseErrc::kUnavailable, "the node is shutting down"});
  }
}

Result<void> RemoteActors::tell(NodeId node, std::uint64_t to_serial, const std::string& to_name,
                                Envelope envelope) {
  RemoteEnvelope remote;
  remote.to_serial = to_serial;
  remote.to_name = to_name;
  envelope.kind = EnvelopeKind::kTell;
  remote.envelope = std::move(envelope);
  return transport_.send(node, net::Lane::kRpcReliable, net::FrameType::kEnvelope,
                         encode_remote_envelope(remote));
}

void RemoteActors::ask(NodeId node, std::uint64_t to_serial, const std::string& to_name,
                       Envelope envelope, std::chrono::milliseconds timeout,
                       std::function<void(Result<Bytes>)> done) {
  if (timeout.count() <= 0 || timeout.count() > kMaxRemoteTimeLeftMs) {
    return done(Error{BaseErrc::kInvalidArgument,
                      "an ask timeout outside 1.." + std::to_string(kMaxRemoteTimeLeftMs) + " ms"});
  }
  const std::uint64_t id = next_request_.fetch_add(1);
  RemoteEnvelope remote;
  remote.to_serial = to_serial;
  remote.to_name = to_name;
  envelope.kind = EnvelopeKind::kRequest;
  envelope.request_id = id;
  remote.envelope = std::move(envelope);
  remote.time_left_ms = static_cast<std::uint32_t>(timeout.count());
  auto timer = std::make_shared<asio::steady_timer>(io_, timeout);
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return done(Error{BaseErrc::kUnavailable, "the node is shutting down"});
    pending_.emplace(id, Pending{node, std::move(done), timer});
  }
  timer->async_wait([this, id](boost::system::error_code ec) {
    if (ec) return;  // answered first
    complete(id, Error{BaseErrc::kTimedOut, "no reply from the remote actor in time"}, true);
  });
  auto sent = transport_.send(node, net::Lane::kRpcReliable, net::FrameType::kEnvelope,
                              encode_remote_envelope(remote));
  if (!sent.ok()) complete(id, sent.error(), false);
}

void RemoteActors::complete(std::uint64_t request_id, Result<Bytes> result, bool timed_out) {
  Pending p;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(request_id);
    if (it == pending_.end()) {
      if (!timed_out) ++counters_.late_replies;
      return;
    }
    p = std::move(it->second);
    pending_.erase(it);
  }
  if (!timed_out) p.timer->cancel();
  p.done(std::move(result));
}

void RemoteActors::on_frame(const net::PeerInfo& peer, const net::Frame& frame) {
  switch (frame.type) {
    case net::FrameType::kEnvelope: {
      auto remote = decode_remote_envelope(frame.body);
      if (!remote.ok()) break;
      return handle_envelope(peer, std::move(remote).value());
    }
    case net::FrameType::kReply: {
      auto reply = decode_remote_reply(frame.body);
      if (!reply.ok()) break;
      return handle_reply(std::move(reply).value());
    }
    case net::FrameType::kRegistry: {
      auto announcement = decode_registry(frame.body);
      if (!announcement.ok()) break;
      return handle_registry(peer.id, std::move(announcement).value());
    }
    default:
      return;
  }
  std::lock_guard lock(mutex_);
  ++counters_.malformed_frames;
  spdlog::debug("cluster: a malformed {} frame from {}", net::frame_type_name(frame.type),
                net::node_key_text(peer.identity));
}

void RemoteActors::handle_envelope(const net::PeerInfo& peer, RemoteEnvelope remote) {
  Envelope& e = remote.envelope;
  e.request_node = peer.id;
  ActorRef target = remote.to_serial != 0
                        ? system_.find(ActorId{system_.node_id(), remote.to_serial})
                        : system_.find(remote.to_name);
  // The node's own machinery (supervisors, untyped internal actors) is never reachable from
  // another node, and answers as if it did not exist.
  if (target && wasm::is_node_internal_type(target.type_name())) target = ActorRef{};
  const std::string who =
      remote.to_serial != 0 ? std::to_string(remote.to_serial) : "'" + remote.to_name + "'";
  if (e.kind == EnvelopeKind::kTell) {
    if (!target || system_.try_tell(target, std::move(e)) != Delivery::kQueued) {
      std::lock_guard lock(mutex_);
      ++counters_.dropped_tells;
    }
    return;
  }
  const std::uint64_t request_id = e.request_id;
  const NodeId from = peer.id;
  auto answer = [outbox = outbox_, from, request_id](Result<Bytes> result) {
    const Bytes body = encode_remote_reply(RemoteReply{request_id, std::move(result)});
    // The asker may be gone: a reply nobody waits for is dropped there, or here.
    std::lock_guard lock(outbox->mutex);
    if (outbox->transport) {
      (void)outbox->transport->send(from, net::Lane::kRpcReliable, net::FrameType::kReply, body);
    }
  };
  if (!target) return answer(Error{BaseErrc::kNotFound, "no actor " + who + " on this node"});
  const auto time_left = std::chrono::milliseconds(remote.time_left_ms);
  e.deadline = system_.clock().now() + time_left;
  system_.ask_then<Bytes>(target, std::move(e), time_left, std::move(answer));
}

void RemoteActors::handle_reply(RemoteReply reply) {
  complete(reply.request_id, std::move(reply.result), false);
}

void RemoteActors::handle_registry(NodeId node, RegistryAnnouncement announcement) {
  std::lock_guard lock(mutex_);
  NodeNames& names = names_[node];
  if (announcement.sequence <= names.sequence && names.sequence != 0) return;  // stale
  names.sequence = announcement.sequence;
  names.expires = std::chrono::steady_clock::now() + std::chrono::milliseconds(announcement.ttl_ms);
  names.entries = std::move(announcement.entries);
}

void RemoteActors::on_member_gone(NodeId node) {
  std::vector<Pending> failed;
  {
    std::lock_guard lock(mutex_);
    names_.erase(node);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.node == node) {
        failed.push_back(std::move(it->second));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    counters_.failed_on_death += failed.size();
  }
  for (Pending& p : failed) {
    p.timer->cancel();
    p.done(Error{ClusterErrc::kNoConnection, "the node the actor lives on is gone"});
  }
}

Bytes RemoteActors::registry_frame() {
  RegistryAnnouncement a;
  a.sequence = next_sequence_.fetch_add(1);
  a.ttl_ms = static_cast<std::uint32_t>(options_.registry_ttl.count());
  for (auto& [name, ref] : system_.named()) {
    if (a.entries.size() >= kMaxRegistryEntries) break;
    if (name.size() > kMaxRemoteNameBytes || wasm::is_node_internal_type(ref.type_name())) continue;
    a.entries.push_back(
        RegistryEntry{name, ref.id().serial, ref.type_name().substr(0, kMaxRemoteTextBytes)});
  }
  return encode_registry(a);
}

void RemoteActors::on_peer_up(NodeId peer) {
  (void)transport_.send(peer, net::Lane::kSystem, net::FrameType::kRegistry, registry_frame());
}

void RemoteActors::announce() {
  const Bytes frame = registry_frame();
  for (const net::PeerInfo& p : transport_.peers()) {
    (void)transport_.send(p.id, net::Lane::kSystem, net::FrameType::kRegistry, frame);
  }
}

std::optional<RemoteActors::RemoteName> RemoteActors::lookup(const std::string& name) const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  for (const auto& [node, names] : names_) {  // by node id: the lowest claim wins
    if (names.expires <= now) continue;
    for (const RegistryEntry& e : names.entries) {
      if (e.name == name) return RemoteName{e.name, ActorId{node, e.serial}, e.type};
    }
  }
  return std::nullopt;
}

std::vector<RemoteActors::RemoteName> RemoteActors::names() const {
  const auto now = std::chrono::steady_clock::now();
  std::map<std::string, RemoteName> winners;
  std::lock_guard lock(mutex_);
  for (const auto& [node, names] : names_) {
    if (names.expires <= now) continue;
    for (const RegistryEntry& e : names.entries) {
      winners.emplace(e.name, RemoteName{e.name, ActorId{node, e.serial}, e.type});
    }
  }
  std::vector<RemoteName> out;
  for (auto& [name, n] : winners) out.push_back(std::move(n));
  return out;
}

RemoteActors::Counters RemoteActors::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace troupe
