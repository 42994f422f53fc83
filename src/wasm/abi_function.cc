#include "troupe/wasm/abi_function.h"

#include <string>

#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {
namespace {

Error violation(std::string what) { return Error{WasmErrc::kAbiViolation, std::move(what)}; }

std::vector<std::uint8_t> flat_params(const FuncType& f) {
  std::vector<std::uint8_t> out;
  for (auto& p : f.params) out.insert(out.end(), p.flat().begin(), p.flat().end());
  return out;
}

AbiType param_tuple(const FuncType& f) { return AbiType::record(f.params); }

// Whether the parameters travel through memory (more flat values than registers allow);
// counted without building the signature, as this runs on every call.
bool params_indirect(const FuncType& f) {
  std::size_t n = 0;
  for (const auto& p : f.params) n += p.flat().size();
  return n > kMaxFlatParams;
}

bool result_indirect(const FuncType& f) {
  return f.result && f.result->flat().size() > kMaxFlatResults;
}

// Reads a (pointer) core value as a 32-bit address.
std::uint32_t addr(std::uint64_t v) { return static_cast<std::uint32_t>(v & 0xFFFFFFFFu); }

}  // namespace

CoreSignature export_signature(const FuncType& f) {
  CoreSignature s;
  s.params = flat_params(f);
  if (s.params.size() > kMaxFlatParams) {
    s.params = {AbiType::kI32};
    s.params_indirect = true;
  }
  if (f.result) {
    s.result_indirect = result_indirect(f);
    s.results = s.result_indirect ? std::vector<std::uint8_t>{AbiType::kI32} : f.result->flat();
  }
  return s;
}

CoreSignature import_signature(const FuncType& f) {
  CoreSignature s = export_signature(f);
  if (s.result_indirect) {
    s.params.push_back(AbiType::kI32);  // where the host stores the result
    s.results.clear();
  }
  return s;
}

Result<FlatValues> lower_export_args(GuestMemory& mem, const FuncType& f,
                                     const std::vector<AbiValue>& args) {
  if (args.size() != f.params.size())
    return Error{BaseErrc::kInternal, "wrong number of arguments"};
  FlatValues out;
  if (!params_indirect(f)) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      auto r = lower_flat(mem, f.params[i], args[i], out);
      if (!r.ok()) return r.error();
    }
    return out;
  }
  AbiType tuple = param_tuple(f);
  auto p = mem.realloc(0, 0, tuple.alignment(), tuple.size());
  if (!p.ok()) return p.error();
  auto r = store(mem, tuple, AbiValue::of_items(args), *p);  // checks what realloc returned
  if (!r.ok()) return r.error();
  out.push_back(*p);
  return out;
}

Result<std::optional<AbiValue>> lift_export_result(GuestMemory& mem, const FuncType& f,
                                                   const FlatValues& core_results) {
  if (!f.result) return std::optional<AbiValue>{};
  if (core_results.size() != 1) return Error{BaseErrc::kInternal, "export returned no value"};
  Result<AbiValue> v = result_indirect(f) ? load(mem, *f.result, addr(core_results[0])) : [&] {
    std::size_t i = 0;
    return lift_flat(mem, *f.result, core_results, i);
  }();
  if (!v.ok()) return v.error();
  return std::optional<AbiValue>(std::move(v).value());
}

Result<std::vector<AbiValue>> lift_import_args(GuestMemory& mem, const FuncType& f,
                                               const FlatValues& core_params) {
  const bool indirect = params_indirect(f);
  std::size_t expected = 1;
  if (!indirect) {
    expected = 0;
    for (const auto& p : f.params) expected += p.flat().size();
  }
  if (result_indirect(f)) ++expected;  // the out pointer
  if (core_params.size() != expected) {
    return Error{BaseErrc::kInternal, "core parameter count does not match the signature"};
  }
  std::vector<AbiValue> out;
  if (indirect) {
    auto tuple = load(mem, param_tuple(f), addr(core_params[0]));
    if (!tuple.ok()) return tuple.error();
    return std::move(tuple.value().items);
  }
  std::size_t i = 0;
  for (auto& p : f.params) {
    auto v = lift_flat(mem, p, core_params, i);
    if (!v.ok()) return v.error();
    out.push_back(std::move(v).value());
  }
  return out;
}

Result<FlatValues> lower_import_result(GuestMemory& mem, const FuncType& f,
                                       const std::optional<AbiValue>& result,
                                       const FlatValues& core_params) {
  FlatValues out;
  if (!f.result) return out;
  if (!result) return Error{BaseErrc::kInternal, "missing result"};
  if (!result_indirect(f)) {
    auto r = lower_flat(mem, *f.result, *result, out);
    if (!r.ok()) return r.error();
    return out;
  }
  if (core_params.empty()) return Error{BaseErrc::kInternal, "no out pointer"};
  std::uint32_t where = addr(core_params.back());
  // The guest chose this address: store() checks alignment and bounds before writing.
  auto r = store(mem, *f.result, *result, where);
  if (!r.ok()) {
    if (r.error().code == WasmErrc::kAbiViolation)
      return violation("result pointer: " + r.error().detail);
    return r.error();
  }
  return out;
}

}  // namespace troupe::wasm
