#include "troupe/wasm/guest_grants.h"

#include "troupe/runtime/remote_directory.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {

GuestVisibleType guest_visible_type(std::string_view type_name) {
  const auto first = type_name.find(':');
  if (first == std::string_view::npos) return {"troupe", std::string(type_name), "0.1.0"};
  const auto second = type_name.find(':', first + 1);
  if (second == std::string_view::npos) {
    return {std::string(type_name.substr(0, first)), std::string(type_name.substr(first + 1)), ""};
  }
  return {std::string(type_name.substr(0, first)),
          std::string(type_name.substr(first + 1, second - first - 1)),
          std::string(type_name.substr(second + 1))};
}

bool is_node_internal_type(std::string_view type_name) {
  // "supervisor": every supervisor, the root included; "actor": what the runtime names an
  // actor spawned without a type (the node's own helpers). Neither is a kind a client spawns.
  return type_name == "supervisor" || type_name == "actor";
}

bool type_pattern_matches(std::string_view pattern, const GuestVisibleType& type) {
  const std::string_view parts[3] = {type.manufacturer, type.name, type.version};
  for (int i = 0; i < 3; ++i) {
    const auto colon = pattern.find(':');
    if ((colon == std::string_view::npos) != (i == 2)) return false;
    const std::string_view want = pattern.substr(0, colon);
    if (want != "*" && want != parts[i]) return false;
    if (i < 2) pattern.remove_prefix(colon + 1);
  }
  return true;
}

namespace {
bool is_type_pattern(std::string_view pattern) {
  return pattern.find(':') != std::string_view::npos;
}

// A native actor's runtime type has no ':' (packages' "m:n:v" and unsigned modules'
// "unsigned:x" do): it is reachable only when the node exposes its kind to guests.
bool native_exposed(const GuestGrants& grants, std::string_view runtime_type) {
  if (runtime_type.find(':') != std::string_view::npos) return true;
  return grants.native_kinds != nullptr && grants.native_kinds->contains(runtime_type);
}
}  // namespace

bool may_reach(const GuestGrants& grants, const ActorSystem& system, const ActorRef& self,
               const ActorRef& target) {
  if (!target) return false;
  return may_reach(grants, system, self.id(), target.id(), target.type_name());
}

bool may_reach(const GuestGrants& grants, const ActorSystem& system, ActorId self, ActorId target,
               std::string_view type_name) {
  if (!target.valid()) return false;
  if (target == self) return true;
  if (is_node_internal_type(type_name)) return false;
  if (grants.call_any) return true;
  const bool foreign = target.node != system.node_id();
  if (foreign && type_name == kUnknownRemoteType) return false;
  if (!native_exposed(grants, type_name)) return false;
  const GuestVisibleType type = guest_visible_type(type_name);
  std::shared_ptr<RemoteDirectory> directory;  // looked up at the first name pattern, if any
  for (const std::string& pattern : grants.call) {
    if (is_type_pattern(pattern)) {
      if (type_pattern_matches(pattern, type)) return true;
      continue;
    }
    // A name is this node's when this node has it (local first), else the cluster's.
    if (ActorRef named = system.find(pattern)) {
      if (named.id() == target) return true;
      continue;
    }
    if (!foreign) continue;
    if (!directory) directory = system.remote_directory();
    if (!directory) continue;
    if (auto entry = directory->lookup(pattern); entry && entry->id == target) return true;
  }
  return false;
}

bool may_discover(const GuestGrants& grants, const GuestVisibleType& type) {
  if (grants.call_any) return true;
  if (type.manufacturer == "troupe" && !native_exposed(grants, type.name)) return false;
  for (const std::string& pattern : grants.call) {
    if (is_type_pattern(pattern) && type_pattern_matches(pattern, type)) return true;
  }
  return false;
}

Result<void> check_granted_imports(const GuestModule& module, const GuestGrants& grants,
                                   bool storage, bool signing, bool identity,
                                   std::string_view why) {
  auto missing = [&](std::string_view capability, std::string_view import) {
    return Error{WasmErrc::kPermissionDenied, "the module imports " + std::string(import) +
                                                  " but " + std::string(why) + " the " +
                                                  std::string(capability) + " capability"};
  };
  for (const std::string& import : module.troupe_imports()) {
    const std::string iface = import.substr(0, import.find('.'));
    const bool granted = (iface == "storage" && storage) || (iface == "signing" && signing) ||
                         (iface == "identity" && identity) || (iface == "clock" && grants.clock) ||
                         (iface == "random" && grants.random);
    if (!granted) return missing(iface, "troupe:host/" + import);
  }
  for (const std::string& name : module.wasi_imports()) {
    if (name == "clock_time_get" && !grants.clock) return missing("clock", "WASI " + name);
    if (name == "random_get" && !grants.random) return missing("random", "WASI " + name);
  }
  return {};
}

}  // namespace troupe::wasm
