// ClusterNode: one in-process node for the cluster tests — an ActorSystem and a Cluster on
// 127.0.0.1 with its own Ed25519 identity, at a tenth of memberlist's LAN timing and a fast
// registry refresh. Set `options` (allow, join, spawn handler, ...) before start(), which also
// installs the cluster's RemoteDirectory on the actor system, as node.cc does. The destructor
// stops the actors first, then the cluster, as a node does.
// Not thread-safe: one test thread drives it.
#pragma once

#include <sodium.h>

#include <array>
#include <chrono>
#include <memory>
#include <thread>

#include "troupe/cluster/cluster.h"
#include "troupe/cluster/remote_actors.h"
#include "troupe/net/noise_static_key.h"
#include "troupe/runtime/actor_system.h"

namespace troupe::testing {

struct ClusterNode {
  net::NodeKey identity{};
  std::array<unsigned char, 64> secret{};
  std::unique_ptr<ActorSystem> system;
  std::unique_ptr<Cluster> cluster;
  Cluster::Options options;

  ClusterNode() {
    crypto_sign_keypair(identity.data(), secret.data());
    SystemConfig sc;
    sc.workers = 2;
    sc.node_id = net::node_id_of_identity(identity);
    system = std::make_unique<ActorSystem>(sc);
    options.mesh.listen = {net::MeshAddress::parse("127.0.0.1:0", true).value()};
    options.swim.probe_interval = std::chrono::milliseconds(100);
    options.swim.probe_timeout = std::chrono::milliseconds(50);
    options.swim.gossip_interval = std::chrono::milliseconds(20);
    options.identity = identity;
    options.incarnation = 1ULL << 32;
    options.system = system.get();
    options.remote.registry_refresh = std::chrono::milliseconds(200);
    options.remote.registry_ttl = std::chrono::milliseconds(1000);
  }
  ~ClusterNode() {
    system->shutdown();
    if (cluster) cluster->stop();
  }
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;
  void start() {
    cluster = Cluster::start(options, net::noise_key_pair_of(secret).value()).value();
    system->set_remote_directory(cluster->remote()->directory());  // as node.cc does
  }
  NodeId id() const { return net::node_id_of_identity(identity); }

  // Whether this node holds `other` as an alive member.
  bool sees_alive(const ClusterNode& other) const {
    for (const Member& m : cluster->members()) {
      if (m.id == other.id() && m.state == MemberState::kAlive) return true;
    }
    return false;
  }
};

// Starts `a`, then `b` joining it, each allowing the other (other options as already set), and
// waits (10 s at most) until each holds the other as an alive member: a node that is connected
// but not yet a member is never declared dead, so what a test then does to it would wait for
// timeouts (a full suite under load once showed it: b gone 1 ms after connecting).
inline void start_pair(ClusterNode& a, ClusterNode& b) {
  a.options.mesh.allow.push_back(b.identity);
  b.options.mesh.allow.push_back(a.identity);
  a.start();
  b.options.mesh.join = {a.cluster->listening().front()};
  b.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(a.sees_alive(b) && b.sees_alive(a)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace troupe::testing
