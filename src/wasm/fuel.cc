#include "troupe/wasm/fuel.h"

#include <algorithm>
#include <cstring>

#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/binary-writer.h>
#include <wabt/cast.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/stream.h>

#include "fuel_internal.h"

namespace troupe::wasm {
namespace {

using wabt::ExprList;
using wabt::Index;

struct Ids {
  Index fuel, depth, max_depth, grow_refused, max_table;  // globals
  Index out_of_fuel, too_deep;                            // functions
};

template <class E, class... Args>
void emit(ExprList& out, Args&&... args) {
  out.push_back(std::make_unique<E>(std::forward<Args>(args)...));
}
wabt::Var var(Index i) { return wabt::Var(i, wabt::Location()); }

// if (cond) call f — the condition is already on the stack.
void emit_call_if(ExprList& out, Index f) {
  auto branch = std::make_unique<wabt::IfExpr>();
  branch->true_.exprs.push_back(std::make_unique<wabt::CallExpr>(var(f)));
  out.push_back(std::move(branch));
}

// The fuel counter lives in a local of each function (so the C compiler keeps it in a
// register on the AOT tier) and goes back to the global whenever the host may look: around
// every call and at the function's exit.
void store_fuel(ExprList& out, const Ids& ids, Index local) {
  emit<wabt::LocalGetExpr>(out, var(local));
  emit<wabt::GlobalSetExpr>(out, var(ids.fuel));
}
void load_fuel(ExprList& out, const Ids& ids, Index local) {
  emit<wabt::GlobalGetExpr>(out, var(ids.fuel));
  emit<wabt::LocalSetExpr>(out, var(local));
}

// fuel -= 1; if (fuel < 0) fuel = out-of-fuel();  — stack-neutral, so valid anywhere in a body.
ExprList charge(const Ids& ids, Index local) {
  ExprList c;
  emit<wabt::LocalGetExpr>(c, var(local));
  emit<wabt::ConstExpr>(c, wabt::Const::I64(1));
  emit<wabt::BinaryExpr>(c, wabt::Opcode::I64Sub);
  emit<wabt::LocalTeeExpr>(c, var(local));
  emit<wabt::ConstExpr>(c, wabt::Const::I64(0));
  emit<wabt::CompareExpr>(c, wabt::Opcode::I64LtS);
  auto branch = std::make_unique<wabt::IfExpr>();
  emit<wabt::CallExpr>(branch->true_.exprs, var(ids.out_of_fuel));
  emit<wabt::LocalSetExpr>(branch->true_.exprs, var(local));
  c.push_back(std::move(branch));
  return c;
}

// Before a bulk instruction (its length, an i32, on top of the stack): fuel -= length >> shift,
// refuelling as often as that takes — stack-neutral, so a memory.fill of 64 MiB costs as much
// as the loop that would write it, and runs only once it is paid for.
ExprList charge_length(const Ids& ids, Index scratch, Index fuel, std::int64_t shift) {
  ExprList c;
  emit<wabt::LocalTeeExpr>(c, var(scratch));
  emit<wabt::LocalGetExpr>(c, var(fuel));
  emit<wabt::LocalGetExpr>(c, var(scratch));
  emit<wabt::ConvertExpr>(c, wabt::Opcode::I64ExtendI32U);
  emit<wabt::ConstExpr>(c, wabt::Const::I64(static_cast<std::uint64_t>(shift)));
  emit<wabt::BinaryExpr>(c, wabt::Opcode::I64ShrU);
  emit<wabt::BinaryExpr>(c, wabt::Opcode::I64Sub);
  emit<wabt::LocalSetExpr>(c, var(fuel));
  // block loop (br_if 1 when fuel >= 0) fuel += out-of-fuel() + 1; br 0 end end — the host
  // answers a slice minus the one unit it assumes ran out.
  auto block = std::make_unique<wabt::BlockExpr>();
  auto loop = std::make_unique<wabt::LoopExpr>();
  ExprList& body = loop->block.exprs;
  emit<wabt::LocalGetExpr>(body, var(fuel));
  emit<wabt::ConstExpr>(body, wabt::Const::I64(0));
  emit<wabt::CompareExpr>(body, wabt::Opcode::I64GeS);
  emit<wabt::BrIfExpr>(body, var(1));
  emit<wabt::LocalGetExpr>(body, var(fuel));
  emit<wabt::CallExpr>(body, var(ids.out_of_fuel));
  emit<wabt::BinaryExpr>(body, wabt::Opcode::I64Add);
  emit<wabt::ConstExpr>(body, wabt::Const::I64(1));
  emit<wabt::BinaryExpr>(body, wabt::Opcode::I64Add);
  emit<wabt::LocalSetExpr>(body, var(fuel));
  emit<wabt::BrExpr>(body, var(0));
  block->block.exprs.push_back(std::move(loop));
  c.push_back(std::move(block));
  return c;
}

// Calls f on each expression list nested directly in `e` (block, loop, if arms, try and
// catches); false for an instruction without one.
template <class F>
bool for_each_nested(wabt::Expr& e, F&& f) {
  switch (e.type()) {
    case wabt::ExprType::Loop:
      f(wabt::cast<wabt::LoopExpr>(&e)->block.exprs);
      return true;
    case wabt::ExprType::Block:
      f(wabt::cast<wabt::BlockExpr>(&e)->block.exprs);
      return true;
    case wabt::ExprType::If: {
      auto* i = wabt::cast<wabt::IfExpr>(&e);
      f(i->true_.exprs);
      f(i->false_);
      return true;
    }
    case wabt::ExprType::Try: {
      auto* t = wabt::cast<wabt::TryExpr>(&e);
      f(t->block.exprs);
      for (auto& c : t->catches) f(c.exprs);
      return true;
    }
    default:
      return false;
  }
}

void prepend(ExprList& exprs, ExprList head) {
  head.splice(head.end(), exprs);
  exprs = std::move(head);
}

// Per body: charges loop headers, hands the fuel counter to the global around calls, flags
// refused memory.grow, turns `return` into a branch to the function's wrapper block. `depth`
// is the number of labels between here and the wrapper.
class BodyPass {
 public:
  BodyPass(const wabt::Module& m, wabt::Func& f, const Ids& ids, Index scratch, Index fuel)
      : module_(m), func_(f), ids_(ids), scratch_(scratch), fuel_(fuel) {}

  void run(ExprList& exprs, Index depth) {
    for (auto it = exprs.begin(); it != exprs.end(); ++it) {
      wabt::Expr& e = *it;
      if (for_each_nested(e, [&](ExprList& inner) { run(inner, depth + 1); })) {
        if (e.type() == wabt::ExprType::Loop) {
          prepend(wabt::cast<wabt::LoopExpr>(&e)->block.exprs, charge(ids_, fuel_));
        }
        continue;
      }
      switch (e.type()) {
        case wabt::ExprType::Call:
        case wabt::ExprType::CallIndirect:
        case wabt::ExprType::CallRef: {
          ExprList before, after;
          store_fuel(before, ids_, fuel_);
          load_fuel(after, ids_, fuel_);
          exprs.splice(it, before);
          auto next = std::next(it);
          exprs.splice(next, after);
          it = std::prev(next);
          break;
        }
        case wabt::ExprType::MemoryFill:
        case wabt::ExprType::MemoryCopy:
        case wabt::ExprType::MemoryInit:
          exprs.splice(it, charge_length(ids_, scratch_, fuel_, kBulkMemoryShift));
          break;
        case wabt::ExprType::TableFill:
        case wabt::ExprType::TableCopy:
        case wabt::ExprType::TableInit:
          exprs.splice(it, charge_length(ids_, scratch_, fuel_, 0));
          break;
        case wabt::ExprType::Return:
          it = exprs.erase(it);
          it = exprs.insert(it, std::make_unique<wabt::BrExpr>(var(depth)));
          break;
        case wabt::ExprType::MemoryGrow: {
          // memory.grow; local.tee s; i32.const -1; i32.eq; if flag = 1; local.get s
          ExprList after;
          emit<wabt::LocalTeeExpr>(after, var(scratch_));
          emit<wabt::ConstExpr>(after, wabt::Const::I32(-1));
          emit<wabt::CompareExpr>(after, wabt::Opcode::I32Eq);
          auto branch = std::make_unique<wabt::IfExpr>();
          emit<wabt::ConstExpr>(branch->true_.exprs, wabt::Const::I32(1));
          emit<wabt::GlobalSetExpr>(branch->true_.exprs, var(ids_.grow_refused));
          after.push_back(std::move(branch));
          emit<wabt::LocalGetExpr>(after, var(scratch_));
          auto next = std::next(it);
          exprs.splice(next, after);
          it = std::prev(next);
          break;
        }
        case wabt::ExprType::TableGrow: {
          // The table's element limit: a grow past it returns -1 without reaching the engine
          // (which would allocate first). With [ref, n] on the stack:
          //   local.set s; local.set r;
          //   if (result i32) (table.size + n > max-table) i32.const -1
          //   else local.get r; local.get s; table.grow end
          const wabt::Var table = wabt::cast<wabt::TableGrowExpr>(&e)->var;
          const Index ref = ref_scratch(module_.GetTable(table)->elem_type);
          ExprList before;
          emit<wabt::LocalSetExpr>(before, var(scratch_));
          emit<wabt::LocalSetExpr>(before, var(ref));
          emit<wabt::TableSizeExpr>(before, table);
          emit<wabt::ConvertExpr>(before, wabt::Opcode::I64ExtendI32U);
          emit<wabt::LocalGetExpr>(before, var(scratch_));
          emit<wabt::ConvertExpr>(before, wabt::Opcode::I64ExtendI32U);
          emit<wabt::BinaryExpr>(before, wabt::Opcode::I64Add);
          emit<wabt::GlobalGetExpr>(before, var(ids_.max_table));
          emit<wabt::ConvertExpr>(before, wabt::Opcode::I64ExtendI32U);
          emit<wabt::CompareExpr>(before, wabt::Opcode::I64GtU);
          auto branch = std::make_unique<wabt::IfExpr>();
          branch->true_.decl.sig.result_types = {wabt::Type::I32};
          emit<wabt::ConstExpr>(branch->true_.exprs, wabt::Const::I32(-1));
          emit<wabt::LocalGetExpr>(branch->false_, var(ref));
          emit<wabt::LocalGetExpr>(branch->false_, var(scratch_));
          wabt::IfExpr* check = branch.get();
          before.push_back(std::move(branch));
          exprs.splice(it, before);
          auto next = std::next(it);
          check->false_.push_back(exprs.extract(it));  // the original table.grow
          it = std::prev(next);
          break;
        }
        default:
          break;
      }
    }
  }

 private:
  // A local of the given reference type for table.grow's value, added on first use.
  Index ref_scratch(wabt::Type type) {
    for (auto& [t, index] : ref_locals_) {
      if (t == type) return index;
    }
    func_.local_types.AppendDecl(type, 1);
    const Index index = func_.GetNumParamsAndLocals() - 1;
    ref_locals_.emplace_back(type, index);
    return index;
  }

  const wabt::Module& module_;
  wabt::Func& func_;
  const Ids& ids_;
  Index scratch_, fuel_;
  std::vector<std::pair<wabt::Type, Index>> ref_locals_;
};

// A function index that moved because two imports were added in front of the definitions.
void shift(wabt::Var& v, Index first_defined, Index by) {
  if (v.is_index() && v.index() >= first_defined) v.set_index(v.index() + by);
}

void shift_calls(ExprList& exprs, Index first_defined, Index by) {
  for (wabt::Expr& e : exprs) {
    if (for_each_nested(e, [&](ExprList& inner) { shift_calls(inner, first_defined, by); })) {
      continue;
    }
    switch (e.type()) {
      case wabt::ExprType::Call:
        shift(wabt::cast<wabt::CallExpr>(&e)->var, first_defined, by);
        break;
      case wabt::ExprType::ReturnCall:
        shift(wabt::cast<wabt::ReturnCallExpr>(&e)->var, first_defined, by);
        break;
      case wabt::ExprType::RefFunc:
        shift(wabt::cast<wabt::RefFuncExpr>(&e)->var, first_defined, by);
        break;
      default:
        break;
    }
  }
}

Index add_global(wabt::Module& m, wabt::Type type, const char* export_name,
                 std::uint32_t initial = 0) {
  const auto index = static_cast<Index>(m.globals.size());
  auto g = std::make_unique<wabt::GlobalModuleField>();
  g->global.type = type;
  g->global.mutable_ = true;
  g->global.init_expr.push_back(std::make_unique<wabt::ConstExpr>(
      type == wabt::Type::I64 ? wabt::Const::I64(initial) : wabt::Const::I32(initial)));
  m.AppendField(std::move(g));
  auto exp = std::make_unique<wabt::ExportModuleField>();
  exp->export_.name = export_name;
  exp->export_.kind = wabt::ExternalKind::Global;
  exp->export_.var = var(index);
  m.AppendField(std::move(exp));
  return index;
}

// Adds the two () -> () host functions as the last function imports: their indices are the
// old first defined index and the one after, and every reference to a defined function moves
// up by two.
std::pair<Index, Index> add_limit_imports(wabt::Module& m) {
  const Index first_defined = m.num_func_imports;
  auto type_of = [&m](wabt::FuncSignature sig) {
    Index type = m.GetFuncTypeIndex(sig);
    if (type != wabt::kInvalidIndex) return type;
    type = static_cast<Index>(m.types.size());
    auto t = std::make_unique<wabt::TypeModuleField>();
    auto ft = std::make_unique<wabt::FuncType>();
    ft->sig = sig;
    t->type = std::move(ft);
    m.AppendField(std::move(t));
    return type;
  };
  wabt::FuncSignature refill;  // out-of-fuel: () -> i64
  refill.result_types = {wabt::Type::I64};
  const Index types[2] = {type_of(refill), type_of(wabt::FuncSignature{})};
  for (wabt::Func* f : m.funcs) shift_calls(f->exprs, first_defined, 2);
  for (wabt::Export* e : m.exports) {
    if (e->kind == wabt::ExternalKind::Func) shift(e->var, first_defined, 2);
  }
  for (wabt::Var* v : m.starts) shift(*v, first_defined, 2);
  for (wabt::ElemSegment* s : m.elem_segments) {
    for (ExprList& e : s->elem_exprs) shift_calls(e, first_defined, 2);
  }
  for (wabt::Global* g : m.globals) shift_calls(g->init_expr, first_defined, 2);

  Index at = first_defined;
  for (int k = 0; k < 2; ++k) {
    auto imp = std::make_unique<wabt::FuncImport>();
    imp->module_name = kLimitsModule;
    imp->field_name = k == 0 ? kOutOfFuel : kTooDeep;
    imp->func.decl.has_func_type = true;
    imp->func.decl.type_var = var(types[k]);
    imp->func.decl.sig = m.GetFuncType(var(types[k]))->sig;
    // Keep funcs in index order: imports first, then the definitions.
    m.funcs.insert(m.funcs.begin() + at, &imp->func);
    ++at;
    m.imports.push_back(imp.get());
    ++m.num_func_imports;
    auto field = std::make_unique<wabt::ImportModuleField>(std::move(imp));
    m.fields.push_back(std::move(field));
  }
  return {first_defined, first_defined + 1};
}

void instrument_function(wabt::Module& m, wabt::Func& f, const Ids& ids) {
  f.local_types.AppendDecl(wabt::Type::I32, 1);
  const Index scratch = f.GetNumParamsAndLocals() - 1;
  f.local_types.AppendDecl(wabt::Type::I64, 1);
  const Index fuel = f.GetNumParamsAndLocals() - 1;
  BodyPass pass(m, f, ids, scratch, fuel);
  pass.run(f.exprs, 0);

  // depth += 1; if (depth > max) too-deep(); load fuel; charge; block (result ...) body end;
  // store fuel; depth -= 1
  ExprList out;
  emit<wabt::GlobalGetExpr>(out, var(ids.depth));
  emit<wabt::ConstExpr>(out, wabt::Const::I32(1));
  emit<wabt::BinaryExpr>(out, wabt::Opcode::I32Add);
  emit<wabt::GlobalSetExpr>(out, var(ids.depth));
  emit<wabt::GlobalGetExpr>(out, var(ids.depth));
  emit<wabt::GlobalGetExpr>(out, var(ids.max_depth));
  emit<wabt::CompareExpr>(out, wabt::Opcode::I32GtU);
  emit_call_if(out, ids.too_deep);
  load_fuel(out, ids, fuel);
  out.splice(out.end(), charge(ids, fuel));
  auto wrapper = std::make_unique<wabt::BlockExpr>();
  wrapper->block.decl.sig.result_types = f.decl.sig.result_types;
  if (f.decl.sig.result_types.size() > 1) {
    wrapper->block.decl.has_func_type = true;
    wrapper->block.decl.type_var = var(m.GetFuncTypeIndex(wrapper->block.decl.sig));
  }
  wrapper->block.exprs = std::move(f.exprs);
  out.push_back(std::move(wrapper));
  store_fuel(out, ids, fuel);
  emit<wabt::GlobalGetExpr>(out, var(ids.depth));
  emit<wabt::ConstExpr>(out, wabt::Const::I32(1));
  emit<wabt::BinaryExpr>(out, wabt::Opcode::I32Sub);
  emit<wabt::GlobalSetExpr>(out, var(ids.depth));
  f.exprs = std::move(out);
}

// The encoder's output: one buffer reserved up front (the instrumented module is the input
// plus a little), appended to without zero-filling first as wabt's MemoryStream does.
class ReservedStream : public wabt::Stream {
 public:
  explicit ReservedStream(std::size_t reserve) { data_.reserve(reserve); }
  std::vector<std::uint8_t> take() { return std::move(data_); }

 protected:
  wabt::Result WriteDataImpl(std::size_t offset, const void* data, std::size_t size) override {
    if (size == 0) return wabt::Result::Ok;
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    if (offset > data_.size()) data_.resize(offset);
    const std::size_t overlap = std::min(size, data_.size() - offset);
    std::memcpy(data_.data() + offset, bytes, overlap);
    data_.insert(data_.end(), bytes + overlap, bytes + size);
    return wabt::Result::Ok;
  }
  wabt::Result MoveDataImpl(std::size_t dst_offset, std::size_t src_offset,
                            std::size_t size) override {
    if (size == 0) return wabt::Result::Ok;
    if (src_offset + size > data_.size()) return wabt::Result::Error;
    if (dst_offset + size > data_.size()) data_.resize(dst_offset + size);
    std::memmove(data_.data() + dst_offset, data_.data() + src_offset, size);
    return wabt::Result::Ok;
  }
  wabt::Result TruncateImpl(std::size_t size) override {
    if (size > data_.size()) return wabt::Result::Error;
    data_.resize(size);
    return wabt::Result::Ok;
  }

 private:
  std::vector<std::uint8_t> data_;
};

}  // namespace

Result<std::vector<std::uint8_t>> instrument_fuel(std::span<const std::uint8_t> wasm) {
  wabt::Errors errors;
  wabt::Module module;
  wabt::Features features;
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  if (wabt::Failed(
          wabt::ReadBinaryIr("guest.wasm", wasm.data(), wasm.size(), options, &errors, &module))) {
    return Error{BaseErrc::kRefused,
                 wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary)};
  }
  return instrument_fuel_ir(module, wasm.size());
}

Result<std::vector<std::uint8_t>> instrument_fuel_ir(wabt::Module& module, std::size_t size_hint) {
  for (const wabt::Export* e : module.exports) {
    if (e->name.rfind("troupe:", 0) == 0) {
      return Error{BaseErrc::kRefused,
                   "the module exports '" + e->name + "', a name troupe reserves"};
    }
  }
  for (const wabt::Import* i : module.imports) {
    if (i->module_name == kLimitsModule) {
      return Error{BaseErrc::kRefused, "the module imports troupe:limits itself"};
    }
  }
  // The wrapper block of a function with several results needs [] -> [results] as a type
  // (the function's own type has its parameters too); add any that is missing.
  for (wabt::Func* f : module.funcs) {
    wabt::FuncSignature wrapper;
    wrapper.result_types = f->decl.sig.result_types;
    if (wrapper.result_types.size() > 1 &&
        module.GetFuncTypeIndex(wrapper) == wabt::kInvalidIndex) {
      auto t = std::make_unique<wabt::TypeModuleField>();
      t->type = std::make_unique<wabt::FuncType>();
      wabt::cast<wabt::FuncType>(t->type.get())->sig = wrapper;
      module.AppendField(std::move(t));
    }
  }
  Ids ids{};
  ids.fuel = add_global(module, wabt::Type::I64, kFuelGlobal);
  ids.depth = add_global(module, wabt::Type::I32, kDepthGlobal);
  // Before the host first sets them (a start function runs during instantiation): no fuel,
  // so the first charge asks the host, and the default depth limit.
  ids.max_depth = add_global(module, wabt::Type::I32, kMaxDepthGlobal, kInitialMaxDepth);
  ids.grow_refused = add_global(module, wabt::Type::I32, kGrowRefusedGlobal);
  // No table growth until the host sets the limit: a start function runs before it can.
  ids.max_table = add_global(module, wabt::Type::I32, kMaxTableGlobal, 0);
  std::tie(ids.out_of_fuel, ids.too_deep) = add_limit_imports(module);
  for (std::size_t i = module.num_func_imports; i < module.funcs.size(); ++i) {
    instrument_function(module, *module.funcs[i], ids);
  }
  // The pass adds a few globals, two imports and a handful of instructions per function and
  // loop: reserve the input's size plus a margin, so a large module is encoded into one buffer.
  ReservedStream stream(size_hint + size_hint / 8 + 4096);
  wabt::WriteBinaryOptions write_options;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, &module, write_options))) {
    return Error{BaseErrc::kInternal, "cannot encode the instrumented module"};
  }
  return stream.take();
}

}  // namespace troupe::wasm
