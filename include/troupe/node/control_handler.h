// ControlHandler: the control socket's side of Operations. It turns one control request (JSON,
// control_protocol.h) into a typed Operations call and the typed result back into the JSON
// response, so that the wire format lives here and the operations themselves in Operations.
// Checks only what is JSON (field presence and types); Operations checks the values.
// Threading: handle() may be called from any thread; it answers through `respond` once, maybe
// later from another thread. Lifetime: must outlive the requests it has not answered yet
// (Node keeps it until the actor system has stopped).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "troupe/node/control_server.h"
#include "troupe/node/operations.h"

namespace troupe {

class ControlHandler {
 public:
  // `socket_path` is what `status` reports.
  ControlHandler(Operations& operations, std::string socket_path)
      : ops_(operations), socket_path_(std::move(socket_path)) {}

  void handle(const nlohmann::json& request, const ControlServer::Respond& respond);

 private:
  void spawn(const nlohmann::json& req, const ControlServer::Respond& respond);
  void send(const nlohmann::json& req, bool ask, const ControlServer::Respond& respond);
  nlohmann::json list();
  nlohmann::json status();
  nlohmann::json stop(const nlohmann::json& req);
  nlohmann::json trust_add(const nlohmann::json& req);
  nlohmann::json trust_list();
  nlohmann::json trust_revoke(const nlohmann::json& req);
  nlohmann::json identity_jwks();
  nlohmann::json identity_show(const nlohmann::json& req);
  nlohmann::json keys_list();
  nlohmann::json keys_rotate(const nlohmann::json& req);
  nlohmann::json cluster_members();
  nlohmann::json cluster_allow(const nlohmann::json& req);
  nlohmann::json cluster_disallow(const nlohmann::json& req);

  Operations& ops_;
  const std::string socket_path_;
};

}  // namespace troupe
