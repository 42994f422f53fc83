#include "troupe/wasm/guest_module.h"

#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/validator.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>

#include "fuel_internal.h"
#include "troupe/wasm/fuel.h"
#include "troupe/wasm/troupe_host.h"

namespace troupe::wasm {
namespace {

using workload::NameScheme;
using CoreTypes = std::vector<std::uint8_t>;

constexpr std::string_view kCm32p2Prefix = "cm32p2|";

Error refused(std::string why) { return Error{BaseErrc::kRefused, std::move(why)}; }

struct CoreSig {
  CoreTypes params, results;
  friend bool operator==(const CoreSig&, const CoreSig&) = default;
};

std::optional<CoreSig> to_core(const wabt::FuncSignature& sig) {
  CoreSig out;
  auto convert = [](const wabt::TypeVector& in, CoreTypes& to) {
    for (const wabt::Type& t : in) {
      if (t == wabt::Type::I32) {
        to.push_back(AbiType::kI32);
      } else if (t == wabt::Type::I64) {
        to.push_back(AbiType::kI64);
      } else {
        return false;  // floats or references never appear in this contract
      }
    }
    return true;
  };
  if (!convert(sig.param_types, out.params) || !convert(sig.result_types, out.results)) {
    return std::nullopt;
  }
  return out;
}

std::string describe(const CoreTypes& t) {
  std::string s = "(";
  for (std::size_t i = 0; i < t.size(); ++i) {
    s += (i ? ", " : "") + std::string(t[i] == AbiType::kI32 ? "i32" : "i64");
  }
  return s + ")";
}

std::string describe(const CoreSig& s) { return describe(s.params) + " -> " + describe(s.results); }

// The allowed WASI preview1 functions and their core signatures.
const std::map<std::string, CoreSig>& wasi_allowed() {
  constexpr auto i32 = AbiType::kI32;
  constexpr auto i64 = AbiType::kI64;
  static const std::map<std::string, CoreSig> m{
      {"fd_write", {{i32, i32, i32, i32}, {i32}}},
      {"clock_time_get", {{i32, i64, i32}, {i32}}},
      {"random_get", {{i32, i32}, {i32}}},
      {"proc_exit", {{i32}, {}}},
      {"environ_get", {{i32, i32}, {i32}}},
      {"environ_sizes_get", {{i32, i32}, {i32}}},
      {"args_get", {{i32, i32}, {i32}}},
      {"args_sizes_get", {{i32, i32}, {i32}}},
      // What wasi-libc's stdio asks about stdout/stderr; answered without any host file.
      {"fd_close", {{i32}, {i32}}},
      {"fd_fdstat_get", {{i32, i32}, {i32}}},
      {"fd_seek", {{i32, i64, i32, i32}, {i32}}},
  };
  return m;
}

CoreSig as_sig(const CoreSignature& s) { return {s.params, s.results}; }

// The contract export a core export name stands for, in either scheme: (wit name, is_post).
std::optional<std::pair<std::string, bool>> contract_export(const std::string& name,
                                                            NameScheme scheme) {
  const auto& names = workload::core_names(scheme);
  for (const auto& f : workload::guest_exports()) {
    if (name == names.export_name(f.name)) return std::make_pair(f.name, false);
    if (name == names.post_return_name(f.name)) return std::make_pair(f.name, true);
  }
  return std::nullopt;
}

}  // namespace

Result<GuestModule> GuestModule::load(std::span<const std::uint8_t> wasm) {
  wabt::Errors errors;
  wabt::Module ir;
  wabt::Features features;
  wabt::ReadBinaryOptions read_options(features, nullptr, /*read_debug_names=*/false,
                                       /*stop_on_first_error=*/true,
                                       /*fail_on_custom_section_error=*/true);
  if (wabt::Failed(
          wabt::ReadBinaryIr("guest.wasm", wasm.data(), wasm.size(), read_options, &errors, &ir))) {
    return refused("not a valid WebAssembly binary: " +
                   wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary));
  }
  wabt::ValidateOptions validate_options(features);
  if (wabt::Failed(wabt::ValidateModule(&ir, &errors, validate_options))) {
    return refused("invalid module: " +
                   wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary));
  }

  // One naming scheme for the whole module.
  bool any_cm32p2 = false, any_classic = false;
  for (const wabt::Import* imp : ir.imports) {
    if (imp->module_name == kWasiModule) continue;
    (imp->module_name.starts_with(kCm32p2Prefix) ? any_cm32p2 : any_classic) = true;
  }
  for (const wabt::Export* exp : ir.exports) {
    if (exp->name.starts_with(kCm32p2Prefix) || exp->name.starts_with("cm32p2_")) {
      any_cm32p2 = true;
    } else if (exp->name.find("actr:workload/") != std::string::npos ||
               exp->name == "cabi_realloc") {
      any_classic = true;
    }
  }
  if (any_cm32p2 && any_classic) {
    return refused("the module mixes the cm32p2 and the wit-bindgen naming schemes");
  }
  GuestModule m;
  m.scheme_ = any_cm32p2 ? NameScheme::kCm32p2 : NameScheme::kWitBindgen;
  const workload::CoreNames& names = workload::core_names(m.scheme_);

  for (const wabt::Import* imp : ir.imports) {
    std::string what = "import " + imp->module_name + "." + imp->field_name;
    if (imp->kind() != wabt::ExternalKind::Func) {
      return refused(what +
                     ": only functions may be imported (memory, tables and globals are "
                     "the guest's own)");
    }
    const auto* fimp = static_cast<const wabt::FuncImport*>(imp);
    auto sig = to_core(fimp->func.decl.sig);
    std::optional<CoreSig> expected;
    if (imp->module_name == kWasiModule) {
      auto it = wasi_allowed().find(imp->field_name);
      if (it == wasi_allowed().end()) {
        return refused(what +
                       " is outside the allowed WASI subset (fd_write, fd_fdstat_get, fd_seek, "
                       "fd_close, clock_time_get, random_get, proc_exit, environ_*, args_*)");
      }
      expected = it->second;
      m.wasi_imports_.insert(imp->field_name);
    } else if (imp->module_name == names.import_module) {
      const workload::Function* f = workload::find_import(imp->field_name);
      if (!f) return refused(what + " is not a function of actr:workload/host");
      expected = as_sig(import_signature(f->type));
      m.host_imports_.insert(f->name);
    } else if (const troupe_host::Interface* iface =
                   troupe_host::find_interface(imp->module_name, m.scheme_)) {
      if (!iface->unavailable.empty())
        return refused(what + ": " + imp->module_name + " " + iface->unavailable);
      const workload::Function* f = workload::find_function(iface->functions, imp->field_name);
      if (!f) return refused(what + " is not a function of " + imp->module_name);
      expected = as_sig(import_signature(f->type));
      m.troupe_imports_.insert(iface->name + "." + f->name);
    } else {
      return refused(what + " is outside the contract (allowed: " + names.import_module + ", " +
                     troupe_host::import_module("<clock|random|storage|signing|identity>", m.scheme_) +
                     ", " + std::string(kWasiModule) + ")");
    }
    if (!sig || *sig != *expected) {
      return refused(what + " has the wrong core signature (expected " + describe(*expected) + ")");
    }
  }

  bool memory = false, realloc = false;
  for (const wabt::Export* exp : ir.exports) {
    if (exp->kind == wabt::ExternalKind::Memory) {
      if (exp->name == names.memory) memory = true;
      continue;
    }
    if (exp->kind != wabt::ExternalKind::Func) continue;
    const wabt::Func* fn = ir.GetFunc(exp->var);
    if (fn == nullptr) return refused("export " + exp->name + " names no function");
    auto sig = to_core(fn->decl.sig);
    auto check = [&](const CoreSig& want) -> Result<void> {
      if (!sig || *sig != want) {
        return refused("export " + exp->name + " has the wrong core signature (expected " +
                       describe(want) + ")");
      }
      return {};
    };
    constexpr auto i32 = AbiType::kI32;
    Result<void> ok;
    if (exp->name == names.realloc) {
      ok = check({{i32, i32, i32, i32}, {i32}});
      realloc = true;
    } else if (names.initialize && exp->name == *names.initialize) {
      ok = check({{}, {}});
      m.has_initialize_ = true;
    } else if (auto c = contract_export(exp->name, m.scheme_)) {
      const workload::Function* f = workload::find_export(c->first);
      if (c->second) {
        // A post-return takes the results of its function, which here is one i32 at most.
        CoreSignature s = export_signature(f->type);
        ok = check({s.results, {}});
        m.posts_.insert(f->name);
      } else {
        ok = check(as_sig(export_signature(f->type)));
        m.exports_.insert(f->name);
      }
    }
    if (!ok.ok()) return ok.error();
  }
  if (!memory) return refused("missing export: memory '" + names.memory + "'");
  if (!realloc) return refused("missing export: '" + names.realloc + "'");
  if (!m.exports_.count("dispatch")) {
    return refused("missing export: '" + names.export_name("dispatch") + "'");
  }
  if (!ir.memories.empty()) {
    const wabt::Limits& limits = ir.memories[0]->page_limits;
    m.initial_pages_ = static_cast<std::uint32_t>(limits.initial);
    if (limits.has_max) m.max_pages_ = static_cast<std::uint32_t>(limits.max);
  }
  for (const wabt::Table* t : ir.tables) {
    m.initial_table_elements_ = std::max(m.initial_table_elements_, t->elem_limits.initial);
  }
  // What the tiers run is the metered module. The pass takes the IR parsed and validated above
  // (read with the stricter custom-section option) rather than parse the binary a second time;
  // nothing below uses the IR after it.
  auto metered = instrument_fuel_ir(ir, wasm.size());
  if (!metered.ok()) return metered.error();
  m.binary_ = std::move(metered).value();
  return m;
}

}  // namespace troupe::wasm

namespace troupe::wasm {

std::shared_ptr<const AotCode> GuestModule::aot_code() const {
  std::lock_guard lock(aot_->mutex);
  return aot_->code;
}

void GuestModule::set_aot_code(std::shared_ptr<const AotCode> code) const {
  std::lock_guard lock(aot_->mutex);
  aot_->code = std::move(code);
}

}  // namespace troupe::wasm
