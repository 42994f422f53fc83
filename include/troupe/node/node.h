// Node: one running troupe node — the actor system, the kinds it can spawn, the operations
// clients may perform (Operations), and the control socket the CLI talks to (ControlServer,
// translated by ControlHandler). Composed from one NodeConfig (defaults, or a TOML file with a
// table per subsystem). start() returns a running node; shutdown() (or destruction) stops
// module loads, then actors, then the socket. Not thread-safe itself; what it hands out is.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/net/mesh_config.h"
#include "troupe/node/boot_actor.h"
#include "troupe/node/control_handler.h"
#include "troupe/node/control_server.h"
#include "troupe/node/kind_registry.h"
#include "troupe/node/node_identity.h"
#include "troupe/node/operations.h"
#include "troupe/node/platform_services.h"
#include "troupe/platform/platform_config.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe {

// One config, a TOML table per subsystem (README "Configuration"): [node] here, [runtime]
// parsed by the actor runtime, [control] by the control socket, [wasm] by the WebAssembly layer,
// [platform] by the platform layer; beside them the [[actor]] entries the node starts at boot.
struct NodeConfig {
  // [node]
  std::string data_dir = ".troupe";
  std::string control_socket;                   // empty = <data_dir>/control.sock
  unsigned workers = 0;                         // 0 = one per core
  std::chrono::milliseconds ask_timeout{5000};  // default for `troupe ask`
  // Reply bytes the node holds for its clients at once (Operations, ReplyBudget).
  std::size_t max_held_reply_bytes = Operations::Config{}.max_held_reply_bytes;
  // [runtime]: the actor system's settings. Node sets workers (above), the node id and the
  // actor serials itself.
  SystemConfig runtime;
  // [control]: control socket bounds; `troupe node run` flags override them.
  ControlServer::Options control;
  // [wasm]: guests' default and maximum limits, node-wide caps (docs/WASM.md).
  wasm::GuestPolicy wasm;
  // [platform]: unsigned modules, the storage quota cap (docs/PLATFORM.md).
  platform::PlatformConfig platform;
  // [mesh]: where the node listens for other nodes, whom it joins and accepts (docs/PROTOCOL.md).
  net::MeshConfig mesh;
  // [cluster]: the membership protocol's timing (memberlist's LAN profile by default).
  SwimConfig cluster;
  // [[actor]]: started in this order when the node starts, before its control socket opens.
  std::vector<BootActor> actors;

  // Reads a TOML file of those tables; unknown tables, unknown keys and wrong types are errors
  // naming the table and key. load() resolves relative [[actor]] package paths against the
  // file's directory; parse() against `base_dir`, or leaves them relative when it is empty.
  static Result<NodeConfig> load(const std::string& path);
  static Result<NodeConfig> parse(std::string_view toml_text, const std::string& origin,
                                  const std::string& base_dir = {});
  std::string socket_path() const;
};

class Node {
 public:
  // Everything that can be refused without side effects (the settings, the control socket
  // path: too long, not a socket, a node already listening) is checked before the data
  // directory is touched: a refused start writes no key and bumps no boot counter. The
  // [[actor]] entries are spawned after the platform services open and before the control
  // socket does; the first that fails fails the start, with the error's kind and the entry's
  // label ("untrusted: actor[1] (pinger): ..."), and leaves nothing running (the data
  // directory is written by then: the key, the boot counter).
  // `interrupted` (optional) is asked between boot entries: true ends the start, unavailable.
  static Result<std::unique_ptr<Node>> start(NodeConfig config, KindRegistry kinds,
                                             std::function<bool()> interrupted = {});
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  ActorSystem& system() { return *system_; }
  Operations& operations() { return *operations_; }
  const NodeConfig& config() const { return config_; }
  const NodeIdentity& identity() const { return *identity_; }
  PlatformServices& platform() { return *platform_; }
  // The mesh, when [mesh] (or --listen/--join) asks for one; null otherwise.
  Cluster* cluster() { return cluster_.get(); }
  void shutdown();

 private:
  Node(NodeConfig config, KindRegistry kinds);

  NodeConfig config_;
  std::optional<NodeIdentity> identity_;
  // Outlives the actor system: actors hold its stores and sign with its keys.
  std::unique_ptr<PlatformServices> platform_;
  KindRegistry kinds_;
  std::unique_ptr<ActorSystem> system_;
  std::unique_ptr<Operations> operations_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<ControlHandler> control_handler_;
  std::unique_ptr<ControlServer> control_;
};

}  // namespace troupe
