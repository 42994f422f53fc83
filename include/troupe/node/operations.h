// Operations: what a client may do to a node — spawn, stop, tell, ask, list, status, manage
// the trust store — with
// typed requests and results. The control socket calls it today (ControlHandler translates its
// JSON); the HTTP gateway and remote mesh nodes will call it tomorrow. Every request is checked
// here (names, kinds, limits, timeouts), whoever sends it.
// Threading: every member function may be called from any thread, concurrently. Operations
// that complete later (spawn, ask) call `done` exactly once, from some other thread (a worker,
// the timer thread or the module loader) or, when refused at once, before returning; `done`
// must not block. Lifetime: created and destroyed by Node around the actor system it uses;
// shutdown() (before the actor system stops) answers queued module loads "shutting down".
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/cluster/cluster.h"
#include "troupe/node/credential_renewal_loop.h"
#include "troupe/node/job_thread.h"
#include "troupe/node/kind_registry.h"
#include "troupe/node/node_identity.h"
#include "troupe/node/platform_services.h"
#include "troupe/node/reply_budget.h"
#include "troupe/runtime/actor_cell.h"
#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe {

// Spawn an actor of a registered kind, a signed package (package_path set) or, when the node
// allows unsigned modules, a bare WebAssembly guest (wasm_path set).
struct SpawnRequest {
  std::string kind{};          // a KindRegistry name; unused for a module
  std::string wasm_path{};     // a module file; any bytes, need not be UTF-8
  std::string package_path{};  // a package (.actr) file; any bytes
  // Refused for modules and packages when set: a package's type is its signed manifest's
  // `manufacturer:name:version`, an unsigned module's `unsigned:<SHA-256 prefix>`.
  std::string type_name{};
  wasm::Tier tier = wasm::Tier::kAuto;
  wasm::LimitRequest limits{};  // a module's limits; absent: the node's [wasm] defaults
  std::string name{};           // empty: unnamed
  std::string supervisor{};     // empty: the root supervisor
  // When its supervisor restarts it (OTP): permanent always, transient after an abnormal exit,
  // temporary never. An explicit stop is final whatever the policy.
  RestartPolicy restart = RestartPolicy::kPermanent;
  // 0 or this node's id: spawn here. Another node's: send the package there (a package only),
  // to be verified against that node's trust store and spawned under its supervisor there.
  NodeId node = 0;
};

struct SpawnResult {
  ActorId id;
  std::string type_name;
};

// One message to a named actor (or an id in text form).
struct SendRequest {
  std::string actor;
  std::string route;
  Bytes payload;
  std::string traceparent;  // empty: a new trace
};

struct AskRequest {
  SendRequest message;
  std::chrono::milliseconds timeout{0};  // 0: the node's ask timeout
};

// An ask's reply. `hold` reserves its size in the node-wide reply budget: keep it until the
// bytes have been handed to the client.
struct AskReply {
  Bytes payload;
  ReplyBudget::Hold hold;
};

// One actor in a listing, with its subtree. `failed`: given up on by its supervisor (only id,
// type, name and restarts of `stats` are meaningful, and `reason` says why).
struct ActorEntry {
  ActorStats stats;
  bool failed = false;
  std::string reason;
  std::vector<ActorEntry> children;
};

struct ActorListing {
  std::vector<ActorEntry> actors;  // top-level actors, then failed ones
  std::size_t omitted = 0;         // live actors left out past the listing limit or depth
};

// One custodial key, as `troupe keys ls` shows it: public material and times, and the actor
// that holds it now (none: a named actor's key while it is not running, or the node's own).
struct CustodialKeyEntry {
  KeyInfo key;
  std::optional<ActorId> actor;
};

struct NodeStatus {
  NodeId node = 0;
  std::string public_key_base64;
  std::uint64_t boot = 0;
  std::chrono::seconds uptime{0};
  unsigned workers = 0;
  SystemStats stats;
  std::size_t failed = 0;
  std::vector<std::pair<std::string, std::string>> kinds;  // name, description
};

class Operations {
 public:
  struct Config {
    std::chrono::milliseconds ask_timeout{5000};  // an ask that names none, and a spawn
    // Reply bytes held for clients at once, node-wide ([node] max_held_reply_bytes).
    std::size_t max_held_reply_bytes = std::size_t{256} << 20;
    // Actors in one listing: a node with a million actors still answers in one frame.
    std::size_t listing_limit = 2000;
    // Module spawns waiting for the loader thread beyond the one it works on.
    std::size_t max_pending_module_loads = 16;
    // Unsigned modules (SpawnRequest::wasm_path) are refused unless this is true.
    bool allow_unsigned = false;
    // Actors stopped by a revocation that listings still show.
    std::size_t max_revoked_shown = 256;
    // How often packaged actors' credentials are checked for renewal and stopped actors'
    // dropped.
    CredentialRenewalLoop::Options renewal{};
  };
  static constexpr std::chrono::milliseconds kMaxAskTimeout{3'600'000};

  // `platform` null: packages are refused (unavailable).
  Operations(ActorSystem& system, const KindRegistry& kinds, const wasm::GuestPolicy& policy,
             const NodeIdentity& identity, Config config, PlatformServices* platform = nullptr);
  ~Operations();
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  void spawn(SpawnRequest request, std::function<void(Result<SpawnResult>)> done);
  Result<void> tell(SendRequest request);
  void ask(AskRequest request, std::function<void(Result<AskReply>)> done);
  ActorListing list() const;
  // kUnavailable when the root supervisor is dead (the node could not spawn).
  Result<NodeStatus> status() const;
  // The stopped actor's id.
  Result<ActorId> stop(const std::string& actor);
  // Module loads: queued ones are answered "shutting down", a running one is waited for.
  void shutdown();

  // The trust store (PlatformServices). trust_key takes a public key file's line and returns
  // the key id. A revocation stops every running actor spawned from a package it covers; they
  // stay in the listing as "revoked" with the reason. Returns how many were stopped.
  Result<std::string> trust_key(const std::string& public_key_text);
  Result<std::size_t> revoke_key(const std::string& key_id);
  Result<std::size_t> revoke_package(const std::string& package_hash);
  Result<TrustListing> trust_listing() const;

  // Identity and keys (operations_identity.cc). The identity service's public keys as a JWK
  // Set; an actor's (name or id) current credential; every custodial key; a new key for an
  // actor, with a new credential (the actor is told on-credential-renewed).
  Result<std::string> identity_jwks() const;
  Result<EnrolledIdentity> identity_of(const std::string& actor) const;
  Result<std::vector<CustodialKeyEntry>> custodial_keys() const;
  Result<KeyInfo> rotate_key(const std::string& actor);

  // The mesh (operations_cluster.cc): the members this node knows of, and a peer key added to
  // its allowlist (true: newly). Errors: unavailable (the node takes no part in a mesh),
  // invalid-argument (not a node key), and Cluster::allow's.
  void set_cluster(Cluster* cluster) { cluster_ = cluster; }
  Result<std::vector<Member>> cluster_members() const;
  // Names registered on other nodes (`troupe ls --cluster`); empty without a mesh.
  Result<std::vector<RemoteActors::RemoteName>> cluster_names() const;
  Result<bool> cluster_allow(const std::string& key_text);
  Result<Cluster::Disallowed> cluster_disallow(const std::string& key_text);
  // Another node's SPAWN (RemoteActors::SpawnHandler): the package's bytes, verified against
  // this node's trust store exactly as a local `spawn --package` is, then spawned. The node
  // installs this only when [mesh] remote_spawn = "signed-packages".
  void spawn_for_peer(NodeId from, RemoteSpawn request,
                      std::function<void(Result<RemoteSpawned>)> done);

  const Config& config() const { return config_; }
  const ReplyBudget& reply_budget() const { return replies_; }
  ReplyBudget& reply_budget() { return replies_; }

 private:
  struct RemoteTarget {
    NodeId node = 0;
    std::uint64_t serial = 0;
  };
  // An actor of another node: "NODE.SERIAL" of another node, or a name the cluster registry
  // holds (after this node's own names: resolve() first). Nullopt without a mesh.
  std::optional<RemoteTarget> resolve_remote(const std::string& name_or_id) const;
  // Checks the request's name and supervisor, asks the supervisor to start the child under the
  // request's restart policy.
  void start_child(const SpawnRequest& request, std::function<std::unique_ptr<Actor>()> factory,
                   const std::string& type_name, std::function<void(Result<SpawnResult>)> done);
  void spawn_module(const SpawnRequest& request, std::function<void(Result<SpawnResult>)> done);
  // `troupe spawn --node`: reads the package (on the loader thread) and sends it to the node.
  void spawn_remote(const SpawnRequest& request, std::function<void(Result<SpawnResult>)> done);
  Result<PlatformServices*> platform() const;
  // Stops the packaged actors `covered` selects, recording `reason` for the listing.
  // An actor spawned from a package: what a revocation matches it by.
  struct PackagedActor {
    ActorId id;
    std::string key_id;
    std::string package_hash;
  };
  std::size_t stop_packaged(const std::function<bool(const PackagedActor&)>& covered,
                            const std::string& reason);
  // What the credential renewal loop reports (on its thread).
  void on_identity_event(const IdentityEvent& event);
  // The live actor `actor` (a name or an id) holds a credential.
  Result<ActorId> enrolled_actor(const std::string& actor) const;
  ActorEntry describe(const ActorRef& ref, int depth, std::size_t& budget,
                      std::size_t& omitted) const;

  ActorSystem& system_;
  const KindRegistry& kinds_;
  // The native kinds guests may reach (KindRegistry::expose_to_guests), fixed at start.
  const std::shared_ptr<const std::set<std::string, std::less<>>> guest_kinds_;
  const wasm::GuestPolicy& policy_;
  const NodeIdentity& identity_;
  const Config config_;
  ReplyBudget replies_;
  PlatformServices* const platform_;
  Cluster* cluster_ = nullptr;  // set once, before the control socket opens
  mutable std::mutex packaged_mutex_;
  std::vector<PackagedActor> packaged_;  // guarded by packaged_mutex_
  std::deque<ActorEntry> revoked_;       // guarded by packaged_mutex_; newest last
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  JobThread loader_;  // reads, checks and compiles modules for spawn; stopped first
  // Keeps packaged actors' credentials current (null without a platform); stopped by
  // shutdown(), before the actor system.
  std::unique_ptr<CredentialRenewalLoop> renewal_;
};

}  // namespace troupe
