#include "troupe/node/node.h"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <filesystem>

#include "troupe/base/trace_context.h"
#include "troupe/node/actor_name.h"
#include "troupe/node/control_protocol.h"
#include "troupe/node/regular_file.h"
#include "troupe/runtime/envelope.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/supervisor.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/guest_budget.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/wasm_actor.h"

namespace troupe {

using nlohmann::json;

namespace {

// A string field of a request; empty when absent; error when present but not a string.
Result<std::string> string_field(const json& req, const char* key, bool required) {
  auto it = req.find(key);
  if (it == req.end()) {
    if (required) return Error{BaseErrc::kInvalidArgument, std::string("missing '") + key + "'"};
    return std::string();
  }
  if (!it->is_string())
    return Error{BaseErrc::kInvalidArgument, std::string("'") + key + "' must be a string"};
  return it->get<std::string>();
}

// A name field, checked by the one rule for names (actor_name.h) whenever it is present.
Result<std::string> name_field(const json& req, const char* key, bool required,
                               std::string_view what) {
  auto value = string_field(req, key, required);
  if (!value.ok() || !req.contains(key)) return value;
  if (auto ok = check_actor_name(*value, what); !ok.ok()) return ok.error();
  return value;
}

// An unsigned integer field in min..max; `fallback` when absent. Doubles, strings, negative
// numbers and anything past max are errors (never wrapped or truncated).
Result<std::uint64_t> uint_field(const json& req, const char* key, std::uint64_t min,
                                 std::uint64_t max, std::uint64_t fallback) {
  auto it = req.find(key);
  if (it == req.end()) return fallback;
  const bool in_range =
      (it->is_number_unsigned() || (it->is_number_integer() && it->get<std::int64_t>() >= 0)) &&
      it->get<std::uint64_t>() >= min && it->get<std::uint64_t>() <= max;
  if (!in_range) {
    return Error{BaseErrc::kInvalidArgument, std::string("'") + key + "' must be an integer in " +
                                                 std::to_string(min) + ".." + std::to_string(max)};
  }
  return it->get<std::uint64_t>();
}

}  // namespace

Node::Node(NodeConfig config, KindRegistry kinds)
    : config_(std::move(config)), kinds_(std::move(kinds)) {}

Result<std::unique_ptr<Node>> Node::start(NodeConfig config, KindRegistry kinds) {
  std::unique_ptr<Node> node(new Node(std::move(config), std::move(kinds)));
  auto identity = NodeIdentity::load_or_create(node->config_.data_dir);
  if (!identity.ok()) return identity.error();
  node->identity_ = std::move(identity).value();
  SystemConfig sc;
  sc.workers = node->config_.workers;
  sc.node_id = node->identity_->node_id();
  sc.first_serial = node->identity_->first_serial();
  sc.last_serial = node->identity_->last_serial();
  node->system_ = std::make_unique<ActorSystem>(sc);
  wasm::GuestBudget::node().set_caps(node->config_.wasm.caps);
  node->loader_ = std::make_unique<JobThread>(kMaxPendingModuleLoads);  // before any request
  Node* raw = node.get();
  auto server = ControlServer::open(
      node->config_.socket_path(),
      [raw](const json& req, const ControlServer::Respond& respond) { raw->handle(req, respond); },
      ControlServer::Options{node->config_.control_max_connections,
                             node->config_.control_idle_timeout});
  if (!server.ok()) {
    node->system_->shutdown();
    return server.error();
  }
  node->control_ = std::move(server).value();
  node->started_ = std::chrono::steady_clock::now();
  return node;
}

Node::~Node() { shutdown(); }

void Node::shutdown() {
  // Module loads first (queued ones are answered "shutting down"; a running compile is waited
  // for): they use the actor system. Then actors: pending CLI asks are answered
  // (dead/shutdown) while the socket still exists.
  if (loader_) loader_->stop();
  if (system_) system_->shutdown();
  if (control_) control_->close();
  control_.reset();
}

void Node::handle(const json& req, const ControlServer::Respond& respond) {
  auto op = string_field(req, "op", true);
  if (!op.ok()) return respond(control::error_response(op.error()));
  try {
    if (*op == "spawn") return op_spawn(req, respond);
    if (*op == "tell") return op_send(req, false, respond);
    if (*op == "ask") return op_send(req, true, respond);
    if (*op == "ls") return respond(op_ls());
    if (*op == "status") return respond(op_status());
    if (*op == "stop") return respond(op_stop(req));
  } catch (const std::exception& e) {
    // A malformed field type that slipped past validation: answer, never crash the node.
    return respond(control::error_response(Error{BaseErrc::kInvalidArgument, e.what()}));
  }
  respond(control::error_response(Error{BaseErrc::kInvalidArgument, "unknown op '" + *op + "'"}));
}

// The limits a spawn request asks for: each field an integer in its range or "unlimited".
static Result<wasm::LimitRequest> limit_request(const json& req) {
  wasm::LimitRequest out;
  for (const wasm::LimitInfo& info : wasm::limit_infos()) {
    auto it = req.find(info.name);
    if (it == req.end()) continue;
    const std::string what = std::string("'") + info.name + "'";
    Result<wasm::LimitValue> v =
        Error{BaseErrc::kInvalidArgument, what + " must be " + wasm::limit_expectation(info)};
    if (it->is_string()) {
      v = wasm::parse_limit(info, it->get<std::string>(), what);
      if (v.ok() && !v->unlimited) {  // a number is a JSON number, not a string
        v = Error{BaseErrc::kInvalidArgument, what + " must be " + wasm::limit_expectation(info)};
      }
    } else if (it->is_number_unsigned()) {
      v = wasm::limit_number(info, it->get<std::uint64_t>(), what);
    }
    if (!v.ok()) return v.error();
    out[static_cast<std::size_t>(info.key)] = *v;
  }
  return out;
}

// The factory and type name for a WebAssembly guest: the module is loaded (and checked) once
// here; every restart instantiates it afresh.
static Result<std::pair<std::function<std::unique_ptr<Actor>()>, std::string>> wasm_factory(
    const json& req, const wasm::GuestPolicy& policy) {
  auto path = control::get_bytes(req, "wasm");  // a file name need not be UTF-8
  auto type = name_field(req, "type", false, "type name");
  if (!path.ok()) return path.error();
  if (!type.ok()) return type.error();
  if (path->empty()) return Error{BaseErrc::kInvalidArgument, "'wasm' must name a module file"};
  auto asked = limit_request(req);
  if (!asked.ok()) return asked.error();
  auto limits = policy.limits_for(*asked);
  if (!limits.ok()) return limits.error();
  auto file = read_regular_file(*path, kMaxModuleFileBytes, "module");
  if (!file.ok()) return file.error();
  std::vector<std::uint8_t> bin(file->begin(), file->end());
  auto module = wasm::GuestModule::load(bin);
  if (!module.ok()) return module.error();
  std::string type_name = type->empty() ? std::filesystem::path(*path).stem().string() : *type;
  if (type->empty()) {
    if (auto ok = check_actor_name(type_name, "the type name taken from the module's file name");
        !ok.ok()) {
      return Error{ok.error().code, ok.error().detail + "; give one with --type"};
    }
  }
  wasm::WasmActorOptions o;
  o.type_name = std::move(type_name);
  o.limits = *limits;
  o.output = policy.output;
  auto tier_field = string_field(req, "tier", false);
  if (!tier_field.ok()) return tier_field.error();
  const auto tier = wasm::parse_tier(tier_field->empty() ? "auto" : *tier_field);
  if (!tier) return Error{BaseErrc::kInvalidArgument, "'tier' must be auto, aot or interp"};
  o.tier = *tier;
  if (auto fits = wasm::fits_limits(*module, o.limits); !fits.ok()) return fits.error();
  auto shared = std::make_shared<const wasm::GuestModule>(std::move(module).value());
  // aot: build (or load from the cache) before spawning; auto: start on the interpreter while
  // the build runs in the background, later incarnations pick the code up.
  // Refuse at once what the node-wide caps would not admit now (each incarnation reserves its
  // own share when it starts).
  if (auto fits = wasm::GuestBudget::node().acquire(wasm::memory_ceiling(*shared, o.limits));
      !fits.ok()) {
    return fits.error();
  }
  wasm::AotCompiler& compiler = wasm::AotCompiler::shared();
  if (*tier == wasm::Tier::kAot) {
    auto code = compiler.compile(*shared);
    if (!code.ok()) return code.error();
  } else if (*tier == wasm::Tier::kAuto) {
    compiler.compile_in_background(shared);
  }
  std::string name_of_type = o.type_name;
  return std::pair{wasm::wasm_actor_factory(std::move(shared), std::move(o)), name_of_type};
}

void Node::op_spawn(const json& req, const ControlServer::Respond& respond) {
  const bool is_wasm = req.contains("wasm") || req.contains("wasm_b64");
  auto kind = name_field(req, "kind", !is_wasm, "actor kind");
  auto name = name_field(req, "name", false, "actor name");
  auto sup_name = name_field(req, "supervisor", false, "supervisor name");
  for (auto* r : {&kind, &name, &sup_name}) {
    if (!r->ok()) return respond(control::error_response(r->error()));
  }
  if (!is_wasm) {
    const KindRegistry::Kind* k = kinds_.find(*kind);
    if (!k) {
      std::string known;
      for (auto& [n, _] : kinds_.all()) known += (known.empty() ? "" : ", ") + n;
      return respond(control::error_response(
          Error{BaseErrc::kNotFound, "no actor kind '" + *kind + "' (known: " + known + ")"}));
    }
    return start_child(*name, *sup_name, k->factory, *kind, respond);
  }
  // Reading, validating and compiling a module takes from milliseconds to seconds: never on
  // the control I/O thread (every other request would wait) nor on a worker.
  const bool queued =
      loader_->post([this, req, name = *name, sup = *sup_name, respond](bool cancelled) {
        if (cancelled) {
          return respond(
              control::error_response(Error{BaseErrc::kUnavailable, "the node is shutting down"}));
        }
        try {
          auto f = wasm_factory(req, config_.wasm);
          if (!f.ok()) return respond(control::error_response(f.error()));
          auto [factory, type_name] = std::move(f).value();
          start_child(name, sup, std::move(factory), type_name, respond);
        } catch (const std::exception& e) {
          // As in handle(): answer, never take the loader thread (and the node) down.
          respond(control::error_response(Error{BaseErrc::kInternal, e.what()}));
        }
      });
  if (!queued) {
    respond(control::error_response(
        Error{BaseErrc::kUnavailable, "too many module loads pending (at most " +
                                          std::to_string(loader_->max_queued()) + "); try again"}));
  }
}

void Node::start_child(const std::string& name, const std::string& sup_name,
                       std::function<std::unique_ptr<Actor>()> factory,
                       const std::string& type_name, const ControlServer::Respond& respond) {
  if (!name.empty() && system_->resolve(name)) {
    return respond(
        control::error_response(Error{BaseErrc::kInvalidArgument, "name '" + name + "' is taken"}));
  }
  ActorRef sup = sup_name.empty() ? system_->root() : system_->resolve(sup_name);
  if (!sup) {
    return respond(
        control::error_response(Error{BaseErrc::kNotFound, "no supervisor '" + sup_name + "'"}));
  }
  ChildSpec spec;
  spec.name = name;
  spec.type_name = type_name;
  spec.factory = std::move(factory);
  std::string sup_label = sup_name.empty() ? "root" : sup_name;
  system_->ask_then<ActorRef>(
      sup, StartChild{std::move(spec)}, config_.ask_timeout,
      [respond, sup_label](Result<ActorRef> r) {
        if (!r.ok()) {
          Error e = r.error();
          if (e.code == BaseErrc::kNotFound)
            e = Error{BaseErrc::kInvalidArgument, "'" + sup_label + "' is not a supervisor"};
          return respond(control::error_response(e));
        }
        respond(json{{"ok", true}, {"id", r->id().to_string()}, {"type", r->type_name()}});
      });
}

void Node::op_send(const json& req, bool ask, const ControlServer::Respond& respond) {
  auto actor = name_field(req, "actor", true, "actor name");
  auto route = string_field(req, "route", true);
  for (auto* r : {&actor, &route}) {
    if (!r->ok()) return respond(control::error_response(r->error()));
  }
  auto data = control::get_bytes(req, "data");
  if (!data.ok()) return respond(control::error_response(data.error()));
  ActorRef target = system_->resolve(*actor);
  if (!target) {
    return respond(
        control::error_response(Error{BaseErrc::kNotFound, "no actor '" + *actor + "'"}));
  }
  auto traceparent = string_field(req, "traceparent", false);
  if (!traceparent.ok()) return respond(control::error_response(traceparent.error()));
  Envelope e;
  e.kind = ask ? EnvelopeKind::kRequest : EnvelopeKind::kTell;
  e.route = *route;
  e.payload = std::move(data).value();
  e.request_node = system_->node_id();
  e.request_id = system_->next_request_id();
  // The CLI's request starts a trace, or continues the one it names.
  e.traceparent = TraceContext::next_hop(*traceparent);
  if (!ask) {
    Delivery d = system_->tell(target, std::move(e));
    if (d == Delivery::kQueued) return respond(json{{"ok", true}});
    const char* why = d == Delivery::kDeadLetter ? "actor is dead" : "mailbox full";
    return respond(control::error_response(
        Error{d == Delivery::kDeadLetter ? RuntimeErrc::kDead : RuntimeErrc::kMailboxFull, why}));
  }
  auto timeout_ms = uint_field(req, "timeout_ms", 1, 3'600'000,
                               static_cast<std::uint64_t>(config_.ask_timeout.count()));
  if (!timeout_ms.ok()) return respond(control::error_response(timeout_ms.error()));
  const auto timeout = std::chrono::milliseconds(*timeout_ms);
  e.deadline = system_->clock().now() + timeout;
  system_->ask_then<Bytes>(target, std::move(e), timeout, [respond](Result<Bytes> r) {
    if (!r.ok()) return respond(control::error_response(r.error()));
    json out{{"ok", true}};
    control::put_bytes(out, "reply", *r);
    respond(out);
  });
}

json Node::describe(const ActorRef& ref, int depth, std::size_t& budget, std::size_t& omitted) {
  ActorStats s = ref.cell()->stats();
  --budget;
  json j{{"id", s.id.to_string()},     {"type", s.type_name},    {"name", s.name},
         {"mailbox", s.mailbox_depth}, {"restarts", s.restarts}, {"in", s.messages_in},
         {"out", s.messages_out},      {"alive", s.alive},       {"state", s.state}};
  json children = json::array();
  for (const ActorRef& c : ref.cell()->children()) {
    if (budget == 0 || depth >= 64) {
      ++omitted;
      continue;
    }
    children.push_back(describe(c, depth + 1, budget, omitted));
  }
  j["children"] = std::move(children);
  return j;
}

json Node::op_ls() {
  // Bounded, so that a node with a million actors still answers within one control frame.
  std::size_t budget = kLsLimit;
  std::size_t omitted = 0;
  json tops = json::array();
  for (const ActorRef& r : system_->top_level()) {
    if (budget == 0) {
      ++omitted;
      continue;
    }
    tops.push_back(describe(r, 0, budget, omitted));
  }
  for (const FailedActor& f : system_->failed()) {  // given up on by their supervisor
    tops.push_back(json{{"id", f.ref.id().to_string()},
                        {"type", f.ref.type_name()},
                        {"name", f.name},
                        {"restarts", f.restarts},
                        {"alive", false},
                        {"state", "failed"},
                        {"reason", f.reason.to_string()},
                        {"children", json::array()}});
  }
  return json{{"ok", true}, {"actors", std::move(tops)}, {"omitted", omitted}};
}

json Node::op_status() {
  if (!system_->root().alive()) {  // fail closed: a node without its root cannot spawn
    return control::error_response(Error{BaseErrc::kUnavailable, "the root supervisor is dead"});
  }
  SystemStats st = system_->stats();
  auto up =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  json kinds = json::array();
  for (auto& [n, k] : kinds_.all())
    kinds.push_back(json{{"kind", n}, {"description", k.description}});
  return json{{"ok", true},
              {"node", fmt::format("{:x}", system_->node_id())},
              {"public_key", identity_->public_key_base64()},
              {"boot", identity_->boot()},
              {"uptime_s", up.count()},
              {"workers", system_->scheduler().workers()},
              {"actors", st.live},
              {"spawned", st.spawned},
              {"restarts", st.restarts},
              {"dead_letters", st.dead_letters},
              {"failed", system_->failed().size()},
              {"socket", config_.socket_path()},
              {"kinds", std::move(kinds)}};
}

json Node::op_stop(const json& req) {
  auto actor = name_field(req, "actor", true, "actor name");
  if (!actor.ok()) return control::error_response(actor.error());
  ActorRef target = system_->resolve(*actor);
  if (!target)
    return control::error_response(Error{BaseErrc::kNotFound, "no actor '" + *actor + "'"});
  if (target == system_->root()) {
    return control::error_response(
        Error{BaseErrc::kInvalidArgument, "the root supervisor stops with the node (Ctrl-C)"});
  }
  system_->stop(target);
  return json{{"ok", true}, {"id", target.id().to_string()}};
}

}  // namespace troupe
