#include "troupe/node/operations.h"

#include <filesystem>
#include <utility>

#include "troupe/base/trace_context.h"
#include "troupe/node/actor_name.h"
#include "troupe/node/regular_file.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/wasm_actor.h"

namespace troupe {

namespace {

using Factory = std::function<std::unique_ptr<Actor>()>;

// The factory and type name for a WebAssembly guest: the module is loaded (and checked) once
// here; every restart instantiates it afresh.
Result<std::pair<Factory, std::string>> wasm_factory(const SpawnRequest& req,
                                                     const wasm::GuestPolicy& policy) {
  if (req.wasm_path.empty())
    return Error{BaseErrc::kInvalidArgument, "'wasm' must name a module file"};
  auto limits = policy.limits_for(req.limits);
  if (!limits.ok()) return limits.error();
  auto file = read_regular_file(req.wasm_path, kMaxModuleFileBytes, "module");
  if (!file.ok()) return file.error();
  std::vector<std::uint8_t> bin(file->begin(), file->end());
  auto module = wasm::GuestModule::load(bin);
  if (!module.ok()) return module.error();
  std::string type_name =
      req.type_name.empty() ? std::filesystem::path(req.wasm_path).stem().string() : req.type_name;
  if (req.type_name.empty()) {
    if (auto ok = check_actor_name(type_name, "the type name taken from the module's file name");
        !ok.ok()) {
      return Error{ok.error().code, ok.error().detail + "; give one with --type"};
    }
  }
  wasm::WasmActorOptions o;
  o.type_name = std::move(type_name);
  o.limits = *limits;
  o.output = policy.output;
  o.tier = req.tier;
  if (auto fits = wasm::fits_limits(*module, o.limits); !fits.ok()) return fits.error();
  auto shared = std::make_shared<const wasm::GuestModule>(std::move(module).value());
  // Refuse at once what the node-wide caps would not admit now (each incarnation reserves its
  // own share when it starts).
  if (auto fits = wasm::GuestBudget::node().acquire(wasm::memory_ceiling(*shared, o.limits));
      !fits.ok()) {
    return fits.error();
  }
  // aot: build (or load from the cache) before spawning; auto: start on the interpreter while
  // the build runs in the background, later incarnations pick the code up.
  wasm::AotCompiler& compiler = wasm::AotCompiler::shared();
  if (req.tier == wasm::Tier::kAot) {
    auto code = compiler.compile(*shared);
    if (!code.ok()) return code.error();
  } else if (req.tier == wasm::Tier::kAuto) {
    compiler.compile_in_background(shared);
  }
  std::string name_of_type = o.type_name;
  return std::pair{wasm::wasm_actor_factory(std::move(shared), std::move(o)), name_of_type};
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
                       const wasm::GuestPolicy& policy, const NodeIdentity& identity, Config config)
    : system_(system),
      kinds_(kinds),
      policy_(policy),
      identity_(identity),
      config_(config),
      replies_(config.max_held_reply_bytes),
      loader_(config.max_pending_module_loads) {}

Operations::~Operations() { shutdown(); }

void Operations::shutdown() { loader_.stop(); }

void Operations::spawn(SpawnRequest req, std::function<void(Result<SpawnResult>)> done) {
  const bool is_module = !req.wasm_path.empty();
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
  if (!is_module) {
    const KindRegistry::Kind* k = kinds_.find(req.kind);
    if (!k) {
      std::string known;
      for (auto& [n, _] : kinds_.all()) known += (known.empty() ? "" : ", ") + n;
      return done(
          Error{BaseErrc::kNotFound, "no actor kind '" + req.kind + "' (known: " + known + ")"});
    }
    return start_child(req.name, req.supervisor, k->factory, req.kind, std::move(done));
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
      auto f = wasm_factory(req, policy_);
      if (!f.ok()) return done(f.error());
      auto [factory, type_name] = std::move(f).value();
      start_child(req.name, req.supervisor, std::move(factory), type_name, done);
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

void Operations::start_child(const std::string& name, const std::string& sup_name,
                             std::function<std::unique_ptr<Actor>()> factory,
                             const std::string& type_name,
                             std::function<void(Result<SpawnResult>)> done) {
  if (!name.empty() && system_.resolve(name)) {
    return done(Error{BaseErrc::kInvalidArgument, "name '" + name + "' is taken"});
  }
  ActorRef sup = sup_name.empty() ? system_.root() : system_.resolve(sup_name);
  if (!sup) return done(Error{BaseErrc::kNotFound, "no supervisor '" + sup_name + "'"});
  ChildSpec spec;
  spec.name = name;
  spec.type_name = type_name;
  spec.factory = std::move(factory);
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
  if (!target) return Error{BaseErrc::kNotFound, "no actor '" + req.actor + "'"};
  Delivery d = system_.tell(target, client_envelope(system_, req, false));
  if (d == Delivery::kQueued) return {};
  if (d == Delivery::kDeadLetter) return Error{RuntimeErrc::kDead, "actor is dead"};
  return Error{RuntimeErrc::kMailboxFull, "mailbox full"};
}

void Operations::ask(AskRequest req, std::function<void(Result<AskReply>)> done) {
  SendRequest& m = req.message;
  if (auto ok = check_actor_name(m.actor, "actor name"); !ok.ok()) return done(ok.error());
  ActorRef target = system_.resolve(m.actor);
  if (!target) return done(Error{BaseErrc::kNotFound, "no actor '" + m.actor + "'"});
  const auto timeout = req.timeout.count() == 0 ? config_.ask_timeout : req.timeout;
  if (timeout.count() < 0 || timeout > kMaxAskTimeout) {
    return done(Error{BaseErrc::kInvalidArgument, "'timeout_ms' must be an integer in 1.." +
                                                      std::to_string(kMaxAskTimeout.count())});
  }
  Envelope e = client_envelope(system_, m, true);
  e.deadline = system_.clock().now() + timeout;
  system_.ask_then<Bytes>(
      target, std::move(e), timeout, [this, done = std::move(done)](Result<Bytes> r) {
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
      });
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

}  // namespace troupe
