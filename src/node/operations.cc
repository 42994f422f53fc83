#include "troupe/node/operations.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "troupe/base/trace_context.h"
#include "troupe/node/actor_name.h"
#include "troupe/node/custodial_guest_signer.h"
#include "troupe/node/enrolled_guest_identity.h"
#include "troupe/node/leased_guest_storage.h"
#include "troupe/node/native_kind_factory.h"
#include "troupe/node/regular_file.h"
#include "troupe/platform/actor_store_path.h"
#include "troupe/platform/key_name.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/guest_grants.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/wasm_actor.h"

namespace troupe {

namespace {

using Factory = std::function<std::unique_ptr<Actor>()>;

// A module ready to spawn: its factory, its type, and for a package what a revocation
// matches it by.
struct ModuleSpawn {
  Factory factory;
  std::string type_name;
  std::string key_id;        // empty: unsigned
  std::string package_hash;  // empty: unsigned
  // A package's: enrolls the actor with the identity service (idempotent; its incarnations
  // enroll too). Called before the spawn is answered, so the credential exists once it is.
  std::function<Result<Credential>(ActorId)> enroll;
};

// The factory for a loaded module with its options (limits resolved): checks the limits, the
// node-wide caps, and starts (or waits for) the AOT build. Every restart instantiates the
// module afresh.
Result<Factory> module_factory(std::shared_ptr<const wasm::GuestModule> shared,
                               wasm::WasmActorOptions o) {
  if (auto fits = wasm::fits_limits(*shared, o.limits); !fits.ok()) return fits.error();
  // Refuse at once what the node-wide caps would not admit now (each incarnation reserves its
  // own share when it starts).
  if (auto fits = wasm::GuestBudget::node().acquire(wasm::memory_ceiling(*shared, o.limits));
      !fits.ok()) {
    return fits.error();
  }
  // aot: build (or load from the cache) before spawning; auto: start on the interpreter while
  // the build runs in the background, later incarnations pick the code up.
  wasm::AotCompiler& compiler = wasm::AotCompiler::shared();
  if (o.tier == wasm::Tier::kAot) {
    auto code = compiler.compile(*shared);
    if (!code.ok()) return code.error();
  } else if (o.tier == wasm::Tier::kAuto) {
    compiler.compile_in_background(shared);
  }
  return wasm::wasm_actor_factory(std::move(shared), std::move(o));
}

// An unsigned module (the node allows them): type `unsigned:<first 16 hex of its SHA-256>`,
// no capabilities.
Result<ModuleSpawn> unsigned_spawn(const SpawnRequest& req, const wasm::GuestPolicy& policy) {
  if (req.wasm_path.empty())
    return Error{BaseErrc::kInvalidArgument, "'wasm' must name a module file"};
  auto limits = policy.limits_for(req.limits);
  if (!limits.ok()) return limits.error();
  auto file = read_regular_file(req.wasm_path, kMaxModuleFileBytes, "module");
  if (!file.ok()) return file.error();
  std::vector<std::uint8_t> bin(file->begin(), file->end());
  auto module = wasm::GuestModule::load(bin);
  if (!module.ok()) return module.error();
  if (auto ok = wasm::check_granted_imports(*module, {}, false, false, false,
                                            "an unsigned module has no");
      !ok.ok()) {
    return ok.error();
  }
  wasm::WasmActorOptions o;
  o.type_name = "unsigned:" + platform::sha256_hex(*file).substr(0, 16);
  o.limits = *limits;
  o.output = policy.output;
  o.tier = req.tier;
  ModuleSpawn out;
  out.type_name = o.type_name;
  auto factory =
      module_factory(std::make_shared<const wasm::GuestModule>(std::move(module).value()), o);
  if (!factory.ok()) return factory.error();
  out.factory = std::move(factory).value();
  return out;
}

// A signed package, verified against the node's trust store: its type is the manifest's, its
// capabilities what the manifest requests within the node's policy for its signing key, its
// limits the manifest's defaults overridden by the request's, within the node's maxima. Every
// incarnation is enrolled with the identity service (a credential bound to the actor's
// custodial key) before its guest runs.
Result<ModuleSpawn> package_spawn(
    const SpawnRequest& req, const wasm::GuestPolicy& policy, PlatformServices& platform,
    std::shared_ptr<const std::set<std::string, std::less<>>> guest_kinds) {
  using platform::Capability;
  auto pkg = platform.verify(req.package_path);
  if (!pkg.ok()) return pkg.error();
  const platform::Manifest& m = pkg->manifest;
  const platform::CapabilityRequest& caps = m.troupe.capabilities;
  const platform::GrantPolicy allowed = platform.config().policy_for(m.signing_key_id);
  auto grant = [&](Capability c, bool asked) { return asked && allowed.allows(c); };
  const bool storage = grant(Capability::kStorage, caps.storage_quota_bytes.has_value());
  const bool signing = grant(Capability::kSigning, caps.signing);
  const bool identity = grant(Capability::kIdentity, caps.identity);
  wasm::GuestGrants grants;
  grants.clock = grant(Capability::kClock, caps.clock);
  grants.random = grant(Capability::kRandom, caps.random);
  grants.streams = grant(Capability::kStreams, caps.streams);
  if (grant(Capability::kCall, !caps.call.empty())) grants.call = caps.call;
  grants.native_kinds = std::move(guest_kinds);
  if (auto ok = wasm::check_granted_imports(
          *pkg->module, grants, storage, signing, identity,
          "its package (the manifest's request, within the node's [platform] grant) was not "
          "granted");
      !ok.ok()) {
    return ok.error();
  }
  const std::string type = m.type.to_string();
  // "unsigned" prefixes unsigned modules' types; "troupe" names the node's native kinds, which
  // guests discover as troupe/<kind>: no package may pose as either.
  if (m.type.manufacturer == "unsigned" || m.type.manufacturer == "troupe") {
    return Error{PlatformErrc::kRefused,
                 "the manufacturer '" + m.type.manufacturer + "' is reserved"};
  }
  // Storage is kept under type and name; an unnamed actor signs with a key of its own that
  // goes when it stops (PlatformServices::actor_key_name).
  if (storage && req.name.empty()) {
    return Error{BaseErrc::kInvalidArgument,
                 type +
                     " is granted storage, kept under its type and name: give it a name "
                     "(--name N)"};
  }
  wasm::LimitRequest wanted = m.troupe.limits;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (req.limits[i]) wanted[i] = req.limits[i];
  }
  auto limits = policy.limits_for(wanted);
  if (!limits.ok()) return limits.error();
  wasm::WasmActorOptions o;
  o.type_name = type;
  o.limits = *limits;
  o.output = policy.output;
  o.tier = req.tier;
  o.grants = std::move(grants);
  const std::uint64_t quota =
      std::min(caps.storage_quota_bytes.value_or(0), allowed.max_storage_quota_bytes);
  // Stores and keys belong to the signing key as well as the type and name: any trusted key
  // may sign any manufacturer string, so those alone must not reach another key's data.
  const std::string key_id = m.signing_key_id;
  if (storage) {
    if (auto dirs = actor_store_dirs({type, req.name}); !dirs.ok()) return dirs.error();
  }
  const std::string key_name = PlatformServices::actor_key_name(key_id, type, req.name);
  auto enroll = [&platform, type, name = req.name, key_id, key_name,
                 hash = pkg->package_hash](ActorId self) -> Result<Credential> {
    return platform.identities().enroll(
        Enrollment{self, type, hash, key_id, key_name, /*ephemeral_key=*/name.empty()});
  };
  o.services = [&platform, enroll, type, name = req.name, key_id, key_name, storage, signing,
                identity, quota](ActorId self) -> Result<wasm::GuestServices> {
    auto enrolled = enroll(self);
    if (!enrolled.ok()) return enrolled.error();
    wasm::GuestServices s;
    if (storage) {
      auto service = platform.storage_for(key_id);
      if (!service.ok()) return service.error();
      auto lease = (*service)->open_store({type, name}, quota);
      if (!lease.ok()) return lease.error();
      s.storage = std::make_unique<LeasedGuestStorage>(std::move(lease).value());
    }
    if (signing) {
      auto signer = CustodialGuestSigner::open(platform.keys(), key_name);
      if (!signer.ok()) return signer.error();
      s.signing = std::move(signer).value();
    }
    if (identity) s.identity = std::make_unique<EnrolledGuestIdentity>(platform.identities(), self);
    return s;
  };
  ModuleSpawn out;
  out.type_name = type;
  out.key_id = m.signing_key_id;
  out.package_hash = pkg->package_hash;
  out.enroll = enroll;
  auto factory = module_factory(pkg->module, std::move(o));
  if (!factory.ok()) return factory.error();
  // The actor's key is made (or loaded) here, once the module is accepted (a refused spawn
  // leaves no key file behind), on the loader thread: making one writes and flushes a file,
  // which must not hold a worker. Its incarnations find it.
  if (auto key = platform.keys().get_or_create(key_name); !key.ok()) return key.error();
  out.factory = std::move(factory).value();
  return out;
}

// Each optional name a request carries (empty: not given), checked by the one rule for names
// (actor_name.h).
Result<void> check_names(std::initializer_list<std::pair<const std::string*, const char*>> names) {
  for (auto [value, what] : names) {
    if (value->empty()) continue;
    if (auto ok = check_actor_name(*value, what); !ok.ok()) return ok.error();
  }
  return {};
}

}  // namespace

Operations::Operations(ActorSystem& system, const KindRegistry& kinds,
                       const wasm::GuestPolicy& policy, const NodeIdentity& identity, Config config,
                       PlatformServices* platform)
    : system_(system),
      kinds_(kinds),
      guest_kinds_(kinds.guest_reachable_kinds()),
      policy_(policy),
      identity_(identity),
      config_(config),
      replies_(config.max_held_reply_bytes),
      platform_(platform),
      loader_(config.max_pending_module_loads) {
  if (platform_) {
    renewal_ = std::make_unique<CredentialRenewalLoop>(
        platform_->identities(), [this](const IdentityEvent& e) { on_identity_event(e); },
        [this](ActorId id) {
          ActorRef ref = system_.find(id);
          return ref && ref.alive();
        },
        config_.renewal);
  }
}

Operations::~Operations() { shutdown(); }

void Operations::shutdown() {
  loader_.stop();
  if (renewal_) renewal_->stop();
}

void Operations::spawn(SpawnRequest req, std::function<void(Result<SpawnResult>)> done) {
  const bool is_package = !req.package_path.empty();
  const bool is_module = is_package || !req.wasm_path.empty();
  if (req.node == system_.node_id()) req.node = 0;
  if (req.node != 0 && !is_package) {
    return done(Error{BaseErrc::kInvalidArgument,
                      "only a signed package (--package) can be spawned on another node"});
  }
  if (!is_module) {
    if (auto ok = check_actor_name(req.kind, "actor kind"); !ok.ok()) return done(ok.error());
  }
  if (auto ok = check_names({{&req.kind, "actor kind"},
                             {&req.name, "actor name"},
                             {&req.supervisor, "supervisor name"},
                             {&req.type_name, "type name"}});
      !ok.ok()) {
    return done(ok.error());
  }
  if (!req.name.empty()) {
    if (auto ok = check_spawn_name(req.name, "actor name"); !ok.ok()) return done(ok.error());
  }
  if (is_module && !req.type_name.empty()) {
    return done(Error{BaseErrc::kInvalidArgument,
                      is_package ? "a package's type is its signed manifest's "
                                   "manufacturer:name:version; it takes no type name"
                                 : "an unsigned module's type is unsigned:<its SHA-256 prefix>; "
                                   "it takes no type name (sign a package to name its type)"});
  }
  if (req.node != 0) return spawn_remote(req, std::move(done));
  if (is_package && !platform_) {
    return done(Error{BaseErrc::kUnavailable, "this node has no platform services"});
  }
  if (is_module && !is_package && !config_.allow_unsigned) {
    return done(Error{PlatformErrc::kPermissionDenied,
                      "unsigned modules do not run on this node: spawn a signed package "
                      "(--package), or allow them for development ([platform] allow_unsigned = "
                      "true, or troupe node run --allow-unsigned)"});
  }
  if (!is_module) {
    auto factory = native_kind_factory(kinds_, req.kind, req.name, platform_);
    if (!factory.ok()) return done(factory.error());
    return start_child(req, std::move(factory).value(), req.kind, std::move(done));
  }
  spawn_module(req, std::move(done));
}

void Operations::spawn_module(const SpawnRequest& req,
                              std::function<void(Result<SpawnResult>)> done) {
  // Reading, validating and compiling a module takes from milliseconds to seconds: never on
  // the caller's thread (the control I/O thread: every other request would wait) nor on a
  // worker. A refused post drops the job uncalled, so `done` is still ours to answer.
  auto shared_done = std::make_shared<std::function<void(Result<SpawnResult>)>>(std::move(done));
  const bool queued = loader_.post([this, req, shared_done](bool cancelled) {
    auto& done = *shared_done;
    if (cancelled) return done(Error{BaseErrc::kUnavailable, "the node is shutting down"});
    try {
      auto f = req.package_path.empty() ? unsigned_spawn(req, policy_)
                                        : package_spawn(req, policy_, *platform_, guest_kinds_);
      if (!f.ok()) return done(f.error());
      ModuleSpawn m = std::move(f).value();
      if (m.key_id.empty()) {
        return start_child(req, std::move(m.factory), m.type_name, done);
      }
      start_child(req, std::move(m.factory), m.type_name,
                  [this, key_id = m.key_id, hash = m.package_hash, enroll = m.enroll,
                   done](Result<SpawnResult> r) {
                    if (!r.ok()) return done(r);
                    {
                      std::lock_guard lock(packaged_mutex_);
                      // Forget the actors that have stopped since: the list stays as long as
                      // the packaged actors running.
                      std::erase_if(packaged_, [this](const PackagedActor& a) {
                        ActorRef ref = system_.find(a.id);
                        return !ref || !ref.alive();
                      });
                      packaged_.push_back(PackagedActor{r->id, key_id, hash});
                    }
                    // A revocation between the verification and now has not seen this actor.
                    if (!platform_->still_trusted(key_id, hash)) {
                      stop_packaged(
                          [&](const PackagedActor& a) {
                            return a.key_id == key_id && a.package_hash == hash;
                          },
                          "revoked while it was spawned");
                      return done(Error{PlatformErrc::kRevoked,
                                        "the package was revoked while it was spawned"});
                    }
                    // The actor's first start enrolls it too, maybe later than this answer:
                    // enroll now, so `identity show` right after the spawn finds it (after the
                    // trust check: enroll refuses a revoked package anyway). A failure here
                    // fails that start as well (the supervisor's business).
                    if (auto enrolled = enroll(r->id); !enrolled.ok()) {
                      spdlog::warn("actor {}: not enrolled: {}", r->id.to_string(),
                                   enrolled.error().to_string());
                    }
                    done(r);
                  });
    } catch (const std::exception& e) {
      // Answer, never take the loader thread (and the node) down.
      done(Error{BaseErrc::kInternal, e.what()});
    }
  });
  if (!queued && loader_.stopping()) {
    (*shared_done)(Error{BaseErrc::kUnavailable, "the node is shutting down"});
  } else if (!queued) {
    (*shared_done)(Error{BaseErrc::kUnavailable, "too many module loads pending (at most " +
                                                     std::to_string(loader_.max_queued()) +
                                                     "); try again"});
  }
}

void Operations::start_child(const SpawnRequest& req,
                             std::function<std::unique_ptr<Actor>()> factory,
                             const std::string& type_name,
                             std::function<void(Result<SpawnResult>)> done) {
  const std::string& name = req.name;
  const std::string& sup_name = req.supervisor;
  if (!name.empty() && system_.resolve(name)) {
    return done(Error{BaseErrc::kInvalidArgument, "name '" + name + "' is taken"});
  }
  ActorRef sup = sup_name.empty() ? system_.root() : system_.resolve(sup_name);
  if (!sup) return done(Error{BaseErrc::kNotFound, "no supervisor '" + sup_name + "'"});
  ChildSpec spec;
  spec.name = name;
  spec.type_name = type_name;
  spec.factory = std::move(factory);
  spec.restart = req.restart;
  std::string sup_label = sup_name.empty() ? "root" : sup_name;
  system_.ask_then<ActorRef>(
      sup, StartChild{std::move(spec)}, config_.ask_timeout,
      [done = std::move(done), sup_label](Result<ActorRef> r) {
        if (!r.ok()) {
          Error e = r.error();
          if (e.code == BaseErrc::kNotFound)
            e = Error{BaseErrc::kInvalidArgument, "'" + sup_label + "' is not a supervisor"};
          return done(e);
        }
        done(SpawnResult{r->id(), r->type_name()});
      });
}

namespace {

// The envelope for a tell or an ask to `system`'s actors.
Envelope client_envelope(ActorSystem& system, SendRequest& req, bool ask) {
  Envelope e;
  e.kind = ask ? EnvelopeKind::kRequest : EnvelopeKind::kTell;
  e.route = std::move(req.route);
  e.payload = std::move(req.payload);
  e.request_node = system.node_id();
  e.request_id = system.next_request_id();
  // The client's request starts a trace, or continues the one it names.
  e.traceparent = TraceContext::next_hop(req.traceparent);
  return e;
}

}  // namespace

Result<void> Operations::tell(SendRequest req) {
  if (auto ok = check_actor_name(req.actor, "actor name"); !ok.ok()) return ok.error();
  ActorRef target = system_.resolve(req.actor);
  if (!target) {
    if (auto remote = resolve_remote(req.actor)) {
      return cluster_->remote()->tell(remote->node, remote->serial, "",
                                      client_envelope(system_, req, false));
    }
    return Error{BaseErrc::kNotFound, "no actor '" + req.actor + "'"};
  }
  Delivery d = system_.tell(target, client_envelope(system_, req, false));
  if (d == Delivery::kQueued) return {};
  if (d == Delivery::kDeadLetter) return Error{RuntimeErrc::kDead, "actor is dead"};
  return Error{RuntimeErrc::kMailboxFull, "mailbox full"};
}

void Operations::ask(AskRequest req, std::function<void(Result<AskReply>)> done) {
  SendRequest& m = req.message;
  if (auto ok = check_actor_name(m.actor, "actor name"); !ok.ok()) return done(ok.error());
  ActorRef target = system_.resolve(m.actor);
  std::optional<RemoteTarget> remote;
  if (!target) remote = resolve_remote(m.actor);
  if (!target && !remote) return done(Error{BaseErrc::kNotFound, "no actor '" + m.actor + "'"});
  const auto timeout = req.timeout.count() == 0 ? config_.ask_timeout : req.timeout;
  if (timeout.count() < 0 || timeout > kMaxAskTimeout) {
    return done(Error{BaseErrc::kInvalidArgument, "'timeout_ms' must be an integer in 1.." +
                                                      std::to_string(kMaxAskTimeout.count())});
  }
  Envelope e = client_envelope(system_, m, true);
  e.deadline = system_.clock().now() + timeout;
  auto on_reply = [this, done = std::move(done)](Result<Bytes> r) {
    if (!r.ok()) return done(r.error());
    // Held until the client has it: refuse it now rather than buffer past the budget.
    AskReply reply;
    if (!replies_.try_reserve(r->size(), reply.hold)) {
      const std::size_t size = r->size();
      r = Error{BaseErrc::kUnavailable};  // drop the bytes before answering
      return done(Error{
          BaseErrc::kUnavailable,
          "the reply (" + std::to_string(size) +
              " bytes) does not fit in the node's budget for replies held for clients (" +
              std::to_string(replies_.held()) + " of " + std::to_string(replies_.max_bytes()) +
              " bytes in use; [node] max_held_reply_bytes); try again"});
    }
    reply.payload = std::move(r).value();
    done(std::move(reply));
  };
  if (remote) {
    return cluster_->remote()->ask(remote->node, remote->serial, "", std::move(e), timeout,
                                   std::move(on_reply));
  }
  system_.ask_then<Bytes>(target, std::move(e), timeout, std::move(on_reply));
}

ActorEntry Operations::describe(const ActorRef& ref, int depth, std::size_t& budget,
                                std::size_t& omitted) const {
  ActorEntry entry;
  entry.stats = ref.cell()->stats();
  --budget;
  for (const ActorRef& c : ref.cell()->children()) {
    if (budget == 0 || depth >= 64) {
      ++omitted;
      continue;
    }
    entry.children.push_back(describe(c, depth + 1, budget, omitted));
  }
  return entry;
}

ActorListing Operations::list() const {
  std::size_t budget = config_.listing_limit;
  ActorListing out;
  for (const ActorRef& r : system_.top_level()) {
    if (budget == 0) {
      ++out.omitted;
      continue;
    }
    out.actors.push_back(describe(r, 0, budget, out.omitted));
  }
  for (const FailedActor& f : system_.failed()) {  // given up on by their supervisor
    ActorEntry entry;
    entry.stats.id = f.ref.id();
    entry.stats.type_name = f.ref.type_name();
    entry.stats.name = f.name;
    entry.stats.restarts = f.restarts;
    entry.stats.alive = false;
    entry.stats.state = "failed";
    entry.failed = true;
    entry.reason = f.reason.to_string();
    out.actors.push_back(std::move(entry));
  }
  std::lock_guard lock(packaged_mutex_);
  out.actors.insert(out.actors.end(), revoked_.begin(), revoked_.end());
  return out;
}

Result<NodeStatus> Operations::status() const {
  if (!system_.root().alive()) {  // fail closed: a node without its root cannot spawn
    return Error{BaseErrc::kUnavailable, "the root supervisor is dead"};
  }
  NodeStatus s;
  s.node = system_.node_id();
  s.public_key_base64 = identity_.public_key_base64();
  s.boot = identity_.boot();
  s.uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  s.workers = system_.scheduler().workers();
  s.stats = system_.stats();
  s.failed = system_.failed().size();
  for (auto& [n, k] : kinds_.all()) s.kinds.emplace_back(n, k.description);
  return s;
}

Result<ActorId> Operations::stop(const std::string& actor) {
  if (auto ok = check_actor_name(actor, "actor name"); !ok.ok()) return ok.error();
  ActorRef target = system_.resolve(actor);
  if (!target) return Error{BaseErrc::kNotFound, "no actor '" + actor + "'"};
  if (target == system_.root()) {
    return Error{BaseErrc::kInvalidArgument, "the root supervisor stops with the node (Ctrl-C)"};
  }
  system_.stop(target);
  return target.id();
}

Result<PlatformServices*> Operations::platform() const {
  if (!platform_) return Error{BaseErrc::kUnavailable, "this node has no platform services"};
  return platform_;
}

Result<std::string> Operations::trust_key(const std::string& public_key_text) {
  auto p = platform();
  if (!p.ok()) return p.error();
  return (*p)->trust_key(public_key_text);
}

Result<std::size_t> Operations::revoke_key(const std::string& key_id) {
  auto p = platform();
  if (!p.ok()) return p.error();
  if (auto ok = (*p)->revoke_key(key_id); !ok.ok()) return ok.error();
  return stop_packaged([&](const PackagedActor& a) { return a.key_id == key_id; },
                       "signing key " + key_id + " revoked");
}

Result<std::size_t> Operations::revoke_package(const std::string& package_hash) {
  auto p = platform();
  if (!p.ok()) return p.error();
  if (auto ok = (*p)->revoke_package(package_hash); !ok.ok()) return ok.error();
  return stop_packaged([&](const PackagedActor& a) { return a.package_hash == package_hash; },
                       "package " + package_hash + " revoked");
}

Result<TrustListing> Operations::trust_listing() const {
  auto p = platform();
  if (!p.ok()) return p.error();
  return (*p)->trust_listing();
}

std::size_t Operations::stop_packaged(const std::function<bool(const PackagedActor&)>& covered,
                                      const std::string& reason) {
  std::vector<ActorRef> to_stop;
  {
    std::lock_guard lock(packaged_mutex_);
    std::vector<PackagedActor> kept;
    for (PackagedActor& a : packaged_) {
      ActorRef ref = system_.find(a.id);
      if (!ref || !ref.alive()) continue;  // gone already: forget it
      if (!covered(a)) {
        kept.push_back(std::move(a));
        continue;
      }
      ActorEntry entry;
      entry.stats = ref.cell()->stats();
      entry.stats.alive = false;
      entry.stats.state = "revoked";
      entry.failed = true;
      entry.reason = reason;
      revoked_.push_back(std::move(entry));
      while (revoked_.size() > config_.max_revoked_shown) revoked_.pop_front();
      to_stop.push_back(std::move(ref));
    }
    packaged_ = std::move(kept);
  }
  // Final: its supervisor forgets it, so it is not restarted. Its credential goes at once
  // (not at the renewal loop's next sweep): a revoked actor holds none.
  for (const ActorRef& ref : to_stop) {
    system_.stop(ref);
    if (platform_) platform_->identities().forget(ref.id());
  }
  return to_stop.size();
}

}  // namespace troupe
