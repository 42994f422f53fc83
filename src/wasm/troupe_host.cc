#include "troupe/wasm/troupe_host.h"

namespace troupe::wasm::troupe_host {

const AbiType& host_error_type();

namespace {

const std::vector<Interface>& interfaces() {
  static const std::vector<Interface> all = [] {
    const AbiType u64 = AbiType::u64(), u32 = AbiType::u32(), text = AbiType::string();
    const AbiType bytes = AbiType::list(AbiType::u8());
    const AbiType& error = host_error_type();
    return std::vector<Interface>{
        {"clock", {{"now-wall", {{}, u64}}, {"now-monotonic", {{}, u64}}}, {}},
        {"random", {{"fill", {{u32}, bytes}}}, {}},
        {"storage",
         {{"get", {{text}, AbiType::result(AbiType::option(bytes), error)}},
          {"put", {{text, bytes}, AbiType::result(std::nullopt, error)}},
          {"delete", {{text}, AbiType::result(AbiType::boolean(), error)}},
          {"list-keys", {{text, u32}, AbiType::result(AbiType::list(text), error)}}},
         {}},
        {"signing",
         {{"sign", {{bytes}, AbiType::result(bytes, error)}}, {"public-key", {{}, bytes}}},
         {}},
        {"identity", {{"credential", {{}, AbiType::result(text, error)}}}, {}},
        {"errors", {}, "has no functions"},
    };
  }();
  return all;
}

}  // namespace

const AbiType& host_error_type() {
  static const AbiType t =
      AbiType::variant({AbiType::string(), AbiType::string(), AbiType::string(), AbiType::string(),
                        AbiType::string()});
  return t;
}

AbiValue host_error_value(const HostError& e) {
  return AbiValue::of_case(
      1, AbiValue::of_case(static_cast<std::uint32_t>(e.kind), AbiValue::text(e.message)));
}

std::string import_module(std::string_view iface, workload::NameScheme scheme) {
  if (scheme == workload::NameScheme::kCm32p2) {
    return "cm32p2|troupe:host/" + std::string(iface) + "@0.1";
  }
  return "troupe:host/" + std::string(iface) + "@0.1.0";
}

namespace {
// Each interface with its import module name in both schemes, and every provided function:
// built once, so lookups compare strings and build none.
struct Table {
  std::vector<std::pair<std::string, const Interface*>> modules[2];       // by NameScheme
  std::vector<std::pair<std::string, std::vector<ImportRef>>> functions;  // by interface name
};
const Table& table() {
  static const Table t = [] {
    Table out;
    for (const Interface& i : interfaces()) {
      out.modules[0].emplace_back(import_module(i.name, workload::NameScheme::kWitBindgen), &i);
      out.modules[1].emplace_back(import_module(i.name, workload::NameScheme::kCm32p2), &i);
      std::vector<ImportRef> refs;
      for (const workload::Function& f : i.functions) refs.push_back({&i, &f});
      out.functions.emplace_back(i.name, std::move(refs));
    }
    return out;
  }();
  return t;
}
}  // namespace

const Interface* find_interface(std::string_view import_module_name, workload::NameScheme scheme) {
  const auto& modules = table().modules[scheme == workload::NameScheme::kCm32p2 ? 1 : 0];
  for (const auto& [module_name, iface] : modules) {
    if (import_module_name == module_name) return iface;
  }
  return nullptr;
}

const ImportRef* find_import(std::string_view import_module_name, std::string_view name,
                             workload::NameScheme scheme) {
  const Interface* iface = find_interface(import_module_name, scheme);
  if (iface == nullptr) return nullptr;
  for (const auto& [iface_name, refs] : table().functions) {
    if (iface_name != iface->name) continue;
    for (const ImportRef& r : refs) {
      if (r.function->name == name) return &r;
    }
  }
  return nullptr;
}

}  // namespace troupe::wasm::troupe_host
