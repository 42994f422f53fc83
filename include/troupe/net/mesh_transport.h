// MeshTransport: this node's side of the mesh — the listeners (TCP and Unix-domain), the
// connections to peers (one per peer once established), dialling with capped exponential
// backoff and jitter, and the routing of frames by peer NodeId, so that whoever holds a
// (node id, actor id) reference keeps it across reconnections.
//
// Bounded: at most Options::max_handshakes connections that have not finished their handshake
// (more are closed on accept), at most Options::max_peers established peers, per-lane send
// queues (OutgoingLanes).
//
// Two nodes that dial each other at once may end up with two connections. Neither is closed
// for it (closing one loses what is in flight on it): each node sends on the connection it
// had first — its sending connection — and reads from both, so each direction keeps its order.
// A newer connection from a peer with a higher incarnation (it restarted) becomes the sending
// connection and the older ones close; a third connection closes the oldest that is not the
// sending one.
//
// Threading: Options::io_threads Asio threads run every socket; each connection runs on a
// strand of its own. Every public function may be called from any thread and never blocks on
// the network. The Handlers run on I/O threads and must not block (enqueue and return).
// Lifetime: stop() (or the destructor) closes everything, then joins the I/O threads; no
// handler runs after it returns.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "troupe/net/log_throttle.h"
#include "troupe/net/mesh_address.h"
#include "troupe/net/mesh_connection.h"

namespace troupe::net {

class MeshTransport final : private MeshConnection::Owner {
 public:
  struct Options {
    std::vector<MeshAddress> listen;  // empty: dial only
    // What HELLO tells peers about where this node listens; empty: the first listener's bound
    // address (with the port the kernel chose, for port 0).
    std::string advertised_address;
    std::uint64_t incarnation = 0;
    MeshConnection::Settings connection;
    std::size_t max_handshakes = 64;
    std::size_t max_peers = 1024;
    std::chrono::milliseconds backoff_base{100};
    std::chrono::milliseconds backoff_cap{10000};
    // A TCP connection whose data (or keepalives) go unacknowledged this long is closed.
    std::chrono::milliseconds tcp_user_timeout{10000};
    unsigned io_threads = 1;
  };
  struct Handlers {
    std::function<void(const PeerInfo&)> peer_up;
    std::function<void(const PeerInfo&, const Error&)> peer_down;
    // A peer's frame, in its lane's order; may hold it (FrameHold, MeshConnection::Owner).
    std::function<FrameVerdict(const PeerInfo&, Frame&, const FrameHold&)> frame;
  };
  struct Counters {
    std::uint64_t handshakes_failed = 0;
    std::uint64_t refused_not_allowed = 0;
    std::uint64_t accepts_over_cap = 0;
    std::uint64_t dials = 0;
    std::uint64_t log_lines_held_back = 0;  // refusal warnings over one per host per 10 s
  };

  // Binds every listener and starts the I/O threads. `identity` is the node's Ed25519 public
  // key, `static_key` the X25519 key derived from it. Errors: base invalid-argument / io (a
  // listener that cannot bind), internal.
  static Result<std::unique_ptr<MeshTransport>> start(const NodeKey& identity,
                                                      NoiseKeyPair static_key,
                                                      const PeerAllowlist& allowlist,
                                                      Options options, Handlers handlers);
  ~MeshTransport() override;
  MeshTransport(const MeshTransport&) = delete;
  MeshTransport& operator=(const MeshTransport&) = delete;
  void stop();

  NodeId self_id() const { return context_.ours.node_id; }
  // The listeners' bound addresses (with the kernel's ports for port 0).
  std::vector<MeshAddress> listening() const;
  const std::string& advertised_address() const { return context_.advertised_address; }

  // Dials `address` unless a connection dialled there is up or being made; within the backoff
  // after a failure the dial waits for the backoff to end. `persistent`: keep redialling (with
  // backoff) whenever no connection dialled there is up, until forget(address).
  void connect(const MeshAddress& address, bool persistent = false);
  void forget(const MeshAddress& address);
  // Queues a frame to an established peer. Errors: net unreachable (no connection), overloaded,
  // frame-too-large, closed.
  Result<void> send(NodeId peer, Lane lane, FrameType type, BytesView body);
  // Calls `fn` once when the lane to `peer` has room again for a frame of `body_bytes` after
  // overloaded (MeshConnection::notify_when_room; false: it never will); at once if there is
  // no connection to it.
  bool notify_when_room(NodeId peer, Lane lane, std::size_t body_bytes, std::function<void()> fn);
  // The lane of the connection this node sends to `peer` on; nullopt without one.
  std::optional<MeshConnection::LaneStats> lane_stats(NodeId peer, Lane lane) const;
  void disconnect(NodeId peer, const Error& why);
  // Waits (at most `limit`) until every established connection has written what was queued:
  // what a node says as it leaves goes out before stop() closes the connections.
  void flush(std::chrono::milliseconds limit);
  std::vector<PeerInfo> peers() const;
  bool connected(NodeId peer) const;
  Counters counters() const;

 private:
  struct Dial {
    MeshAddress address;
    unsigned failures = 0;
    std::chrono::steady_clock::time_point next_allowed{};
    NodeId peer = 0;  // who answered there last (0: nobody yet)
    bool in_flight = false;
    bool persistent = false;
    bool timer_armed = false;
  };
  class Listener;

  MeshTransport(const NodeKey& identity, NoiseKeyPair static_key, const PeerAllowlist& allowlist,
                Options options, Handlers handlers);
  void start_dial_locked(Dial& dial);
  // Dials again, now or when the backoff ends, if the dial is persistent and its peer is not
  // connected.
  void redial_locked(Dial& dial);
  bool dial_connected_locked(const Dial& dial) const;
  std::size_t dials_in_flight_locked() const;
  // Addresses remembered for dialling at most (backoff state included).
  std::size_t max_dials() const { return 4 * options_.max_peers + 64; }
  void schedule_dial_locked(Dial& dial);
  std::chrono::milliseconds backoff_locked(unsigned failures);
  void accept(MeshConnection::Socket socket, std::string endpoint);
  void end_pending_locked(const std::shared_ptr<MeshConnection>& connection);

  RefuseReason admit(const MeshConnection& connection) override;
  RefuseReason on_established(const std::shared_ptr<MeshConnection>& connection) override;
  FrameVerdict on_frame(const std::shared_ptr<MeshConnection>& connection, Frame& frame,
                        const FrameHold& hold) override;
  std::shared_ptr<MeshConnection> sending_connection(NodeId peer) const;
  void on_closed(const std::shared_ptr<MeshConnection>& connection, const Error& why) override;

  const NoiseKeyPair static_key_;
  MeshConnection::Context context_;
  Options options_;
  Handlers handlers_;

  // A peer's established connections (at most kMaxConnectionsPerPeer, oldest first) and the
  // one this node sends on.
  struct PeerLinks {
    std::vector<std::shared_ptr<MeshConnection>> connections;
    std::shared_ptr<MeshConnection> sending;
  };
  static constexpr std::size_t kMaxConnectionsPerPeer = 2;

  // Held across a peer's state change and its handler call, so the handlers see peer_up and
  // peer_down in the order the changes happened, whichever I/O threads ran them. Taken
  // before mutex_; the handlers only post, so holding it is short.
  std::mutex events_mutex_;
  mutable std::mutex mutex_;
  std::map<NodeId, PeerLinks> peers_;
  std::set<std::shared_ptr<MeshConnection>> pending_;     // not yet established
  std::map<std::string, std::size_t> pending_by_source_;  // accepted, by source address
  std::map<const MeshConnection*, std::string> pending_source_;
  std::map<const MeshConnection*, std::string> dialled_from_;  // connection -> Dial key
  std::set<const MeshConnection*> refused_;  // refused by on_established, not yet closed
  std::map<std::string, Dial> dials_;
  std::mt19937_64 jitter_;
  Counters counters_;
  LogThrottle refusal_log_;  // refusal warnings: one per host per 10 s
  bool stopping_ = false;

  // Declared last: destroyed first, so no handler outlives what it uses.
  boost::asio::io_context io_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::thread> threads_;
};

}  // namespace troupe::net
