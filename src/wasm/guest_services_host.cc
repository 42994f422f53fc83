#include "troupe/wasm/guest_services_host.h"

#include <utility>
#include <variant>

#include "troupe/wasm/troupe_host.h"

namespace troupe::wasm {

std::optional<Result<std::optional<AbiValue>>> serve_guest_services(GuestServices& services,
                                                                    std::string_view iface,
                                                                    const workload::Function& f,
                                                                    std::vector<AbiValue>& args) {
  using O = std::optional<AbiValue>;
  auto ok = [](AbiValue v) { return O(AbiValue::of_case(0, std::move(v))); };
  auto answer = [&](auto&& r, auto&& to_value) -> Result<O> {
    if (const HostError* e = std::get_if<HostError>(&r)) {
      return O(troupe_host::host_error_value(*e));
    }
    return to_value(std::move(std::get<0>(r)));
  };
  const std::string& n = f.name;
  if (iface == "storage" && services.storage) {
    GuestStorage& s = *services.storage;
    if (n == "get") {
      return answer(s.get(args[0].bytes), [&](std::optional<std::string> v) {
        return ok(v ? AbiValue::of_case(1, AbiValue::text(std::move(*v))) : AbiValue::of_case(0));
      });
    }
    if (n == "put") {
      return answer(s.put(args[0].bytes, args[1].bytes),
                    [](std::monostate) { return O(AbiValue::of_case(0)); });
    }
    if (n == "delete") {
      return answer(s.remove(args[0].bytes), [&](bool was) { return ok(AbiValue::of(was)); });
    }
    if (n == "list-keys") {
      const auto limit = static_cast<std::uint32_t>(args[1].number);
      return answer(s.list_keys(args[0].bytes, limit), [&](std::vector<std::string> keys) {
        std::vector<AbiValue> items;
        items.reserve(keys.size());
        for (std::string& k : keys) items.push_back(AbiValue::text(std::move(k)));
        return ok(AbiValue::of_items(std::move(items)));
      });
    }
  }
  if (iface == "signing" && services.signing) {
    if (n == "sign") {
      return answer(services.signing->sign(args[0].bytes),
                    [&](std::string sig) { return ok(AbiValue::text(std::move(sig))); });
    }
    if (n == "public-key") {
      auto key = services.signing->public_key();
      if (!key.ok()) return key.error();
      return O(AbiValue::text(std::move(key).value()));
    }
  }
  if (iface == "identity" && services.identity && n == "credential") {
    return answer(services.identity->credential(),
                  [&](std::string jws) { return ok(AbiValue::text(std::move(jws))); });
  }
  return std::nullopt;
}

}  // namespace troupe::wasm
