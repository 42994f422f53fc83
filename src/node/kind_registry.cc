#include "troupe/node/kind_registry.h"

#include <stdexcept>
#include <utility>

#include "troupe/platform/actor_store_path.h"

namespace troupe {

void KindRegistry::add(std::string name, std::string description, Factory factory) {
  kinds_[std::move(name)] = Kind{
      std::move(description),
      [f = std::move(factory)](NativeActorContext) { return f(); },
      NativeGrants{},
  };
}

void KindRegistry::add(std::string name, std::string description, ContextFactory factory,
                       NativeGrants grants) {
  if (grants.any()) {
    if (auto ok = check_storage_component(name, "native kind"); !ok.ok()) {
      throw std::invalid_argument("kind '" + name + "': " + ok.error().detail);
    }
  }
  if (grants.storage && grants.storage_quota_bytes == 0) {
    throw std::invalid_argument("kind '" + name +
                                "' is granted storage with a quota of 0 bytes: give "
                                "NativeGrants::storage_quota_bytes");
  }
  kinds_[std::move(name)] = Kind{std::move(description), std::move(factory), grants};
}

}  // namespace troupe
