// troupe's own host interfaces (wit/troupe-host.wit, package troupe:host@0.1.0) as a guest
// imports them: which this node provides, their canonical-ABI types, and the import module
// names in both naming schemes ("troupe:host/clock@0.1.0", "cm32p2|troupe:host/clock@0.1").
// clock and random are served by the instance itself; storage and signing by the actor's
// GuestServices (guest_services.h), which the node makes from what the actor was granted.
// Immutable tables; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "troupe/wasm/guest_services.h"
#include "troupe/wasm/workload_types.h"

namespace troupe::wasm::troupe_host {

struct Interface {
  std::string name;                           // "clock"
  std::vector<workload::Function> functions;  // empty when not provided
  std::string unavailable;                    // why not, when not provided
};

// The interface an import module names in `scheme`, or nullptr when it is not troupe:host.
const Interface* find_interface(std::string_view import_module, workload::NameScheme scheme);
// One provided function of one interface; entries live as long as the process.
struct ImportRef {
  const Interface* iface;
  const workload::Function* function;
};
// The function `name` of the interface `import_module` names, or nullptr. Allocates nothing.
const ImportRef* find_import(std::string_view import_module, std::string_view name,
                             workload::NameScheme scheme);
// The import module name of `iface` in `scheme`.
std::string import_module(std::string_view iface, workload::NameScheme scheme);

// troupe:host/errors.host-error, and a result's err case carrying one.
const AbiType& host_error_type();
AbiValue host_error_value(const HostError& e);

// random.fill serves at most this many bytes per call; more is a trap.
inline constexpr std::uint32_t kMaxRandomFill = 1u << 20;

}  // namespace troupe::wasm::troupe_host
