// MeshConfig: the [mesh] table of a node's config — whether and where the node takes part in a
// mesh, whom it dials first, and whom it accepts. Off unless `listen` or `join` is given; with
// an empty `allow` every peer is refused (the node says so when it starts). The net layer owns
// these keys: unknown keys and wrong types are errors naming "ORIGIN: mesh.KEY".
// Plain value; pure parsing; thread-safe.
//
//   [mesh]
//   listen = "127.0.0.1:7400"             # or a list; "unix:/path" for nodes on one host
//   advertise = "10.0.0.5:7400"           # what peers are told (default: the first listener)
//   join = ["10.0.0.6:7400"]              # seeds, dialled at start until they answer
//   allow = ["<44-char key from `troupe node id`>", ...]
//   handshake_timeout_ms = 5000
//   io_threads = 1
//   max_peers = 1024
//   remote_spawn = "refuse"               # or "signed-packages": allowed peers may spawn
//                                         # packages here (verified against this node's trust
//                                         store)
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/net/mesh_address.h"
#include "troupe/net/peer_allowlist.h"

namespace troupe::net {

struct MeshConfig {
  std::vector<MeshAddress> listen;
  std::string advertise;
  std::vector<MeshAddress> join;
  std::vector<NodeKey> allow;
  std::chrono::milliseconds handshake_timeout{5000};
  // The longest a frame for a full backpressure mailbox is held before it is dropped (its lane
  // waits meanwhile): `max_hold_ms`.
  std::chrono::milliseconds max_hold{5000};
  // A TCP connection to a peer whose data or keepalives go unacknowledged this long is closed
  // and dialled afresh (`tcp_user_timeout_ms`).
  std::chrono::milliseconds tcp_user_timeout{10000};
  unsigned io_threads = 1;
  std::size_t max_peers = 1024;
  // Whether allowed peers may spawn signed packages on this node (`troupe spawn --node`): off
  // unless the config says "signed-packages".
  bool accept_remote_spawn = false;

  bool enabled() const { return !listen.empty() || !join.empty(); }
};

// Errors: base invalid-argument naming the key.
Result<void> parse_mesh_table(const toml::table& table, const std::string& origin,
                              MeshConfig& config);

}  // namespace troupe::net
