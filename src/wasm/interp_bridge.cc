#include "interp_bridge.h"

#include <wabt/binary-reader.h>
#include <wabt/error-formatter.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

#include <cstring>
#include <map>

namespace troupe::wasm::bridge {

namespace interp = wabt::interp;

struct InterpModule::Impl {
  interp::Store store;
  interp::Module::Ptr module;
  interp::Instance::Ptr instance;
  std::map<std::string, interp::Func::Ptr> funcs;
  std::map<std::string, interp::Memory::Ptr> memories;
  std::map<std::string, interp::Global::Ptr> globals;
};

namespace {

// Numbers cross as their bits; references (which contract guests never pass) as null.
std::uint64_t to_u64(wabt::Type type, const interp::Value& v) {
  switch (type) {
    case wabt::Type::I64:
      return v.Get<interp::u64>();
    case wabt::Type::F32: {
      std::uint32_t bits = 0;
      const interp::f32 f = v.Get<interp::f32>();
      std::memcpy(&bits, &f, sizeof bits);
      return bits;
    }
    case wabt::Type::F64: {
      std::uint64_t bits = 0;
      const interp::f64 f = v.Get<interp::f64>();
      std::memcpy(&bits, &f, sizeof bits);
      return bits;
    }
    case wabt::Type::I32:
      return v.Get<interp::u32>();
    default:
      return 0;
  }
}

interp::Value to_value(wabt::Type type, std::uint64_t bits) {
  switch (type) {
    case wabt::Type::I64:
      return interp::Value::Make(interp::u64{bits});
    case wabt::Type::F32: {
      interp::f32 f = 0;
      const auto low = static_cast<std::uint32_t>(bits);
      std::memcpy(&f, &low, sizeof f);
      return interp::Value::Make(f);
    }
    case wabt::Type::F64: {
      interp::f64 f = 0;
      std::memcpy(&f, &bits, sizeof f);
      return interp::Value::Make(f);
    }
    case wabt::Type::I32:
      return interp::Value::Make(static_cast<interp::u32>(bits));
    default:
      return interp::Value::Make(interp::Ref::Null);
  }
}

std::vector<std::uint64_t> to_u64(const wabt::TypeVector& types, const interp::Values& values) {
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < values.size() && i < types.size(); ++i) {
    out.push_back(to_u64(types[i], values[i]));
  }
  return out;
}

interp::Values to_values(const wabt::TypeVector& types, const std::vector<std::uint64_t>& in) {
  interp::Values out;
  for (std::size_t i = 0; i < types.size(); ++i) {
    out.push_back(to_value(types[i], i < in.size() ? in[i] : 0));
  }
  return out;
}

}  // namespace

InterpModule::InterpModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InterpModule::~InterpModule() = default;

std::unique_ptr<InterpModule> InterpModule::instantiate(const std::vector<std::uint8_t>& binary,
                                                        const core::Resolver& resolve,
                                                        std::uint32_t max_pages,
                                                        std::string& error) {
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  wabt::Errors errors;
  interp::ModuleDesc desc;
  wabt::Features features;
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  if (wabt::Failed(interp::ReadBinaryInterp("guest.wasm", binary.data(), binary.size(), options,
                                            &errors, &desc))) {
    error = wabt::FormatErrorsToString(errors, wabt::Location::Type::Binary);
    return nullptr;
  }
  if (max_pages != 0) {
    for (interp::MemoryDesc& m : desc.memories) {
      wabt::Limits& limits = m.type.limits;
      if (!limits.has_max || limits.max > max_pages) limits.max = max_pages;
      limits.has_max = true;
    }
  }
  s.module = interp::Module::New(s.store, desc);
  interp::RefVec imports;
  for (const interp::ImportDesc& imp : s.module->desc().imports) {
    const auto* ftype = wabt::dyn_cast<interp::FuncType>(imp.type.type.get());
    if (ftype == nullptr) {
      error = "import " + imp.type.module + "." + imp.type.name + " is not a function";
      return nullptr;
    }
    core::HostCallback cb = resolve(imp.type.module, imp.type.name);
    interp::FuncType type = *ftype;
    Impl* state = &s;
    auto wrapped = [cb, type, state](interp::Thread&, const interp::Values& params,
                                     interp::Values& results,
                                     interp::Trap::Ptr* trap) -> wabt::Result {
      std::vector<std::uint64_t> out;
      std::string message;
      if (!cb || !cb(to_u64(type.params, params), out, message)) {
        *trap = interp::Trap::New(state->store, message.empty() ? "host call failed" : message);
        return wabt::Result::Error;
      }
      results = to_values(type.results, out);
      return wabt::Result::Ok;
    };
    imports.push_back(interp::HostFunc::New(s.store, type, wrapped).ref());
  }
  interp::Trap::Ptr trap;
  s.instance = interp::Instance::Instantiate(s.store, s.module.ref(), imports, &trap);
  if (!s.instance) {
    error = "instantiation trapped: " + (trap ? trap->message() : std::string());
    return nullptr;
  }
  const auto& exports = s.module->desc().exports;
  for (std::size_t i = 0; i < exports.size(); ++i) {
    interp::Ref ref = s.instance->exports()[i];
    switch (exports[i].type.type->kind) {
      case wabt::ExternalKind::Func:
        s.funcs[exports[i].type.name] = s.store.UnsafeGet<interp::Func>(ref);
        break;
      case wabt::ExternalKind::Memory:
        s.memories[exports[i].type.name] = s.store.UnsafeGet<interp::Memory>(ref);
        break;
      case wabt::ExternalKind::Global:
        s.globals[exports[i].type.name] = s.store.UnsafeGet<interp::Global>(ref);
        break;
      default:
        break;
    }
  }
  return std::unique_ptr<InterpModule>(new InterpModule(std::move(impl)));
}

bool InterpModule::has_function(const std::string& export_name) const {
  return impl_->funcs.count(export_name) != 0;
}

bool InterpModule::call(const std::string& export_name, const std::vector<std::uint64_t>& args,
                        std::vector<std::uint64_t>& results, std::string& trap_message) {
  auto it = impl_->funcs.find(export_name);
  if (it == impl_->funcs.end()) {
    trap_message = "no exported function " + export_name;
    return false;
  }
  interp::Func& f = *it->second;
  interp::Values out;
  interp::Trap::Ptr trap;
  if (wabt::Failed(f.Call(impl_->store, to_values(f.type().params, args), out, &trap))) {
    trap_message = trap ? trap->message() : "trap";
    return false;
  }
  results = to_u64(f.type().results, out);
  return true;
}

std::uint8_t* InterpModule::memory_data(const std::string& name) {
  auto it = impl_->memories.find(name);
  return it == impl_->memories.end() ? nullptr : it->second->UnsafeData();
}

bool InterpModule::set_global(const std::string& name, std::uint64_t value) {
  auto it = impl_->globals.find(name);
  if (it == impl_->globals.end()) return false;
  interp::Global& g = *it->second;
  if (g.type().mut != interp::Mutability::Var) return false;
  g.UnsafeSet(to_value(g.type().type, value));
  return true;
}

bool InterpModule::get_global(const std::string& name, std::uint64_t& value) {
  auto it = impl_->globals.find(name);
  if (it == impl_->globals.end()) return false;
  interp::Global& g = *it->second;
  value = to_u64(g.type().type, g.Get());
  return true;
}

std::uint64_t InterpModule::memory_size(const std::string& name) {
  auto it = impl_->memories.find(name);
  return it == impl_->memories.end() ? 0 : it->second->ByteSize();
}

}  // namespace troupe::wasm::bridge
