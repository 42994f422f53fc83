#include "troupe/wasm/remote_reach.h"

#include <optional>
#include <string_view>

#include "troupe/runtime/remote_directory.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {

Result<ActorRef> resolve_remote_actor(ActorSystem& system, const GuestGrants& grants, ActorId self,
                                      const workload::ActrId& id) {
  const std::string who =
      "actor " + std::to_string(id.serial) + " of realm " + std::to_string(id.realm);
  auto directory = system.remote_directory();
  const auto node = directory ? directory->realms().node_of(id.realm) : std::nullopt;
  if (node) {
    const ActorId target{*node, id.serial};
    ActorRef live = system.find(target);
    std::optional<std::string> type;
    if (live) {
      type = live.type_name();
    } else if (auto e = directory->registered_id(target)) {
      type = std::move(e->type_name);
    }
    if (type && may_reach(grants, system, self, target, *type)) {
      if (live) return live;
      return directory->stand_in(target, *type);
    }
    if (type) {
      return Error{WasmErrc::kPermissionDenied, who + " is outside this actor's call grants"};
    }
  }
  if (grants.call_any) return Error{BaseErrc::kNotFound, "no live " + who};
  return Error{WasmErrc::kPermissionDenied, who + " is outside this actor's call grants"};
}

ActorRef remote_caller_stand_in(ActorSystem& system, ActorId caller,
                                const std::string& caller_type) {
  if (caller.serial == 0 || caller.node == system.node_id()) return {};
  auto directory = system.remote_directory();
  if (!directory) return {};
  auto ref = directory->stand_in(caller, caller_type);
  return ref.ok() ? *ref : ActorRef{};
}

ActorRef discover_remote_actor(ActorSystem& system, const workload::ActrType& type) {
  auto directory = system.remote_directory();
  if (!directory) return {};
  const std::string signed_type = type.version.empty()
                                      ? std::string()
                                      : type.manufacturer + ":" + type.name + ":" + type.version;
  const bool native = type.manufacturer == "troupe" && type.name.find(':') == std::string::npos &&
                      !is_node_internal_type(type.name);
  std::optional<RemoteActorEntry> best = directory->first_registered([&](std::string_view t) {
    const bool match = (!signed_type.empty() && t == signed_type) || (native && t == type.name);
    return match && !is_node_internal_type(t);
  });
  if (!best) return {};
  auto ref = directory->stand_in(best->id, best->type_name);
  return ref.ok() ? *ref : ActorRef{};
}

}  // namespace troupe::wasm
