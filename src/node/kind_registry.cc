#include "troupe/node/kind_registry.h"

#include <stdexcept>
#include <utility>

#include "troupe/platform/actor_store_path.h"

namespace troupe {

namespace {
// Every kind's name is one path component ([A-Za-z0-9._-], 1..64 bytes): it is a runtime type
// guests must see as native (no ':', guest_grants.h), and a granted kind's directory name.
void check_kind_name(const std::string& name) {
  if (auto ok = check_storage_component(name, "native kind"); !ok.ok()) {
    throw std::invalid_argument("kind '" + name + "': " + ok.error().detail);
  }
}
}  // namespace

void KindRegistry::add(std::string name, std::string description, Factory factory) {
  check_kind_name(name);
  kinds_[std::move(name)] = Kind{
      std::move(description),
      [f = std::move(factory)](NativeActorContext) { return f(); },
      NativeGrants{},
  };
}

void KindRegistry::add(std::string name, std::string description, ContextFactory factory,
                       NativeGrants grants) {
  check_kind_name(name);
  if (grants.storage && grants.storage_quota_bytes == 0) {
    throw std::invalid_argument("kind '" + name +
                                "' is granted storage with a quota of 0 bytes: give "
                                "NativeGrants::storage_quota_bytes");
  }
  kinds_[std::move(name)] = Kind{std::move(description), std::move(factory), grants};
}

void KindRegistry::expose_to_guests(const std::string& name) {
  auto it = kinds_.find(name);
  if (it == kinds_.end()) throw std::invalid_argument("no actor kind '" + name + "' to expose");
  it->second.guest_reachable = true;
}

std::shared_ptr<const std::set<std::string, std::less<>>> KindRegistry::guest_reachable_kinds()
    const {
  auto out = std::make_shared<std::set<std::string, std::less<>>>();
  for (const auto& [name, kind] : kinds_) {
    if (kind.guest_reachable) out->insert(name);
  }
  return out;
}

}  // namespace troupe
