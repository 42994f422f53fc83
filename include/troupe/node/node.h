// Node: one running troupe node — the actor system, the kinds it can spawn, and the control
// socket the CLI talks to. Built from a NodeConfig (embedded defaults, or a TOML file).
// start() returns a running node; shutdown() (or destruction) stops actors, then the socket.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "troupe/base/result.h"
#include "troupe/node/control_server.h"
#include "troupe/node/job_thread.h"
#include "troupe/node/kind_registry.h"
#include "troupe/node/node_identity.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe {

struct NodeConfig {
  std::string data_dir = ".troupe";
  std::string control_socket;                   // empty = <data_dir>/control.sock
  unsigned workers = 0;                         // 0 = one per core
  std::chrono::milliseconds ask_timeout{5000};  // default for `troupe ask`
  // The [wasm] table: guests' default and maximum limits, node-wide caps (docs/WASM.md).
  wasm::GuestPolicy wasm;
  // Control socket bounds (ControlServer::Options): connections open at once, and the time
  // in which each request frame must arrive. Set by `troupe node run` flags.
  std::size_t control_max_connections = 64;
  std::chrono::milliseconds control_idle_timeout{10'000};

  // Reads a TOML file with [node] and [wasm] tables; unknown keys and wrong types are errors.
  static Result<NodeConfig> load(const std::string& path);
  static Result<NodeConfig> parse(std::string_view toml_text, const std::string& origin);
  std::string socket_path() const;
};

class Node {
 public:
  static Result<std::unique_ptr<Node>> start(NodeConfig config, KindRegistry kinds);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  ActorSystem& system() { return *system_; }
  const NodeConfig& config() const { return config_; }
  const NodeIdentity& identity() const { return *identity_; }
  void shutdown();

  // One control request; answers through respond (possibly later, from another thread).
  void handle(const nlohmann::json& request, const ControlServer::Respond& respond);

 private:
  Node(NodeConfig config, KindRegistry kinds);
  void op_spawn(const nlohmann::json& req, const ControlServer::Respond& respond);
  // The common end of a spawn: checks the name and supervisor, asks the supervisor to start it.
  void start_child(const std::string& name, const std::string& sup_name,
                   std::function<std::unique_ptr<Actor>()> factory, const std::string& type_name,
                   const ControlServer::Respond& respond);
  void op_send(const nlohmann::json& req, bool ask, const ControlServer::Respond& respond);
  nlohmann::json op_ls();
  nlohmann::json op_status();
  nlohmann::json op_stop(const nlohmann::json& req);
  // An actor and its subtree; stops after `budget` actors, counting the rest in `omitted`.
  nlohmann::json describe(const ActorRef& ref, int depth, std::size_t& budget,
                          std::size_t& omitted);
  static constexpr std::size_t kLsLimit = 2000;
  // `spawn --wasm` requests waiting for the loader thread beyond the one it works on.
  static constexpr std::size_t kMaxPendingModuleLoads = 16;

  NodeConfig config_;
  std::optional<NodeIdentity> identity_;
  KindRegistry kinds_;
  std::unique_ptr<ActorSystem> system_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<JobThread> loader_;  // reads, checks and compiles `spawn --wasm` modules
  std::chrono::steady_clock::time_point started_;
};

}  // namespace troupe
