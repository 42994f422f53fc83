// Import matching for the conformance runner (spec_runner.cc): what a module exports (kind and
// type, read from WABT's IR), the spec's `spectest` module, and the spec's rule for whether an
// import links to an export. troupe's instances link functions only, so the runner checks
// every import itself: a module importing a table of the wrong limits must fail to link even
// though troupe would not run it anyway. Pure functions and one immutable table.
#pragma once

#include <wabt/common.h>
#include <wabt/ir.h>

#include <map>
#include <optional>
#include <string>

namespace troupe::wasm::spec {

// What an export is, for linking: its kind and type.
struct Extern {
  wabt::ExternalKind kind = wabt::ExternalKind::Func;
  wabt::TypeVector params, results;    // functions
  wabt::Type type = wabt::Type::Void;  // globals' value type, tables' element type
  bool mutable_ = false;               // globals
  wabt::Limits limits;                 // memories and tables
};

inline Extern extern_of(const wabt::Module& ir, const wabt::Export& e) {
  Extern x;
  x.kind = e.kind;
  switch (e.kind) {
    case wabt::ExternalKind::Func: {
      const wabt::Func* f = ir.GetFunc(e.var);
      x.params = f->decl.sig.param_types;
      x.results = f->decl.sig.result_types;
      break;
    }
    case wabt::ExternalKind::Global: {
      const wabt::Global* g = ir.GetGlobal(e.var);
      x.type = g->type;
      x.mutable_ = g->mutable_;
      break;
    }
    case wabt::ExternalKind::Memory:
      x.limits = ir.GetMemory(e.var)->page_limits;
      break;
    case wabt::ExternalKind::Table: {
      const wabt::Table* t = ir.GetTable(e.var);
      x.type = t->elem_type;
      x.limits = t->elem_limits;
      break;
    }
    default:
      break;
  }
  return x;
}

// The spec's `spectest` module (its reference interpreter's spectest.ml): print functions,
// four immutable globals, a table of 10..20 funcrefs, a memory of 1..2 pages.
inline const std::map<std::string, Extern>& spectest() {
  static const std::map<std::string, Extern> m = [] {
    using wabt::Type;
    auto func = [](wabt::TypeVector params) {
      Extern x;
      x.params = std::move(params);
      return x;
    };
    auto global = [](Type type) {
      Extern x;
      x.kind = wabt::ExternalKind::Global;
      x.type = type;
      return x;
    };
    Extern table;
    table.kind = wabt::ExternalKind::Table;
    table.type = Type::FuncRef;
    table.limits = wabt::Limits(10, 20);
    Extern memory;
    memory.kind = wabt::ExternalKind::Memory;
    memory.limits = wabt::Limits(1, 2);
    return std::map<std::string, Extern>{
        {"print", func({})},
        {"print_i32", func({Type::I32})},
        {"print_i64", func({Type::I64})},
        {"print_f32", func({Type::F32})},
        {"print_f64", func({Type::F64})},
        {"print_i32_f32", func({Type::I32, Type::F32})},
        {"print_f64_f64", func({Type::F64, Type::F64})},
        {"global_i32", global(Type::I32)},
        {"global_i64", global(Type::I64)},
        {"global_f32", global(Type::F32)},
        {"global_f64", global(Type::F64)},
        {"table", table},
        {"memory", memory},
    };
  }();
  return m;
}

// Why `imp` cannot link to `x` (the spec's import matching); nullopt when it can.
inline std::optional<std::string> mismatch(const wabt::Import& imp, const Extern& x) {
  if (imp.kind() != x.kind) return "a different kind of export";
  auto limits_fit = [](const wabt::Limits& want, const wabt::Limits& have) {
    return have.initial >= want.initial &&
           (!want.has_max || (have.has_max && have.max <= want.max)) && want.is_64 == have.is_64 &&
           want.is_shared == have.is_shared;
  };
  switch (imp.kind()) {
    case wabt::ExternalKind::Func: {
      const auto& sig = static_cast<const wabt::FuncImport&>(imp).func.decl.sig;
      if (sig.param_types != x.params || sig.result_types != x.results) {
        return "a function of another type";
      }
      return std::nullopt;
    }
    case wabt::ExternalKind::Global: {
      const wabt::Global& g = static_cast<const wabt::GlobalImport&>(imp).global;
      if (g.type != x.type || g.mutable_ != x.mutable_) return "a global of another type";
      return std::nullopt;
    }
    case wabt::ExternalKind::Memory:
      if (!limits_fit(static_cast<const wabt::MemoryImport&>(imp).memory.page_limits, x.limits)) {
        return "a memory of other limits";
      }
      return std::nullopt;
    case wabt::ExternalKind::Table: {
      const wabt::Table& t = static_cast<const wabt::TableImport&>(imp).table;
      if (t.elem_type != x.type || !limits_fit(t.elem_limits, x.limits)) {
        return "a table of another type or limits";
      }
      return std::nullopt;
    }
    default:
      return "an import kind troupe does not link";
  }
}

}  // namespace troupe::wasm::spec
