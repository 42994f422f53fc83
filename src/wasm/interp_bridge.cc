#include "interp_bridge.h"

#include <wabt/binary-reader.h>
#include <wabt/error-formatter.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

#include <boost/context/detail/exception.hpp>
#include <cstring>
#include <map>

namespace troupe::wasm::bridge {

namespace interp = wabt::interp;

struct InterpModule::Impl {
  interp::Store store;
  interp::Module::Ptr module;
  interp::Instance::Ptr instance;
  // Exports by kind, and their indices by name.
  std::vector<interp::Func::Ptr> funcs;
  std::vector<interp::Memory::Ptr> memories;
  std::vector<interp::Global::Ptr> globals;
  std::map<std::string, int> func_index, memory_index, global_index;

  template <typename T>
  static int add(std::vector<T>& list, std::map<std::string, int>& index, const std::string& name,
                 T value) {
    list.push_back(std::move(value));
    return index[name] = static_cast<int>(list.size() - 1);
  }
  static int find(const std::map<std::string, int>& index, const std::string& name) {
    auto it = index.find(name);
    return it == index.end() ? -1 : it->second;
  }
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

// "host call threw: <what>", or less when even that cannot be allocated.
std::string threw_message(const char* what) noexcept {
  try {
    return std::string("host call threw: ") + what;
  } catch (...) {
    return {};
  }
}

std::size_t slots(const wabt::TypeVector& types) {
  std::size_t n = 0;
  for (wabt::Type t : types) n += t == wabt::Type::V128 ? 2 : 1;
  return n;
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
      // libwabt is built without exception support: an exception crossing its frames would
      // skip their cleanups and leave the interpreter's thread state behind. Anything the
      // host throws becomes a trap here.
      std::string message;
      try {
        std::vector<std::uint64_t> out;
        if (cb && cb(to_u64(type.params, params), out, message)) {
          results = to_values(type.results, out);
          return wabt::Result::Ok;
        }
        if (message.empty()) message = "host call failed";
      } catch (const boost::context::detail::forced_unwind&) {
        throw;  // a suspended guest fiber being destroyed: GuestFiber's own unwinding
      } catch (const std::exception& e) {
        message = threw_message(e.what());
      } catch (...) {
        message = threw_message("an exception that is not a std::exception");
      }
      *trap = interp::Trap::New(state->store, message);
      return wabt::Result::Error;
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
        Impl::add(s.funcs, s.func_index, exports[i].type.name,
                  s.store.UnsafeGet<interp::Func>(ref));
        break;
      case wabt::ExternalKind::Memory:
        Impl::add(s.memories, s.memory_index, exports[i].type.name,
                  s.store.UnsafeGet<interp::Memory>(ref));
        break;
      case wabt::ExternalKind::Global:
        Impl::add(s.globals, s.global_index, exports[i].type.name,
                  s.store.UnsafeGet<interp::Global>(ref));
        break;
      default:
        break;
    }
  }
  return std::unique_ptr<InterpModule>(new InterpModule(std::move(impl)));
}

int InterpModule::function(const std::string& export_name) const {
  return Impl::find(impl_->func_index, export_name);
}

std::size_t InterpModule::param_count(int function) const {
  return slots(impl_->funcs.at(static_cast<std::size_t>(function))->type().params);
}

std::size_t InterpModule::result_count(int function) const {
  return slots(impl_->funcs.at(static_cast<std::size_t>(function))->type().results);
}

bool InterpModule::call(int function, const std::uint64_t* args, std::uint64_t* results,
                        std::string& trap_message) {
  interp::Func& f = *impl_->funcs.at(static_cast<std::size_t>(function));
  const wabt::TypeVector& params = f.type().params;
  interp::Values in;
  std::size_t slot = 0;
  for (wabt::Type t : params) {
    if (t == wabt::Type::V128) {
      ::v128 v;
      std::memcpy(&v, &args[slot], sizeof v);
      in.push_back(interp::Value::Make(v));
      slot += 2;
    } else {
      in.push_back(to_value(t, args[slot++]));
    }
  }
  interp::Values out;
  interp::Trap::Ptr trap;
  if (wabt::Failed(f.Call(impl_->store, in, out, &trap))) {
    trap_message = trap ? trap->message() : "trap";
    return false;
  }
  const wabt::TypeVector& types = f.type().results;
  slot = 0;
  for (std::size_t i = 0; i < out.size() && i < types.size(); ++i) {
    if (types[i] == wabt::Type::V128) {
      const ::v128 v = out[i].Get<::v128>();
      std::memcpy(&results[slot], &v, sizeof v);
      slot += 2;
    } else {
      results[slot++] = to_u64(types[i], out[i]);
    }
  }
  return true;
}

int InterpModule::memory(const std::string& export_name) const {
  return Impl::find(impl_->memory_index, export_name);
}

core::CoreInstance::Bytes InterpModule::memory_bytes(int memory) {
  interp::Memory& m = *impl_->memories.at(static_cast<std::size_t>(memory));
  return {m.UnsafeData(), m.ByteSize()};
}

int InterpModule::global(const std::string& export_name) const {
  return Impl::find(impl_->global_index, export_name);
}

bool InterpModule::set_global(int global, std::uint64_t value) {
  interp::Global& g = *impl_->globals.at(static_cast<std::size_t>(global));
  if (g.type().mut != interp::Mutability::Var) return false;
  g.UnsafeSet(to_value(g.type().type, value));
  return true;
}

std::uint64_t InterpModule::get_global(int global) {
  interp::Global& g = *impl_->globals.at(static_cast<std::size_t>(global));
  return to_u64(g.type().type, g.Get());
}

}  // namespace troupe::wasm::bridge
