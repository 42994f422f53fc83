#include "troupe/node/native_kind_factory.h"

#include <utility>

namespace troupe {

Result<const KindRegistry::Kind*> check_native_spawn(const KindRegistry& kinds,
                                                     const std::string& kind,
                                                     const std::string& name) {
  const KindRegistry::Kind* k = kinds.find(kind);
  if (k == nullptr) {
    std::string known;
    for (const auto& [n, _] : kinds.all()) known += (known.empty() ? "" : ", ") + n;
    return Error{BaseErrc::kNotFound, "no actor kind '" + kind + "' (known: " + known + ")"};
  }
  if (k->grants.any()) {
    if (auto ok = NativeActorContext::check_names(kind, name); !ok.ok()) return ok.error();
  }
  return k;
}

Result<KindRegistry::Factory> native_kind_factory(const KindRegistry& kinds,
                                                  const std::string& kind, const std::string& name,
                                                  PlatformServices* platform) {
  auto checked = check_native_spawn(kinds, kind, name);
  if (!checked.ok()) return checked.error();
  const KindRegistry::Kind* k = *checked;
  const NativeGrants grants = k->grants;
  if (grants.any()) {
    if (platform == nullptr) {
      return Error{BaseErrc::kUnavailable,
                   "the native kind '" + kind +
                       "' is granted storage or signing, and this node has no platform services"};
    }
  }
  return KindRegistry::Factory(
      [factory = k->factory, kind, name, grants, platform]() -> std::unique_ptr<Actor> {
        return factory(NativeActorContext(kind, name, grants, platform));
      });
}

}  // namespace troupe
