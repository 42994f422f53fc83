#include "troupe/cluster/remote_actors.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "troupe/cluster/cluster_error.h"
#include "troupe/net/net_error.h"
#include "troupe/platform/platform_error.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/wasm_actor.h"

namespace troupe {

namespace asio = boost::asio;

namespace {

struct WatchTarget {
  ActorRef target;
};

}  // namespace

// Stands for an actor of another node: what it receives goes there. Traps exits, so a linked
// local actor's death reaches the remote actor instead of ending the proxy.
class RemoteActors::Proxy final : public Actor {
 public:
  Proxy(std::shared_ptr<Handle> handle, ActorId id) : handle_(std::move(handle)), id_(id) {}

  void on_start() override { trap_exit(true); }

  bool receive(Message& m) override {
    if (m.is<wasm::DataStreamMessage>()) return forward_stream(m);
    if (!m.is<Envelope>()) return false;  // only Envelopes and data streams cross nodes
    Envelope e = std::move(m.as<Envelope>());
    std::shared_lock lock(handle_->mutex);
    RemoteActors* remote = handle_->self;
    ProxyFrame frame;
    if (!m.request) {
      if (!remote) return true;
      RemoteEnvelope tell;
      tell.to_serial = id_.serial;
      e.kind = EnvelopeKind::kTell;
      tell.envelope = std::move(e);
      frame = ProxyFrame{id_.node, 0, encode_remote_envelope(tell)};
    } else {
      auto reply = std::make_shared<ReplyPromise>(take_reply());
      if (!remote) {
        reply->fail(Error{BaseErrc::kUnavailable, "the node is shutting down"});
        return true;
      }
      auto timeout = kProxyAskTimeout;
      if (e.deadline != Clock::TimePoint{}) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            e.deadline - system().clock().now());
        timeout = std::clamp(left, std::chrono::milliseconds(1), kProxyAskTimeout);
      }
      frame = remote->proxy_request(id_, std::move(e), timeout,
                                    [reply](Result<Bytes> r) { reply->deliver(std::move(r)); });
      if (frame.node == 0) return true;  // failed already (stopping)
    }
    if (!remote->send_proxy_frame(frame)) wait_for_room(*remote, std::move(frame));
    return true;
  }

  // A frame still waiting for room is never sent: its request fails now, not at its deadline.
  void on_stop() override {
    if (!held_) return;
    std::shared_lock lock(handle_->mutex);
    if (handle_->self) {
      handle_->self->fail_proxy_frame(
          *held_, Error{ClusterErrc::kNoConnection,
                        "the stand-in of " + id_.to_string() + " stopped before it was sent"});
    }
    held_.reset();
  }

  void on_exit(const ExitSignal& signal) override {
    if (!signal.reason.abnormal()) return;
    std::shared_lock lock(handle_->mutex);
    if (handle_->self) handle_->self->send_exit(id_, signal.reason);
  }

 private:
  bool forward_stream(Message& m) {
    auto& chunk = m.as<wasm::DataStreamMessage>();
    std::optional<ReplyPromise> reply;
    if (m.request) reply.emplace(take_reply());
    std::shared_lock lock(handle_->mutex);
    RemoteActors* remote = handle_->self;
    if (!remote) {
      if (reply) reply->fail(Error{BaseErrc::kUnavailable, "the node is shutting down"});
      return true;
    }
    auto frame = remote->proxy_stream(id_, std::move(chunk), std::move(reply));
    if (frame && !remote->send_proxy_frame(*frame)) wait_for_room(*remote, std::move(*frame));
    return true;
  }

  // The lane to the node is full: this proxy takes no more messages (its mailbox fills and
  // pauses its senders) until the frame has gone.
  void wait_for_room(RemoteActors& remote, ProxyFrame frame) {
    held_ = std::move(frame);
    auto resume = wait_then([this] { send_held(); });
    if (!remote.transport_.notify_when_room(held_->node, held_->lane, held_->body.size(), resume)) {
      // Larger than the lane could ever queue: never sent.
      remote.fail_proxy_frame(*held_, Error{NetErrc::kFrameTooLarge,
                                            "a message larger than "
                                            "its lane's queue"});
      held_.reset();
      resume();
    }
  }
  void send_held() {
    if (!held_) return;
    std::shared_lock lock(handle_->mutex);
    RemoteActors* remote = handle_->self;
    if (remote == nullptr) {
      held_.reset();
      return;
    }
    ProxyFrame frame = std::move(*held_);
    held_.reset();
    if (!remote->send_proxy_frame(frame)) wait_for_room(*remote, std::move(frame));
  }

  std::shared_ptr<Handle> handle_;
  ActorId id_;
  std::optional<ProxyFrame> held_;  // waiting for room in the lane
};

// Monitors this node's actors that other nodes watch, and reports their deaths.
class RemoteActors::Watcher final : public Actor {
 public:
  explicit Watcher(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}

  bool receive(Message& m) override {
    if (!m.is<WatchTarget>()) return false;
    monitor(m.as<WatchTarget>().target);
    return true;
  }
  void on_down(const Down& down) override {
    std::shared_lock lock(handle_->mutex);
    if (handle_->self) handle_->self->on_local_down(down.actor.id(), down.reason);
  }

 private:
  std::shared_ptr<Handle> handle_;
};

// The registry and the stand-ins, for the runtime (remote_directory.h), through the handle.
class RemoteActors::Directory final : public RemoteDirectory {
 public:
  explicit Directory(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}

  std::vector<RemoteActorEntry> registered() const override {
    std::shared_lock lock(handle_->mutex);
    std::vector<RemoteActorEntry> out;
    if (!handle_->self) return out;
    for (RemoteName& n : handle_->self->names()) {
      out.push_back(RemoteActorEntry{std::move(n.name), n.id, std::move(n.type)});
    }
    return out;
  }
  std::optional<RemoteActorEntry> lookup(const std::string& name) const override {
    std::shared_lock lock(handle_->mutex);
    if (!handle_->self) return std::nullopt;
    auto n = handle_->self->lookup(name);
    if (!n) return std::nullopt;
    return RemoteActorEntry{std::move(n->name), n->id, std::move(n->type)};
  }
  std::optional<RemoteActorEntry> registered_id(ActorId id) const override {
    std::shared_lock lock(handle_->mutex);
    if (!handle_->self) return std::nullopt;
    return handle_->self->find_registered([id](NodeId node, const RegistryEntry& e) {
      return node == id.node && e.serial == id.serial;
    });
  }
  std::optional<RemoteActorEntry> first_registered(
      const std::function<bool(std::string_view type)>& matches) const override {
    std::shared_lock lock(handle_->mutex);
    if (!handle_->self) return std::nullopt;
    return handle_->self->find_registered(
        [&matches](NodeId, const RegistryEntry& e) { return matches(e.type); });
  }
  Result<ActorRef> stand_in(ActorId id, const std::string& type_name) override {
    std::shared_lock lock(handle_->mutex);
    if (!handle_->self) return Error{BaseErrc::kUnavailable, "the node is shutting down"};
    return handle_->self->proxy(id, type_name);
  }

 private:
  std::shared_ptr<Handle> handle_;
};

RemoteActors::RemoteActors(ActorSystem& system, net::MeshTransport& transport, asio::io_context& io,
                           Options options)
    : system_(system), transport_(transport), io_(io), options_(options) {
  outbox_->transport = &transport;
  handle_->self = this;
  directory_ = std::make_shared<Directory>(handle_);
  // Announcements count from the wall clock: a restarted node's come after its last run's.
  next_sequence_ =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  // An internal actor ("actor" type): never announced or reachable from other nodes.
  watcher_ = system_.spawn(std::make_unique<Watcher>(handle_), SpawnOptions{});
}

RemoteActors::~RemoteActors() { stop(); }

void RemoteActors::stop() {
  {
    std::lock_guard lock(outbox_->mutex);
    outbox_->transport = nullptr;
  }
  {
    std::unique_lock lock(handle_->mutex);
    handle_->self = nullptr;
  }
  // In one step: from here no proxy is recorded and no ask is pending.
  std::map<NodeId, std::map<std::uint64_t, ActorRef>> proxies;
  std::map<std::uint64_t, Pending> pending;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    proxies.swap(proxies_);
    pending.swap(pending_);
  }
  // The stand-ins of other nodes' actors can reach nothing now.
  for (auto& [node, refs] : proxies) {
    for (auto& [serial, p] : refs) system_.stop(p, ExitReason::noconnection());
  }
  if (watcher_) system_.stop(watcher_);
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
  request(node, id, net::FrameType::kEnvelope, encode_remote_envelope(remote), timeout,
          std::move(done));
}

bool RemoteActors::add_pending(NodeId node, std::uint64_t id, std::chrono::milliseconds timeout,
                               std::function<void(Result<Bytes>)> done) {
  auto timer = std::make_shared<asio::steady_timer>(io_, timeout);
  {
    std::unique_lock lock(mutex_);
    if (stopped_) {
      lock.unlock();  // `done` may call back in
      done(Error{BaseErrc::kUnavailable, "the node is shutting down"});
      return false;
    }
    pending_.emplace(id, Pending{node, std::move(done), timer});
  }
  timer->async_wait([this, id](boost::system::error_code ec) {
    if (ec) return;  // answered first
    complete(id, Error{BaseErrc::kTimedOut, "no reply from the remote node in time"}, true);
  });
  return true;
}

void RemoteActors::request(NodeId node, std::uint64_t id, net::FrameType type, const Bytes& body,
                           std::chrono::milliseconds timeout,
                           std::function<void(Result<Bytes>)> done) {
  if (!add_pending(node, id, timeout, std::move(done))) return;
  auto sent = transport_.send(node, net::Lane::kRpcReliable, type, body);
  if (!sent.ok()) complete(id, sent.error(), false);
}

std::function<void(Result<Bytes>)> RemoteActors::reply_to(NodeId from,
                                                          std::uint64_t request_id) const {
  return [outbox = outbox_, from, request_id](Result<Bytes> result) {
    const Bytes body = encode_remote_reply(RemoteReply{request_id, std::move(result)});
    // The asker may be gone: a reply nobody waits for is dropped there, or here.
    std::lock_guard lock(outbox->mutex);
    if (outbox->transport) {
      // On rpc-signal: a reply never waits behind a request held for a full mailbox.
      (void)outbox->transport->send(from, net::Lane::kRpcSignal, net::FrameType::kReply, body);
    }
  };
}

void RemoteActors::complete(std::uint64_t request_id, Result<Bytes> result, bool timed_out,
                            NodeId from) {
  Pending p;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(request_id);
    // Only the node asked may answer: another's REPLY with a guessed id is dropped.
    if (it == pending_.end() || (from != 0 && it->second.node != from)) {
      if (!timed_out) ++counters_.late_replies;
      return;
    }
    p = std::move(it->second);
    pending_.erase(it);
  }
  if (!timed_out) p.timer->cancel();
  p.done(std::move(result));
}

net::FrameVerdict RemoteActors::on_frame(const net::PeerInfo& peer, const net::Frame& frame,
                                         const net::FrameHold& hold) {
  constexpr auto kTaken = net::FrameVerdict::kTaken;
  switch (frame.type) {
    case net::FrameType::kEnvelope: {
      auto remote = decode_remote_envelope(frame.body);
      if (!remote.ok()) break;
      return handle_envelope(peer, std::move(remote).value(), hold);
    }
    case net::FrameType::kReply: {
      auto reply = decode_remote_reply(frame.body);
      if (!reply.ok()) break;
      handle_reply(peer.id, std::move(reply).value());
      return kTaken;
    }
    case net::FrameType::kRegistry: {
      auto announcement = decode_registry(frame.body);
      if (!announcement.ok()) break;
      handle_registry(peer.id, std::move(announcement).value());
      return kTaken;
    }
    case net::FrameType::kWatch: {
      auto serial = decode_watch(frame.body);
      if (!serial.ok()) break;
      handle_watch(peer.id, *serial);
      return kTaken;
    }
    case net::FrameType::kDown: {
      auto down = decode_remote_exit(frame.body);
      if (!down.ok()) break;
      handle_down(peer.id, std::move(down).value());
      return kTaken;
    }
    case net::FrameType::kExit: {
      auto exit = decode_remote_exit(frame.body);
      if (!exit.ok()) break;
      handle_exit(std::move(exit).value());
      return kTaken;
    }
    case net::FrameType::kStream: {
      auto chunk = decode_remote_stream(frame.body);
      // Its kind names its lane: a reliable chunk on stream-latency-first (or the reverse) is
      // malformed, so a peer cannot have the never-held lane held.
      if (!chunk.ok() || chunk->reliable != (frame.lane == net::Lane::kStreamReliable)) break;
      return handle_stream(peer, std::move(chunk).value(), hold);
    }
    case net::FrameType::kSpawn: {
      auto spawn = decode_remote_spawn(frame.body);
      if (!spawn.ok()) break;
      handle_spawn(peer.id, std::move(spawn).value());
      return kTaken;
    }
    default:
      return kTaken;
  }
  std::lock_guard lock(mutex_);
  ++counters_.malformed_frames;
  spdlog::debug("cluster: a malformed {} frame from {}", net::frame_type_name(frame.type),
                net::node_key_text(peer.identity));
  return kTaken;
}

void RemoteActors::handle_reply(NodeId from, RemoteReply reply) {
  complete(reply.request_id, std::move(reply.result), false, from);
}

void RemoteActors::handle_registry(NodeId node, RegistryAnnouncement announcement) {
  std::lock_guard lock(mutex_);
  NodeNames& names = names_[node];
  // Stale unless what is held has expired (a restarted node counts from a new start).
  if (announcement.sequence <= names.sequence && names.sequence != 0 &&
      names.expires > std::chrono::steady_clock::now()) {
    return;
  }
  names.sequence = announcement.sequence;
  names.expires = std::chrono::steady_clock::now() + std::chrono::milliseconds(announcement.ttl_ms);
  names.entries = std::move(announcement.entries);
}

void RemoteActors::on_member_gone(NodeId node) {
  std::vector<Pending> failed;
  std::vector<ActorRef> proxies;
  std::vector<ActorRef> orphans;  // spawned here for that node, tied to it
  {
    std::lock_guard lock(mutex_);
    gone_.insert(node);
    names_.erase(node);
    if (auto it = proxies_.find(node); it != proxies_.end()) {
      for (auto& [serial, p] : it->second) proxies.push_back(std::move(p));
      proxies_.erase(it);
    }
    for (auto it = watches_.begin(); it != watches_.end();) {
      watch_count_ -= it->second.erase(node);
      it = it->second.empty() ? watches_.erase(it) : std::next(it);
    }
    watches_by_peer_.erase(node);
    if (auto it = linked_spawns_.find(node); it != linked_spawns_.end()) {
      for (std::uint64_t serial : it->second) {
        if (ActorRef r = system_.find(ActorId{system_.node_id(), serial})) orphans.push_back(r);
      }
      linked_spawns_.erase(it);
    }
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
  // Monitors of its actors get DOWN noconnection, links fire: each stand-in dies once.
  for (ActorRef& p : proxies) system_.stop(p, ExitReason::noconnection());
  for (ActorRef& o : orphans) system_.stop(o, ExitReason::noconnection());
}

Result<ActorRef> RemoteActors::proxy(ActorId id, const std::string& type_name) {
  if (!id.valid() || id.node == system_.node_id()) {
    return Error{BaseErrc::kInvalidArgument, "not an actor of another node: " + id.to_string()};
  }
  if (ActorRef existing = system_.find(id)) return existing;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return Error{BaseErrc::kUnavailable, "the node is shutting down"};
    // Bounded per peer: a peer naming ever new callers of its own must not grow this node.
    auto& of_node = proxies_[id.node];
    if (of_node.size() >= kMaxProxiesPerPeer) {
      std::erase_if(of_node, [](const auto& entry) { return !entry.second.alive(); });
    }
    if (of_node.size() >= kMaxProxiesPerPeer) {
      ++counters_.proxies_refused;
      return Error{NetErrc::kOverloaded,
                   "too many stand-ins for actors of node " + fmt::format("{:x}", id.node)};
    }
  }
  SpawnOptions options;
  options.type_name = type_name.empty() ? std::string(kUnknownRemoteType)
                                        : type_name.substr(0, kMaxRemoteTextBytes);
  options.foreign_id = id;
  // Bounded: while it waits for room in its lane its senders are paused, never buffered.
  options.mailbox.bound = kProxyMailboxBound;
  options.mailbox.policy = OverflowPolicy::kBackpressure;
  ActorRef ref = system_.spawn(std::make_unique<Proxy>(handle_, id), options);
  if (!ref) {
    // Another thread made it first (or the system is stopping).
    if (ActorRef existing = system_.find(id)) return existing;
    return Error{BaseErrc::kUnavailable, "the node is shutting down"};
  }
  bool recorded = false;
  {
    std::lock_guard lock(mutex_);
    // Recorded only while its node counts as present: otherwise no DOWN could ever come.
    if (!stopped_ && !gone_.contains(id.node) && transport_.connected(id.node)) {
      proxies_[id.node][id.serial] = ref;  // replaces a stand-in that died here
      recorded = true;
    }
  }
  if (!recorded) {
    system_.stop(ref, ExitReason::noconnection());
    return ref;
  }
  (void)transport_.send(id.node, net::Lane::kSystem, net::FrameType::kWatch,
                        encode_watch(id.serial));
  return ref;
}

void RemoteActors::handle_watch(NodeId from, std::uint64_t serial) {
  ActorRef target = system_.find(ActorId{system_.node_id(), serial});
  if (target && wasm::is_node_internal_type(target.type_name())) target = ActorRef{};
  if (!target) {
    (void)transport_.send(from, net::Lane::kSystem, net::FrameType::kDown,
                          encode_remote_exit(RemoteExit{serial, ExitReason::error("noproc")}));
    return;
  }
  bool first = false;
  bool refused = false;
  {
    std::lock_guard lock(mutex_);
    refused = watch_count_ >= kMaxWatches || watches_by_peer_[from] >= kMaxWatchesPerPeer;
    if (refused) {
      ++counters_.watches_refused;
    } else {
      auto& watchers = watches_[serial];
      first = watchers.empty();
      if (watchers.insert(from).second) {
        ++watch_count_;
        ++watches_by_peer_[from];
      }
    }
  }
  if (refused) {
    // Said, so the proxy dies rather than waiting for a DOWN that would never come.
    (void)transport_.send(from, net::Lane::kSystem, net::FrameType::kDown,
                          encode_remote_exit(RemoteExit{
                              serial, ExitReason::error("watch refused: too many watches")}));
    return;
  }
  if (first) system_.tell(watcher_, WatchTarget{target});
}

void RemoteActors::on_local_down(ActorId id, const ExitReason& reason) {
  std::set<NodeId> watchers;
  {
    std::lock_guard lock(mutex_);
    auto it = watches_.find(id.serial);
    if (it == watches_.end()) return;
    watchers = std::move(it->second);
    watch_count_ -= watchers.size();
    for (NodeId n : watchers) {
      if (auto w = watches_by_peer_.find(n); w != watches_by_peer_.end() && --w->second == 0) {
        watches_by_peer_.erase(w);
      }
    }
    watches_.erase(it);
  }
  const Bytes body = encode_remote_exit(RemoteExit{id.serial, reason});
  std::uint64_t unsent = 0;
  for (NodeId node : watchers) {
    if (!transport_.send(node, net::Lane::kSystem, net::FrameType::kDown, body).ok()) ++unsent;
  }
  if (unsent != 0) {
    std::lock_guard lock(mutex_);
    counters_.unsent_downs += unsent;
  }
}

void RemoteActors::handle_down(NodeId from, RemoteExit down) {
  ActorRef proxy;
  {
    std::lock_guard lock(mutex_);
    auto it = proxies_.find(from);
    if (it == proxies_.end()) return;
    auto p = it->second.find(down.serial);
    if (p == it->second.end()) return;
    proxy = std::move(p->second);
    it->second.erase(p);
  }
  if (proxy) system_.stop(proxy, std::move(down.reason));
}

void RemoteActors::handle_exit(RemoteExit exit) {
  ActorRef target = system_.find(ActorId{system_.node_id(), exit.serial});
  if (!target || wasm::is_node_internal_type(target.type_name())) return;
  system_.exit(target, ActorRef{}, std::move(exit.reason));
}

void RemoteActors::send_exit(ActorId to, const ExitReason& reason) {
  (void)transport_.send(to.node, net::Lane::kSystem, net::FrameType::kExit,
                        encode_remote_exit(RemoteExit{to.serial, reason}));
}

std::vector<RegistryEntry> RemoteActors::registry_entries() const {
  std::vector<RegistryEntry> entries;
  for (auto& [name, ref] : system_.named()) {
    if (entries.size() >= kMaxRegistryEntries) break;
    if (name.size() > kMaxRemoteNameBytes || wasm::is_node_internal_type(ref.type_name())) continue;
    entries.push_back(
        RegistryEntry{name, ref.id().serial, ref.type_name().substr(0, kMaxRemoteTextBytes)});
  }
  std::sort(entries.begin(), entries.end(),
            [](const RegistryEntry& x, const RegistryEntry& y) { return x.name < y.name; });
  return entries;
}

Bytes RemoteActors::registry_frame(std::vector<RegistryEntry> entries) {
  RegistryAnnouncement a;
  a.sequence = next_sequence_.fetch_add(1);
  a.ttl_ms = static_cast<std::uint32_t>(options_.registry_ttl.count());
  a.entries = std::move(entries);
  return encode_registry(a);
}

Bytes RemoteActors::registry_frame() { return registry_frame(registry_entries()); }

void RemoteActors::announce_if_changed() {
  auto entries = registry_entries();
  const auto key = [](const std::vector<RegistryEntry>& v) {
    std::string k;
    for (const auto& e : v) k += e.name + '\0' + std::to_string(e.serial) + '\0' + e.type + '\n';
    return k;
  };
  std::string now = key(entries);
  {
    std::lock_guard lock(mutex_);
    if (now == last_announced_) return;
    last_announced_ = std::move(now);
  }
  const Bytes frame = registry_frame(std::move(entries));
  for (const net::PeerInfo& p : transport_.peers()) {
    (void)transport_.send(p.id, net::Lane::kSystem, net::FrameType::kRegistry, frame);
  }
}

void RemoteActors::on_peer_up(NodeId peer) {
  (void)transport_.send(peer, net::Lane::kSystem, net::FrameType::kRegistry, registry_frame());
  // Watches again for its actors: a DOWN may have been lost with the connection, and a node
  // that restarted under the same id answers noproc for what its last run had.
  std::vector<std::uint64_t> serials;
  {
    std::lock_guard lock(mutex_);
    gone_.erase(peer);
    if (auto it = proxies_.find(peer); it != proxies_.end()) {
      for (const auto& [serial, p] : it->second) serials.push_back(serial);
    }
  }
  for (std::uint64_t serial : serials) {
    (void)transport_.send(peer, net::Lane::kSystem, net::FrameType::kWatch, encode_watch(serial));
  }
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

std::optional<RemoteActorEntry> RemoteActors::find_registered(
    const std::function<bool(NodeId, const RegistryEntry&)>& matches) const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  std::optional<RemoteActorEntry> best;
  for (const auto& [node, names] : names_) {  // by node id, ascending
    if (names.expires <= now) continue;
    for (const RegistryEntry& e : names.entries) {
      const ActorId id{node, e.serial};
      if ((!best || id < best->id) && matches(node, e)) best = RemoteActorEntry{e.name, id, e.type};
    }
    if (best) return best;  // the lowest node holding one
  }
  return best;
}

RemoteActors::Counters RemoteActors::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace troupe
