#include "troupe/node/control_handler.h"

#include <fmt/format.h>

#include <cstdint>

#include "troupe/node/actor_name.h"
#include "troupe/node/control_protocol.h"
#include "troupe/platform/base64url.h"
#include "troupe/platform/ed25519_key.h"

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

// A name field, checked by the one rule for names (actor_name.h) whenever it is present: an
// empty string is a bad name, not an absent one.
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

// The limits a spawn request asks for: each field an integer in its range or "unlimited".
Result<wasm::LimitRequest> limit_request(const json& req) {
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

std::string public_key_text(const Ed25519PublicKey& key) {
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

json key_json(const KeyInfo& k) {
  json retired = json::array();
  for (const RetiredPublicKey& r : k.retired) {
    retired.push_back(json{{"public_key", public_key_text(r.public_key)},
                           {"key_id", ed25519_key_id(r.public_key)},
                           {"created", r.created},
                           {"retired", r.retired}});
  }
  return json{{"name", k.name},
              {"key_id", k.key_id},
              {"public_key", public_key_text(k.public_key)},
              {"created", k.created},
              {"retired", std::move(retired)}};
}

json entry_json(const ActorEntry& e) {
  const ActorStats& s = e.stats;
  if (e.failed) {
    return json{{"id", s.id.to_string()}, {"type", s.type_name},      {"name", s.name},
                {"restarts", s.restarts}, {"alive", false},           {"state", s.state},
                {"reason", e.reason},     {"children", json::array()}};
  }
  json j{{"id", s.id.to_string()},     {"type", s.type_name},    {"name", s.name},
         {"mailbox", s.mailbox_depth}, {"restarts", s.restarts}, {"in", s.messages_in},
         {"out", s.messages_out},      {"alive", s.alive},       {"state", s.state}};
  json children = json::array();
  for (const ActorEntry& c : e.children) children.push_back(entry_json(c));
  j["children"] = std::move(children);
  return j;
}

}  // namespace

void ControlHandler::handle(const json& req, const ControlServer::Respond& respond) {
  auto op = string_field(req, "op", true);
  if (!op.ok()) return respond(control::error_response(op.error()));
  try {
    if (*op == "spawn") return spawn(req, respond);
    if (*op == "tell") return send(req, false, respond);
    if (*op == "ask") return send(req, true, respond);
    if (*op == "ls") {
      json listing = list();
      if (req.value("cluster", false)) {
        auto remote = ops_.cluster_names();
        if (!remote.ok()) return respond(control::error_response(remote.error()));
        json names = json::array();
        for (const auto& n : *remote) {
          names.push_back(json{{"name", n.name}, {"id", n.id.to_string()}, {"type", n.type}});
        }
        listing["cluster"] = std::move(names);
      }
      return respond(std::move(listing));
    }
    if (*op == "status") return respond(status());
    if (*op == "stop") return respond(stop(req));
    if (*op == "trust-add") return respond(trust_add(req));
    if (*op == "trust-ls") return respond(trust_list());
    if (*op == "trust-revoke") return respond(trust_revoke(req));
    if (*op == "identity-jwks") return respond(identity_jwks());
    if (*op == "identity-show") return respond(identity_show(req));
    if (*op == "keys-ls") return respond(keys_list());
    if (*op == "keys-rotate") return respond(keys_rotate(req));
    if (*op == "cluster-members") return respond(cluster_members());
    if (*op == "cluster-allow") return respond(cluster_allow(req));
    if (*op == "cluster-disallow") return respond(cluster_disallow(req));
  } catch (const std::exception& e) {
    // A malformed field type that slipped past validation: answer, never crash the node.
    return respond(control::error_response(Error{BaseErrc::kInvalidArgument, e.what()}));
  }
  respond(control::error_response(Error{BaseErrc::kInvalidArgument, "unknown op '" + *op + "'"}));
}

void ControlHandler::spawn(const json& req, const ControlServer::Respond& respond) {
  const bool is_package = req.contains("package") || req.contains("package_b64");
  const bool is_wasm = is_package || req.contains("wasm") || req.contains("wasm_b64");
  auto kind = name_field(req, "kind", !is_wasm, "actor kind");
  auto name = name_field(req, "name", false, "actor name");
  auto sup_name = name_field(req, "supervisor", false, "supervisor name");
  for (auto* r : {&kind, &name, &sup_name}) {
    if (!r->ok()) return respond(control::error_response(r->error()));
  }
  SpawnRequest s;
  s.name = *name;
  s.supervisor = *sup_name;
  if (!is_wasm) {
    s.kind = *kind;
  } else {
    const char* field = is_package ? "package" : "wasm";
    if (is_package && (req.contains("wasm") || req.contains("wasm_b64"))) {
      return respond(control::error_response(
          Error{BaseErrc::kInvalidArgument, "give 'package' or 'wasm', not both"}));
    }
    auto path = control::get_bytes(req, field);  // a file name need not be UTF-8
    auto type = name_field(req, "type", false, "type name");
    if (!path.ok()) return respond(control::error_response(path.error()));
    if (!type.ok()) return respond(control::error_response(type.error()));
    if (path->empty()) {
      return respond(control::error_response(
          Error{BaseErrc::kInvalidArgument, is_package ? "'package' must name a package file"
                                                       : "'wasm' must name a module file"}));
    }
    auto limits = limit_request(req);
    if (!limits.ok()) return respond(control::error_response(limits.error()));
    auto tier_field = string_field(req, "tier", false);
    if (!tier_field.ok()) return respond(control::error_response(tier_field.error()));
    const auto tier = wasm::parse_tier(tier_field->empty() ? "auto" : *tier_field);
    if (!tier) {
      return respond(control::error_response(
          Error{BaseErrc::kInvalidArgument, "'tier' must be auto, aot or interp"}));
    }
    (is_package ? s.package_path : s.wasm_path).assign(path->begin(), path->end());
    s.type_name = *type;
    s.limits = *limits;
    s.tier = *tier;
  }
  if (req.contains("node")) {
    auto node_text = string_field(req, "node", true);
    if (!node_text.ok()) return respond(control::error_response(node_text.error()));
    auto node = parse_node_id(*node_text);
    if (!node) {
      return respond(control::error_response(
          Error{BaseErrc::kInvalidArgument,
                "'node' must be a node id (hex, as `troupe cluster members` shows it)"}));
    }
    s.node = *node;
  }
  ops_.spawn(std::move(s), [respond](Result<SpawnResult> r) {
    if (!r.ok()) return respond(control::error_response(r.error()));
    respond(json{{"ok", true}, {"id", r->id.to_string()}, {"type", r->type_name}});
  });
}

void ControlHandler::send(const json& req, bool ask, const ControlServer::Respond& respond) {
  auto actor = name_field(req, "actor", true, "actor name");
  auto route = string_field(req, "route", true);
  for (auto* r : {&actor, &route}) {
    if (!r->ok()) return respond(control::error_response(r->error()));
  }
  auto data = control::get_bytes(req, "data");
  if (!data.ok()) return respond(control::error_response(data.error()));
  auto traceparent = string_field(req, "traceparent", false);
  if (!traceparent.ok()) return respond(control::error_response(traceparent.error()));
  SendRequest m{*actor, *route, std::move(data).value(), *traceparent};
  if (!ask) {
    auto told = ops_.tell(std::move(m));
    if (!told.ok()) return respond(control::error_response(told.error()));
    return respond(json{{"ok", true}});
  }
  auto timeout_ms = uint_field(req, "timeout_ms", 1, Operations::kMaxAskTimeout.count(),
                               static_cast<std::uint64_t>(ops_.config().ask_timeout.count()));
  if (!timeout_ms.ok()) return respond(control::error_response(timeout_ms.error()));
  AskRequest a{std::move(m), std::chrono::milliseconds(*timeout_ms)};
  ops_.ask(std::move(a), [this, respond](Result<AskReply> r) {
    if (!r.ok()) return respond(control::error_response(r.error()));
    json out{{"ok", true}};
    const std::size_t payload = r->payload.size();
    const std::size_t sent = control::put_bytes(out, "reply", r->payload);
    Bytes().swap(r->payload);  // the JSON holds the bytes now; the hold stays until written
    // What the node holds until the client has it is the reply as sent: base64 is 4/3 of the
    // bytes, so the hold grows to that (or the reply is refused, as one past the budget is).
    if (sent > payload && !ops_.reply_budget().try_grow(r->hold, sent - payload)) {
      const ReplyBudget& budget = ops_.reply_budget();
      return respond(control::error_response(
          Error{BaseErrc::kUnavailable,
                "the reply (" + std::to_string(payload) + " bytes, " + std::to_string(sent) +
                    " as sent) does not fit in the node's budget for replies held for clients (" +
                    std::to_string(budget.held()) + " of " + std::to_string(budget.max_bytes()) +
                    " bytes in use; [node] max_held_reply_bytes); try again"}));
    }
    respond(ControlServer::Response{std::move(out),
                                    std::make_shared<ReplyBudget::Hold>(std::move(r->hold))});
  });
}

json ControlHandler::list() {
  ActorListing listing = ops_.list();
  json tops = json::array();
  for (const ActorEntry& e : listing.actors) tops.push_back(entry_json(e));
  return json{{"ok", true}, {"actors", std::move(tops)}, {"omitted", listing.omitted}};
}

json ControlHandler::status() {
  auto st = ops_.status();
  if (!st.ok()) return control::error_response(st.error());
  json kinds = json::array();
  for (auto& [n, d] : st->kinds) kinds.push_back(json{{"kind", n}, {"description", d}});
  return json{{"ok", true},
              {"node", fmt::format("{:x}", st->node)},
              {"public_key", st->public_key_base64},
              {"boot", st->boot},
              {"uptime_s", st->uptime.count()},
              {"workers", st->workers},
              {"actors", st->stats.live},
              {"spawned", st->stats.spawned},
              {"restarts", st->stats.restarts},
              {"dead_letters", st->stats.dead_letters},
              {"failed", st->failed},
              {"socket", socket_path_},
              {"kinds", std::move(kinds)}};
}

json ControlHandler::stop(const json& req) {
  auto actor = name_field(req, "actor", true, "actor name");
  if (!actor.ok()) return control::error_response(actor.error());
  auto id = ops_.stop(*actor);
  if (!id.ok()) return control::error_response(id.error());
  return json{{"ok", true}, {"id", id->to_string()}};
}

json ControlHandler::trust_add(const json& req) {
  auto key = string_field(req, "public_key", true);
  if (!key.ok()) return control::error_response(key.error());
  auto id = ops_.trust_key(*key);
  if (!id.ok()) return control::error_response(id.error());
  return json{{"ok", true}, {"key_id", *id}};
}

json ControlHandler::trust_list() {
  auto listing = ops_.trust_listing();
  if (!listing.ok()) return control::error_response(listing.error());
  json keys = json::array();
  for (const auto& [id, key] : listing->keys)
    keys.push_back(json{{"key_id", id}, {"public_key", key}});
  return json{{"ok", true},
              {"keys", std::move(keys)},
              {"revoked_keys", listing->revoked_keys},
              {"revoked_packages", listing->revoked_packages}};
}

json ControlHandler::trust_revoke(const json& req) {
  auto key_id = string_field(req, "key_id", false);
  auto hash = string_field(req, "package_hash", false);
  for (auto* r : {&key_id, &hash}) {
    if (!r->ok()) return control::error_response(r->error());
  }
  if (req.contains("key_id") == req.contains("package_hash")) {
    return control::error_response(
        Error{BaseErrc::kInvalidArgument, "give 'key_id' or 'package_hash'"});
  }
  auto stopped = req.contains("key_id") ? ops_.revoke_key(*key_id) : ops_.revoke_package(*hash);
  if (!stopped.ok()) return control::error_response(stopped.error());
  return json{{"ok", true}, {"stopped", *stopped}};
}

json ControlHandler::identity_jwks() {
  auto jwks = ops_.identity_jwks();
  if (!jwks.ok()) return control::error_response(jwks.error());
  return json{{"ok", true}, {"jwks", json::parse(*jwks)}};
}

json ControlHandler::identity_show(const json& req) {
  auto actor = name_field(req, "actor", true, "actor name");
  if (!actor.ok()) return control::error_response(actor.error());
  auto id = ops_.identity_of(*actor);
  if (!id.ok()) return control::error_response(id.error());
  const CredentialClaims& c = id->credential.claims;
  return json{{"ok", true},
              {"actor", c.subject},
              {"type", c.actor_type},
              {"issuer", c.issuer},
              {"iat", c.issued_at},
              {"exp", c.expires_at},
              {"package_hash", c.package_hash},
              {"signing_key_id", id->enrollment.signing_key_id},
              {"key_name", id->enrollment.key_name},
              {"public_key", public_key_text(c.confirmation_key)},
              {"credential", id->credential.jws}};
}

json ControlHandler::keys_list() {
  auto keys = ops_.custodial_keys();
  if (!keys.ok()) return control::error_response(keys.error());
  json out = json::array();
  for (const CustodialKeyEntry& k : *keys) {
    json j = key_json(k.key);
    j["actor"] = k.actor ? json(k.actor->to_string()) : json(nullptr);
    out.push_back(std::move(j));
  }
  return json{{"ok", true}, {"keys", std::move(out)}};
}

json ControlHandler::keys_rotate(const json& req) {
  auto actor = name_field(req, "actor", true, "actor name");
  if (!actor.ok()) return control::error_response(actor.error());
  auto key = ops_.rotate_key(*actor);
  if (!key.ok()) return control::error_response(key.error());
  json out = key_json(*key);
  out["ok"] = true;
  return out;
}

json ControlHandler::cluster_members() {
  auto members = ops_.cluster_members();
  if (!members.ok()) return control::error_response(members.error());
  json list = json::array();
  for (const Member& m : *members) {
    list.push_back(json{{"id", fmt::format("{:x}", m.id)},
                        {"key", net::node_key_text(m.identity)},
                        {"address", m.address},
                        {"state", member_state_name(m.state)},
                        {"incarnation", m.incarnation}});
  }
  return json{{"ok", true}, {"members", std::move(list)}};
}

json ControlHandler::cluster_allow(const json& req) {
  auto key = string_field(req, "key", true);  // parse_node_key judges it
  if (!key.ok()) return control::error_response(key.error());
  auto added = ops_.cluster_allow(*key);
  if (!added.ok()) return control::error_response(added.error());
  return json{{"ok", true}, {"added", *added}};
}

json ControlHandler::cluster_disallow(const json& req) {
  auto key = string_field(req, "key", true);
  if (!key.ok()) return control::error_response(key.error());
  auto out = ops_.cluster_disallow(*key);
  if (!out.ok()) return control::error_response(out.error());
  return json{{"ok", true}, {"removed", out->removed}, {"in_config", out->in_config}};
}

}  // namespace troupe
