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

const Interface* find_interface(std::string_view import_module_name, workload::NameScheme scheme) {
  for (const Interface& i : interfaces()) {
    if (import_module_name == import_module(i.name, scheme)) return &i;
  }
  return nullptr;
}

}  // namespace troupe::wasm::troupe_host
