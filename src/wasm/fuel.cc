#include "troupe/wasm/fuel.h"

#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/binary-writer.h>
#include <wabt/cast.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/stream.h>

namespace troupe::wasm {
namespace {

using wabt::ExprList;

// fuel -= 1; if (fuel < 0) unreachable;  — stack-neutral, so valid anywhere in a body.
void prepend_charge(ExprList& exprs, wabt::Index fuel) {
  const wabt::Location loc;
  ExprList charge;
  charge.push_back(std::make_unique<wabt::GlobalGetExpr>(wabt::Var(fuel, loc)));
  charge.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I64(1)));
  charge.push_back(std::make_unique<wabt::BinaryExpr>(wabt::Opcode::I64Sub));
  charge.push_back(std::make_unique<wabt::GlobalSetExpr>(wabt::Var(fuel, loc)));
  charge.push_back(std::make_unique<wabt::GlobalGetExpr>(wabt::Var(fuel, loc)));
  charge.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I64(0)));
  charge.push_back(std::make_unique<wabt::CompareExpr>(wabt::Opcode::I64LtS));
  auto trap = std::make_unique<wabt::IfExpr>();
  trap->true_.exprs.push_back(std::make_unique<wabt::UnreachableExpr>());
  charge.push_back(std::move(trap));
  charge.splice(charge.end(), exprs);
  exprs = std::move(charge);
}

// Charges at the top of every loop, however deeply nested.
void instrument_loops(ExprList& exprs, wabt::Index fuel) {
  for (wabt::Expr& e : exprs) {
    switch (e.type()) {
      case wabt::ExprType::Loop: {
        auto& loop = wabt::cast<wabt::LoopExpr>(&e)->block;
        instrument_loops(loop.exprs, fuel);
        prepend_charge(loop.exprs, fuel);
        break;
      }
      case wabt::ExprType::Block:
        instrument_loops(wabt::cast<wabt::BlockExpr>(&e)->block.exprs, fuel);
        break;
      case wabt::ExprType::If: {
        auto* i = wabt::cast<wabt::IfExpr>(&e);
        instrument_loops(i->true_.exprs, fuel);
        instrument_loops(i->false_, fuel);
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        instrument_loops(t->block.exprs, fuel);
        for (auto& c : t->catches) instrument_loops(c.exprs, fuel);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace

Result<std::vector<std::uint8_t>> instrument_fuel(std::span<const std::uint8_t> wasm) {
  wabt::Errors errors;
  wabt::Module module;
  wabt::Features features;
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  if (wabt::Failed(
          wabt::ReadBinaryIr("guest.wasm", wasm.data(), wasm.size(), options, &errors, &module))) {
    return Error{Errc::kRefused, wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary)};
  }
  for (const wabt::Export* e : module.exports) {
    if (e->name == kFuelGlobal)
      return Error{Errc::kRefused, "the module exports troupe:fuel itself"};
  }
  const auto fuel = static_cast<wabt::Index>(module.globals.size());
  auto global = std::make_unique<wabt::GlobalModuleField>();
  global->global.type = wabt::Type::I64;
  global->global.mutable_ = true;
  global->global.init_expr.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I64(0)));
  module.AppendField(std::move(global));
  auto exp = std::make_unique<wabt::ExportModuleField>();
  exp->export_.name = kFuelGlobal;
  exp->export_.kind = wabt::ExternalKind::Global;
  exp->export_.var = wabt::Var(fuel, wabt::Location());
  module.AppendField(std::move(exp));

  for (std::size_t i = module.num_func_imports; i < module.funcs.size(); ++i) {
    wabt::Func* f = module.funcs[i];
    instrument_loops(f->exprs, fuel);
    prepend_charge(f->exprs, fuel);
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions write_options;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, &module, write_options))) {
    return Error{Errc::kInternal, "cannot encode the instrumented module"};
  }
  return std::move(stream.output_buffer().data);
}

}  // namespace troupe::wasm
