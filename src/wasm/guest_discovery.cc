#include "troupe/wasm/guest_discovery.h"

#include <string>

#include "troupe/wasm/remote_reach.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {

Result<ActorRef> discover_actor(ActorSystem& system, const GuestGrants& grants,
                                const workload::ActrType& type) {
  const std::string what = type.manufacturer + "/" + type.name;
  // A native kind is granted as troupe's version of the contract.
  if (!may_discover(grants, {type.manufacturer, type.name,
                             type.manufacturer == "troupe" ? "0.1.0" : type.version})) {
    return Error{WasmErrc::kPermissionDenied,
                 "discovering " + what + " is outside this actor's call grants"};
  }
  ActorRef found;
  if (!type.version.empty()) {
    found = system.find_by_type(type.manufacturer + ":" + type.name + ":" + type.version);
  }
  // A native kind's name has no ':' (signed and unsigned types do).
  if (!found && type.manufacturer == "troupe" && type.name.find(':') == std::string::npos &&
      !is_node_internal_type(type.name)) {
    found = system.find_by_type(type.name);
  }
  if (!found) found = discover_remote_actor(system, type);
  if (!found) return Error{BaseErrc::kNotFound, "no live actor of type " + what};
  return found;
}

}  // namespace troupe::wasm
