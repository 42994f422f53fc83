// RemoteActors: actor messages between this node and the others — Envelope tells and asks to
// an actor of another node (by serial or by name), the requests other nodes send to this one's
// actors, and the cluster-wide name registry.
//
// - Asks carry their correlation id (this node, a request counter) and their deadline (as the
//   time left); the asker's node fails the ask at the deadline, and a reply that comes later is
//   dropped and counted. When a node is declared dead or leaves, every ask pending on it fails
//   at once with cluster/noconnection, not at its timeout. Tells are at most once.
// - Requests from other nodes are delivered without blocking the I/O thread (try_tell /
//   try_ask_then). A backpressure mailbox at its bound holds the frame (net::FrameHold): its
//   lane waits, withholding credit, until the mailbox has room, so the sender slows down; after
//   the connection's max_hold it is dropped (counted; a request answers mailbox-full). Other
//   full mailboxes drop a tell (counted) and answer a request runtime/mailbox-full. Replies go
//   on rpc-signal, so none waits behind a held request.
// - Proxies (proxy()) forward on rpc-reliable; when that lane's queue is full they wait for
//   room (Actor::wait_then) instead of dropping, and their bounded backpressure mailboxes
//   then pause their local senders.
// - The registry: each node announces the names of its live actors to every peer when the peer
//   connects and every `refresh` after; an announcement holds for `ttl` unless renewed, and a
//   dead or departed node's names go at once. Two nodes claiming one name: the lower node id
//   wins, on every node alike. A name of this node's own always wins over the cluster's.
//
// Threading: every function may be called from any thread (a mutex guards the pending asks and
// the registry); on_* run on the transport's I/O threads or the cluster's thread and never
// block. Lifetime: the ActorSystem, the transport and the io_context outlive this object;
// stop() fails what is pending (unavailable) and must run before the io_context stops.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's asio, whose awaitable.hpp uses std::exchange unincluded
#include <boost/asio.hpp>
// clang-format on

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/cluster/remote_child.h"
#include "troupe/cluster/remote_envelope.h"
#include "troupe/net/mesh_transport.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/remote_directory.h"

namespace troupe::wasm {
struct DataStreamMessage;
}  // namespace troupe::wasm

namespace troupe {

class RemoteActors {
 public:
  struct Options {
    std::chrono::milliseconds registry_ttl{30000};
    std::chrono::milliseconds registry_refresh{10000};
  };
  struct Counters {
    std::uint64_t late_replies = 0;     // after the deadline, or for no pending ask
    std::uint64_t dropped_tells = 0;    // no such actor, or its mailbox full
    std::uint64_t failed_on_death = 0;  // asks failed because their node died or left
    std::uint64_t malformed_frames = 0;
    std::uint64_t watches_refused = 0;  // past the cap on watches held for other nodes
    std::uint64_t proxies_refused = 0;  // past kMaxProxiesPerPeer stand-ins for one node
    std::uint64_t forged_callers = 0;   // envelopes naming a caller of another node than the
                                        // sender's (the caller is cleared)
    std::uint64_t unsent_downs = 0;     // DOWNs with no connection to send them on (the
                                        // watcher's re-WATCH on reconnect learns of the death)
    std::uint64_t held_frames = 0;      // envelopes held for a full backpressure mailbox
    std::uint64_t hold_expired = 0;     // of those, dropped after max_hold
    std::uint64_t proxy_waits = 0;      // times a proxy waited for room in its lane
    std::uint64_t proxy_drops = 0;      // messages a proxy could not send (no connection, ...)
    std::uint64_t stream_drops = 0;     // latency-first chunks dropped (lane or mailbox behind)
  };
  // Where a remote name points.
  struct RemoteName {
    std::string name;
    ActorId id;
    std::string type;
  };

  RemoteActors(ActorSystem& system, net::MeshTransport& transport, boost::asio::io_context& io,
               Options options);
  ~RemoteActors();
  RemoteActors(const RemoteActors&) = delete;
  RemoteActors& operator=(const RemoteActors&) = delete;
  void stop();

  // To the actor `to_serial` (or, when 0, the one registered as `to_name`) on `node`.
  // Errors: net unreachable/overloaded (not sent), base invalid-argument.
  Result<void> tell(NodeId node, std::uint64_t to_serial, const std::string& to_name,
                    Envelope envelope);
  // `done` runs once: the reply bytes, the remote actor's error, timed-out at `timeout`, or
  // cluster/noconnection when the node dies or leaves first. On an I/O, timer or cluster
  // thread: short, non-blocking.
  void ask(NodeId node, std::uint64_t to_serial, const std::string& to_name, Envelope envelope,
           std::chrono::milliseconds timeout, std::function<void(Result<Bytes>)> done);

  // A local stand-in for actor `id` of another node, to tell and ask (Envelope messages),
  // monitor and link like a local actor: its monitors get DOWN with the remote actor's exit
  // reason, or `noconnection` when its node dies or leaves (once: the stand-in dies once); a
  // linked local actor that exits abnormally sends the remote actor an exit signal. One per
  // remote actor. A node that is not connected gives one that is dead already (noconnection).
  // Errors: invalid-argument (an id of this node), unavailable (stopping).
  Result<ActorRef> proxy(ActorId id, const std::string& type_name = "");

  // Remote spawn. `spawn` sends `package` (with the request's name, limits, ...) to `node`,
  // which verifies it against its own trust store and spawns it, and calls `done` once: the
  // new actor's serial and type, the target's error (it does not accept remote spawns, the
  // package is untrusted, ...), timed-out at `timeout` (the actor may still have been
  // spawned), or cluster/noconnection when the node dies or leaves first. Errors at once:
  // invalid-argument (this node, a bad timeout), too-large (a package past one frame).
  void spawn(NodeId node, RemoteSpawn request, std::chrono::milliseconds timeout,
             std::function<void(Result<RemoteSpawned>)> done);
  // What this node does with other nodes' SPAWN requests: `handler` runs on an I/O thread and
  // must not block; it calls its `done` once, from any thread. Without one (the default) every
  // SPAWN is answered permission-denied. At most kMaxIncomingSpawns run at once, holding at
  // most kMaxIncomingSpawnBytes of packages (beyond:
  // overloaded). A spawn that completes after the asker's deadline is stopped again and
  // answered timed-out (nobody would supervise it). Set before the transport starts delivering
  // frames, or never.
  using SpawnHandler = std::function<void(NodeId from, RemoteSpawn request,
                                          std::function<void(Result<RemoteSpawned>)> done)>;
  void set_spawn_handler(SpawnHandler handler);
  // A SPAWN marked `linked` ties its actor to the node that asked: when that node is declared
  // dead or leaves, the actor is stopped (noconnection), as its supervisor is there.
  static constexpr std::size_t kMaxIncomingSpawns = 16;  // a peer: at most half of each
  // Stand-ins (proxy()) for one node's actors at once; beyond: overloaded.
  static constexpr std::size_t kMaxProxiesPerPeer = 16384;
  // A proxy's mailbox: backpressure at this many messages (its senders pause while it waits).
  static constexpr std::size_t kProxyMailboxBound = 1024;
  // An actor with an unbounded mailbox takes other nodes' messages while it holds fewer than
  // this many; beyond, they are held like those for a full backpressure mailbox (checked again
  // every kBacklogRetry: an unbounded mailbox has no room callback), so no peer grows it
  // without end. High enough that ordinary traffic never meets it: at 1,024 the 10 ms retries
  // halved the mesh fan-in benchmark.
  static constexpr std::size_t kMaxNetworkBacklog = 16384;
  static constexpr std::chrono::milliseconds kBacklogRetry{5};
  static constexpr std::size_t kMaxIncomingSpawnBytes = std::size_t{64} << 20;

  // Children and pool workers on other nodes (remote_child.h): each call of the factory makes
  // a local stand-in that spawns `spec.package` on the next node of `spec.nodes` (as a
  // temporary child there: the local supervisor restarts it, not the target's). Errors at
  // once: invalid-argument (no nodes, this node, no package).
  Result<std::function<std::unique_ptr<Actor>()>> child_factory(RemoteChildSpec spec);

  // This object as the runtime's RemoteDirectory (the registry and stand-ins, for guests'
  // calls across nodes): one object for this one's life, which the node installs with
  // ActorSystem::set_remote_directory. It may outlive this object: then it finds nothing.
  std::shared_ptr<RemoteDirectory> directory() const { return directory_; }

  std::optional<RemoteName> lookup(const std::string& name) const;
  // Every name the cluster holds (other nodes'), by name.
  std::vector<RemoteName> names() const;
  Counters counters() const;

  // Wiring (Cluster calls these).
  net::FrameVerdict on_frame(const net::PeerInfo& peer, const net::Frame& frame,
                             const net::FrameHold& hold);
  void on_peer_up(NodeId peer);      // announce this node's names to it
  void on_member_gone(NodeId node);  // dead or left
  void announce();                   // to every connected peer (periodic)
  // Announces at once when this node's names changed since the last check (a name spawned
  // after the peers connected reaches them within a check interval, not a refresh).
  void announce_if_changed();

 private:
  class Proxy;
  class Watcher;
  class RemoteChild;
  class Directory;
  // What actors (the proxies, the watcher) reach this object through: they may outlive it
  // (they stop with the actor system), so stop() empties it under the exclusive lock.
  struct Handle {
    std::shared_mutex mutex;
    RemoteActors* self = nullptr;
  };
  // How long a proxy waits for a remote reply when the ask's envelope names no deadline (the
  // asker's own timeout still fails it first).
  static constexpr std::chrono::milliseconds kProxyAskTimeout{60000};
  static constexpr std::size_t kMaxWatches = 65536;
  static constexpr std::size_t kMaxWatchesPerPeer = 16384;

  struct Pending {
    NodeId node = 0;
    std::function<void(Result<Bytes>)> done;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  struct NodeNames {
    std::uint64_t sequence = 0;
    std::chrono::steady_clock::time_point expires;
    std::vector<RegistryEntry> entries;
  };

  net::FrameVerdict handle_envelope(const net::PeerInfo& peer, RemoteEnvelope remote,
                                    const net::FrameHold& hold);
  // Holds a frame for `target`'s full mailbox; false (drop it) on its last offer.
  bool hold_for(const ActorRef& target, const net::FrameHold& hold);
  // An unbounded mailbox with kMaxNetworkBacklog messages or more: full, for other nodes.
  static bool backlogged(const ActorRef& target);
  // A proxy's send: the encoded frame, and for a request its id (0 for a tell).
  struct ProxyFrame {
    NodeId node = 0;
    std::uint64_t request_id = 0;
    Bytes body;
    net::Lane lane = net::Lane::kRpcReliable;
    net::FrameType type = net::FrameType::kEnvelope;
  };
  // Sends it; false when its lane is full (the caller waits for room and calls again). A
  // failure for good drops a tell (counted) and fails a request. On stream-latency-first a
  // full lane drops the chunk (counted) instead: that lane never waits.
  bool send_proxy_frame(const ProxyFrame& frame);
  // A proxy's data-stream chunk (the message of a guest's send-data-stream): the frame to send,
  // or nothing when it failed at once (the request answered, a latency-first chunk counted).
  std::optional<ProxyFrame> proxy_stream(ActorId to, wasm::DataStreamMessage chunk,
                                         std::optional<ReplyPromise> reply);
  net::FrameVerdict handle_stream(const net::PeerInfo& peer, RemoteStreamChunk chunk,
                                  const net::FrameHold& hold);
  // A request (an ENVELOPE ask, a reliable STREAM chunk) for `target` from node `from`: asked
  // without blocking (try_ask_then), the REPLY sent when answered; held while the target is
  // full; answered at once when it cannot be asked. `prepare` sees the time left first.
  template <class M, class Prepare>
  net::FrameVerdict deliver_request(NodeId from, std::uint64_t request_id, const ActorRef& target,
                                    const std::string& who, std::uint32_t time_left_ms,
                                    const net::FrameHold& hold, M message, Prepare prepare);
  void fail_proxy_frame(const ProxyFrame& frame, const Error& why);
  ProxyFrame proxy_request(ActorId to, Envelope envelope, std::chrono::milliseconds timeout,
                           std::function<void(Result<Bytes>)> done);
  void handle_spawn(NodeId from, RemoteSpawn request);
  // Sends REPLY `request_id` to `from` through the outbox (safe after this object is gone).
  std::function<void(Result<Bytes>)> reply_to(NodeId from, std::uint64_t request_id) const;
  void link_to_requester(NodeId from, std::uint64_t serial);
  // The registered actor `matches` picks with the lowest id, scanning under the lock.
  std::optional<RemoteActorEntry> find_registered(
      const std::function<bool(NodeId, const RegistryEntry&)>& matches) const;
  // Registers a pending request to `node` (timer armed) and sends `body`; `done` as for ask.
  void request(NodeId node, std::uint64_t id, net::FrameType type, const Bytes& body,
               std::chrono::milliseconds timeout, std::function<void(Result<Bytes>)> done);
  // Registers it only; false (and `done` called) when stopping.
  bool add_pending(NodeId node, std::uint64_t id, std::chrono::milliseconds timeout,
                   std::function<void(Result<Bytes>)> done);
  void handle_reply(NodeId from, RemoteReply reply);
  void handle_registry(NodeId node, RegistryAnnouncement announcement);
  void handle_watch(NodeId from, std::uint64_t serial);
  void handle_down(NodeId from, RemoteExit down);
  void handle_exit(RemoteExit exit);
  void on_local_down(ActorId id, const ExitReason& reason);
  void send_exit(ActorId to, const ExitReason& reason);
  // `from`: the node the reply came from (0: this node: a timeout or a failed send); a reply
  // from another node than the one asked is ignored.
  void complete(std::uint64_t request_id, Result<Bytes> result, bool timed_out, NodeId from = 0);
  std::vector<RegistryEntry> registry_entries() const;
  Bytes registry_frame(std::vector<RegistryEntry> entries);
  Bytes registry_frame();

  // How replies to other nodes' requests leave: the actors answer whenever they do (even
  // after this object is gone, at the system's shutdown), so the answer holds this, not
  // `this`; stop() empties it under its lock.
  struct Outbox {
    std::mutex mutex;
    net::MeshTransport* transport = nullptr;
  };

  ActorSystem& system_;
  net::MeshTransport& transport_;
  std::shared_ptr<Outbox> outbox_ = std::make_shared<Outbox>();
  std::shared_ptr<Handle> handle_ = std::make_shared<Handle>();
  ActorRef watcher_;
  std::shared_ptr<RemoteDirectory> directory_;
  boost::asio::io_context& io_;
  const Options options_;
  std::atomic<std::uint64_t> next_request_{1};
  std::atomic<std::uint64_t> next_sequence_{1};

  mutable std::mutex mutex_;
  std::map<std::uint64_t, Pending> pending_;
  std::map<NodeId, NodeNames> names_;
  std::map<NodeId, std::map<std::uint64_t, ActorRef>> proxies_;  // by node, then serial
  std::set<NodeId> gone_;  // declared dead or left, until they connect again
  std::map<std::uint64_t, std::set<NodeId>> watches_;  // this node's actors other nodes watch
  std::size_t watch_count_ = 0;
  std::string last_announced_;  // announce_if_changed's last name set
  std::map<NodeId, std::size_t> watches_by_peer_;
  Counters counters_;
  bool stopped_ = false;
  SpawnHandler spawn_handler_;  // set once, before frames arrive
  struct SpawnBudget {
    struct Share {
      std::size_t count = 0;
      std::size_t bytes = 0;
    };
    std::mutex mutex;
    std::size_t count = 0;
    std::size_t bytes = 0;
    std::map<NodeId, Share> by_peer;  // at most half of each, per peer
  };
  std::shared_ptr<SpawnBudget> incoming_spawns_ = std::make_shared<SpawnBudget>();
  std::map<NodeId, std::vector<std::uint64_t>> linked_spawns_;  // by the node that asked
};

}  // namespace troupe
