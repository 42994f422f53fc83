// The value types of actr:workload@0.1.0 (wit/actr-workload.wit) as canonical-ABI types, in
// the WIT's field and case order. The host lifts and lowers the contract's values with these.
// Built once, immutable; thread-safe to share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/wasm/abi_function.h"
#include "troupe/wasm/canonical_abi.h"

namespace troupe::wasm::workload {

// Case indices, in the WIT's order.
enum class ActrErrorCase : std::uint32_t {
  kUnavailable,
  kTimedOut,
  kNotFound,
  kPermissionDenied,
  kInvalidArgument,
  kUnknownRoute,
  kDependencyNotFound,
  kDecodeFailure,
  kNotImplemented,
  kInternal,
};
// The WIT name of a case ("not-found", "dependency-not-found", ...); "?" when out of range.
const char* actr_error_name(std::uint32_t case_index);

enum class DestCase : std::uint32_t { kShell, kLocal, kActor };
enum class PayloadTypeCase : std::uint32_t {
  kRpcReliable,
  kRpcSignal,
  kStreamReliable,
  kStreamLatencyFirst,
  kMediaRtp,
};
enum class ErrorCategoryCase : std::uint32_t {
  kHandlerPanic,
  kHandlerError,
  kSignalingFailure,
  kTransportFailure,
  kDataStreamDeliveryUncertain,
};

struct Types {
  AbiType realm;                 // record { realm-id: u32 }
  AbiType actr_type;             // record { manufacturer, name, version: string }
  AbiType actr_id;               // record { realm, serial-number: u64, type: actr-type }
  AbiType dest;                  // variant { shell, local, actor(actr-id) }
  AbiType rpc_envelope;          // record { request-id, route-key: string, payload: list<u8> }
  AbiType metadata_entry;        // record { key, value: string }
  AbiType data_stream;           // record { stream-id, sequence, payload, metadata, timestamp-ms }
  AbiType payload_type;          // enum-like variant, 5 cases
  AbiType error_category;        // enum-like variant, 5 cases
  AbiType dependency_not_found;  // record { service-name, message: string }
  AbiType actr_error;            // variant, 10 cases
  AbiType peer_event;            // record { peer: actr-id, relayed: option<bool> }
  AbiType timestamp;             // record { seconds: u64, nanoseconds: u32 }
  AbiType error_event;           // record { source, category, context, timestamp }
  AbiType credential_event;      // record { new-expiry: timestamp }
  AbiType backpressure_event;    // record { queue-len, threshold: u64 }
  // Results used by the functions.
  AbiType result_bytes;    // result<list<u8>, actr-error>
  AbiType result_unit;     // result<_, actr-error>
  AbiType result_actr_id;  // result<actr-id, actr-error>
  AbiType option_actr_id;  // option<actr-id>
};

const Types& types();

struct Function {
  std::string name;  // the WIT name, e.g. "call-raw", "on-data-stream"
  FuncType type;
};
// The 11 functions of interface `host` (imported by the guest), in WIT order.
const std::vector<Function>& host_imports();
// The 18 functions of interface `workload` (exported by the guest), in WIT order: dispatch and
// 17 hooks. (The contract's prose says "sixteen hooks"; its WIT, which binding generators
// follow, has 17.)
const std::vector<Function>& guest_exports();
const Function* find_import(std::string_view name);
// The function named `name` in `list` (by WIT name), or nullptr.
const Function* find_function(const std::vector<Function>& list, std::string_view name);
const Function* find_export(std::string_view name);

// Core-module names for the same guest ABI. kWitBindgen is what standard binding generators
// emit; kCm32p2 is the newer scheme current wasm-tools emits. Only the names differ.
enum class NameScheme { kWitBindgen, kCm32p2 };
struct CoreNames {
  NameScheme scheme;
  std::string import_module;
  std::string memory;
  std::string realloc;
  std::optional<std::string> initialize;  // called once after instantiation

  std::string export_name(std::string_view func) const;
  std::string post_return_name(std::string_view func) const;
  // export_name and post_return_name of each of guest_exports(), in its order: built once, so
  // an instantiation resolves its exports without building names.
  std::vector<std::string> export_names;
  std::vector<std::string> post_return_names;
};
const CoreNames& core_names(NameScheme scheme);

}  // namespace troupe::wasm::workload
