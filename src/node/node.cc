#include "troupe/node/node.h"

#include <fmt/format.h>

#include <utility>

#include "troupe/net/mesh_address.h"
#include "troupe/node/native_kind_factory.h"
#include "troupe/wasm/guest_budget.h"

namespace troupe {

Node::Node(NodeConfig config, KindRegistry kinds)
    : config_(std::move(config)), kinds_(std::move(kinds)) {}

Result<std::unique_ptr<Node>> Node::start(NodeConfig config, KindRegistry kinds,
                                          std::function<bool()> interrupted) {
  // Refuse what can be refused before anything is written: NodeIdentity creates the key and
  // raises the boot counter.
  if (auto ok = config.runtime.check(); !ok.ok()) return ok.error();
  if (auto ok = ControlServer::check(config.socket_path(), config.control); !ok.ok()) {
    return ok.error();
  }
  if (auto ok = net::check_listen_addresses(config.mesh.listen, config.mesh.advertise); !ok.ok()) {
    return ok.error();
  }
  // A boot entry naming a kind this node lacks, or a name a granted kind cannot keep its data
  // under, fails now, not after the data directory is written.
  for (std::size_t i = 0; i < config.actors.size(); ++i) {
    const BootActor& a = config.actors[i];
    if (a.kind.empty()) continue;
    if (auto ok = check_native_spawn(kinds, a.kind, a.name); !ok.ok()) {
      return Error{ok.error().code, a.label(i) + ": " + ok.error().detail};
    }
  }
  std::unique_ptr<Node> node(new Node(std::move(config), std::move(kinds)));
  auto identity = NodeIdentity::load_or_create(node->config_.data_dir, /*exclusive=*/true);
  if (!identity.ok()) return identity.error();
  node->identity_ = std::move(identity).value();
  auto platform =
      PlatformServices::open(node->config_.data_dir, node->config_.platform,
                             fmt::format("troupe:node:{:016x}", node->identity_->node_id()));
  if (!platform.ok()) return platform.error();
  node->platform_ = std::move(platform).value();
  SystemConfig sc = node->config_.runtime;
  sc.workers = node->config_.workers;
  sc.node_id = node->identity_->node_id();
  sc.first_serial = node->identity_->first_serial();
  sc.last_serial = node->identity_->last_serial();
  node->system_ = std::make_unique<ActorSystem>(sc);
  wasm::GuestBudget::node().set_caps(node->config_.wasm.caps);
  Operations::Config oc;
  oc.ask_timeout = node->config_.ask_timeout;
  oc.max_held_reply_bytes = node->config_.max_held_reply_bytes;
  oc.allow_unsigned = node->config_.platform.allow_unsigned;
  node->operations_ = std::make_unique<Operations>(*node->system_, node->kinds_, node->config_.wasm,
                                                   *node->identity_, oc, node->platform_.get());
  if (node->config_.mesh.enabled()) {
    auto noise_key = node->identity_->noise_key_pair();
    if (!noise_key.ok()) return noise_key.error();
    Cluster::Options co;
    co.mesh = node->config_.mesh;
    co.swim = node->config_.cluster;
    co.identity = node->identity_->public_key();
    // Grows across restarts: a restarted node's record overrides its previous life's.
    co.incarnation = node->identity_->boot() << 32;
    co.data_dir = node->config_.data_dir;
    co.system = node->system_.get();
    if (node->config_.mesh.accept_remote_spawn) {
      // The operations outlive the cluster (declared first, destroyed last).
      co.spawn_handler = [ops = node->operations_.get()](
                             NodeId from, RemoteSpawn request,
                             std::function<void(Result<RemoteSpawned>)> done) {
        ops->spawn_for_peer(from, std::move(request), std::move(done));
      };
    }
    auto cluster = Cluster::start(std::move(co), std::move(noise_key).value());
    if (!cluster.ok()) {
      node->shutdown();
      return cluster.error();
    }
    node->cluster_ = std::move(cluster).value();
    node->operations_->set_cluster(node->cluster_.get());
    // Guests' call, tell, call-raw and discover reach other nodes' actors through it.
    if (RemoteActors* remote = node->cluster_->remote()) {
      node->system_->set_remote_directory(remote->directory());
    }
  }
  // The boot actors run before the control socket opens: a client that reaches the node, and
  // whoever waits for the readiness line printed once start() returns, finds all of them. A
  // failed entry fails the start, with the entries before it stopped.
  if (auto booted = start_boot_actors(*node->operations_, node->config_.actors, interrupted);
      !booted.ok()) {
    node->shutdown();
    return booted.error();
  }
  node->control_handler_ =
      std::make_unique<ControlHandler>(*node->operations_, node->config_.socket_path());
  auto server = ControlServer::open(
      node->config_.socket_path(),
      [h = node->control_handler_.get()](const nlohmann::json& req,
                                         const ControlServer::Respond& respond) {
        h->handle(req, respond);
      },
      node->config_.control);
  if (!server.ok()) {
    node->shutdown();
    return server.error();
  }
  node->control_ = std::move(server).value();
  return node;
}

Node::~Node() { shutdown(); }

void Node::shutdown() {
  // Module loads first (queued ones are answered "shutting down"; a running compile is waited
  // for): they use the actor system. Then actors: pending CLI asks are answered
  // (dead/shutdown) while the socket still exists.
  if (operations_) operations_->shutdown();
  if (system_) system_->shutdown();
  // Every actor has stopped: unnamed actors' keys go now rather than at the next start, which
  // may never come.
  if (system_ && platform_) platform_->remove_ephemeral_keys();
  if (control_) control_->close();
  control_.reset();
  // Last: the others hear this node leave (not die), and it kept answering probes meanwhile.
  if (cluster_) {
    cluster_->leave();
    cluster_->stop();
  }
}

}  // namespace troupe
