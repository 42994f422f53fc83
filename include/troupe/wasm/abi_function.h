// Canonical-ABI function calls in both directions. A FuncType is a component-level signature;
// from it follow the core signature and how values cross:
// - parameters flatten to at most kMaxFlatParams core values, else one i32 pointing at the
//   parameter tuple in linear memory;
// - a result flattens to at most kMaxFlatResults core value, else it travels through memory:
//   an export returns an i32 pointer to it (the host reads it, then calls cabi_post_*), an
//   import gets one extra i32 parameter pointing where the host must store it.
// Stateless; thread-compatible.
#pragma once

#include <optional>
#include <vector>

#include "troupe/wasm/canonical_abi.h"

namespace troupe::wasm {

struct FuncType {
  std::vector<AbiType> params;
  std::optional<AbiType> result;
};

struct CoreSignature {
  std::vector<std::uint8_t> params;   // AbiType::kI32 / kI64
  std::vector<std::uint8_t> results;  // empty or one value
  bool params_indirect = false;
  bool result_indirect = false;
};

// The core signature of a guest export that the host calls ("canon lift").
CoreSignature export_signature(const FuncType& f);
// The core signature of a host import that the guest calls ("canon lower").
CoreSignature import_signature(const FuncType& f);

// --- the host calls a guest export ---
// Core arguments for the call (allocating in the guest when the parameters go indirect).
Result<FlatValues> lower_export_args(GuestMemory& mem, const FuncType& f,
                                     const std::vector<AbiValue>& args);
// The component-level result from the export's core results.
Result<std::optional<AbiValue>> lift_export_result(GuestMemory& mem, const FuncType& f,
                                                   const FlatValues& core_results);

// --- the guest calls a host import ---
Result<std::vector<AbiValue>> lift_import_args(GuestMemory& mem, const FuncType& f,
                                               const FlatValues& core_params);
// Core results for the guest; an indirect result is stored at the out pointer, the last core
// parameter, and the core results are then empty.
Result<FlatValues> lower_import_result(GuestMemory& mem, const FuncType& f,
                                       const std::optional<AbiValue>& result,
                                       const FlatValues& core_params);

}  // namespace troupe::wasm
