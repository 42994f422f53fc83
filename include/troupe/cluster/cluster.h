// Cluster: this node's place in the mesh — the MeshTransport (Noise-encrypted connections to the
// allowed peers) driven together with the Membership state machine (SWIM with Lifeguard), and
// the allowlist, which `troupe cluster allow` extends at run time (kept in the data directory's
// `mesh.allow`, so it survives restarts).
//
// Membership messages travel as MEMBERSHIP frames on the system lane; a message to a member
// with no connection yet dials the member's address and waits (a few, briefly) for the
// connection. The join addresses are dialled, with backoff, until one answers; a node that
// answers is pushed-pulled with (SWIM's join).
//
// Threading: the Membership runs on a thread of its own (an Asio loop); a timer there calls
// tick() at its next deadline, and the transport's handlers post to it. members() and the event
// listeners are safe from any thread: members() reads a snapshot refreshed after every change;
// listeners run on the membership thread and must not block. Lifetime: stop() (or the destructor)
// stops the transport first (no handler runs after), then the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "troupe/base/clock.h"
#include "troupe/base/result.h"
#include "troupe/cluster/member.h"
#include "troupe/cluster/member_event.h"
#include "troupe/cluster/membership_transport.h"
#include "troupe/cluster/remote_actors.h"
#include "troupe/cluster/swim_config.h"
#include "troupe/net/mesh_config.h"
#include "troupe/net/mesh_transport.h"

namespace troupe {

class Membership;

class Cluster final : private MembershipTransport {
 public:
  struct Options {
    net::MeshConfig mesh;
    SwimConfig swim;
    net::NodeKey identity{};
    std::uint64_t incarnation = 0;  // must grow across restarts: the node passes boot << 32
    std::string data_dir;           // where mesh.allow lives; empty: not persisted (tests)
    std::uint64_t seed = 0;         // the membership's PRNG; 0: random
    // The node's actors, for messages from and to other nodes; null: membership only.
    ActorSystem* system = nullptr;
    RemoteActors::Options remote;
    // What other nodes' SPAWN requests get (RemoteActors::set_spawn_handler); empty: refused.
    RemoteActors::SpawnHandler spawn_handler;
  };
  using EventListener = std::function<void(const MemberEvent&)>;

  // Errors: a listener that cannot bind, a bad SWIM config, an unreadable mesh.allow.
  static Result<std::unique_ptr<Cluster>> start(Options options, net::NoiseKeyPair static_key,
                                                EventListener on_event = {});
  ~Cluster() override;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  // Tells the other members this node leaves (they mark it `left`, not `dead`) and waits,
  // briefly, for the news to be written. Call before stop() on a clean shutdown.
  void leave();
  void stop();

  NodeId self_id() const;
  std::vector<net::MeshAddress> listening() const;
  const std::string& advertised_address() const;
  // Self first, then every member held, by id.
  std::vector<Member> members() const;

  // Adds a key to the allowlist (and to mesh.allow). True when it was not listed before.
  // Errors: base too-large (the list is full), io (mesh.allow could not be written: the key
  // is then not added).
  Result<bool> allow(const net::NodeKey& key);
  // Takes a key off the allowlist (and out of mesh.allow) and closes the node's connections:
  // from now on it is refused like any unlisted node, and the others see it fail. A key the
  // config's [mesh] allow names comes back at the next start: `in_config` says so.
  // Errors: io (mesh.allow could not be written: the key is refused all the same, but the file
  // still names it).
  struct Disallowed {
    bool removed = false;
    bool in_config = false;
  };
  Result<Disallowed> disallow(const net::NodeKey& key);
  std::vector<net::NodeKey> allowed() const;
  // Membership frames dropped because the membership thread was behind.
  std::uint64_t dropped_frames() const { return dropped_frames_.load(); }

  net::MeshTransport& transport() { return *transport_; }
  // Null without Options::system.
  RemoteActors* remote() { return remote_.get(); }

 private:
  explicit Cluster(Options options);
  void send(const Member& to, Bytes message) override;
  // On the membership thread.
  void handle_peer_up(const net::PeerInfo& peer);
  void handle_frame(const net::PeerInfo& peer, net::Frame frame);
  void after_change();
  void arm_timer();
  void arm_registry_timer();
  Result<void> persist_allowlist_locked();

  struct Pending {
    std::vector<Bytes> messages;
    Clock::TimePoint since;
  };

  Options options_;
  SteadyClock clock_;
  net::PeerAllowlist allowlist_;
  std::mutex allow_mutex_;             // serialises allow()/disallow() (list and file together)
  std::set<net::NodeKey> added_keys_;  // what mesh.allow holds: the run-time additions
  EventListener on_event_;
  std::vector<std::string> seeds_;  // join addresses, as dialled

  std::unique_ptr<Membership> membership_;       // used on the membership thread only
  std::map<NodeId, Pending> pending_;            // messages waiting for a connection (same)
  std::chrono::milliseconds since_announce_{0};  // registry refresh (membership thread)

  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<std::uint64_t> dropped_frames_{0};
  mutable std::mutex snapshot_mutex_;
  std::vector<Member> snapshot_;

  struct Driver;  // the membership thread's loop and timers
  std::unique_ptr<Driver> driver_;
  // Uses the driver's loop for its timers: destroyed after the driver's thread has stopped.
  std::unique_ptr<RemoteActors> remote_;
  // What the I/O threads read: set once remote_ exists (frames may arrive before).
  std::atomic<RemoteActors*> remote_ready_{nullptr};
  // Declared last: stopped and destroyed first (its handlers post to the driver).
  std::unique_ptr<net::MeshTransport> transport_;
};

}  // namespace troupe
