#include "troupe/node/native_kind_factory.h"

#include <utility>

namespace troupe {

Result<KindRegistry::Factory> native_kind_factory(const KindRegistry& kinds,
                                                  const std::string& kind, const std::string& name,
                                                  PlatformServices* platform) {
  const KindRegistry::Kind* k = kinds.find(kind);
  if (k == nullptr) {
    std::string known;
    for (const auto& [n, _] : kinds.all()) known += (known.empty() ? "" : ", ") + n;
    return Error{BaseErrc::kNotFound, "no actor kind '" + kind + "' (known: " + known + ")"};
  }
  const NativeGrants grants = k->grants;
  if (grants.any()) {
    if (auto ok = NativeActorContext::check_names(kind, name); !ok.ok()) return ok.error();
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
