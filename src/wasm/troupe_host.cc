#include "troupe/wasm/troupe_host.h"

namespace troupe::wasm::troupe_host {
namespace {

const std::vector<Interface>& interfaces() {
  static const std::vector<Interface> all = [] {
    const AbiType u64 = AbiType::u64(), u32 = AbiType::u32();
    const AbiType bytes = AbiType::list(AbiType::u8());
    const std::string later = "is not provided by this node yet (it needs the platform layer)";
    return std::vector<Interface>{
        {"clock", {{"now-wall", {{}, u64}}, {"now-monotonic", {{}, u64}}}, {}},
        {"random", {{"fill", {{u32}, bytes}}}, {}},
        {"storage", {}, later},
        {"signing", {}, later},
        {"errors", {}, "has no functions"},
    };
  }();
  return all;
}

}  // namespace

std::string import_module(std::string_view iface, workload::NameScheme scheme) {
  if (scheme == workload::NameScheme::kCm32p2) {
    return "cm32p2|troupe:host/" + std::string(iface) + "@0.1";
  }
  return "troupe:host/" + std::string(iface) + "@0.1.0";
}

const Interface* find_interface(std::string_view import_module_name, workload::NameScheme scheme) {
  for (const Interface& i : interfaces()) {
    if (import_module_name == import_module(i.name, scheme)) return &i;
  }
  return nullptr;
}

}  // namespace troupe::wasm::troupe_host
