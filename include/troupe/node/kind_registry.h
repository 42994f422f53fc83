// KindRegistry: the native actor kinds a node can spawn by name (`troupe spawn KIND`), each with
// what it is granted (NativeGrants, native_actor_context.h: nothing unless it declares it).
// A kind's factory gets the NativeActorContext of the incarnation it builds, through which its
// actor reaches storage and signing; a kind registered with a plain factory gets no context and
// is granted nothing. Spawn a kind with native_kind_factory (native_kind_factory.h), which serves
// each incarnation its context.
// Threading: filled at start-up, read-only afterwards, so lookups need no lock. Lifetime: the
// node owns it for its whole run (factories built from it refer to nothing in it).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "troupe/node/native_actor_context.h"
#include "troupe/runtime/actor.h"

namespace troupe {

class KindRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Actor>()>;
  using ContextFactory = std::function<std::unique_ptr<Actor>(NativeActorContext)>;
  struct Kind {
    std::string description;
    ContextFactory factory;
    NativeGrants grants;
    bool guest_reachable = false;  // expose_to_guests
  };

  // A kind that needs no platform service.
  void add(std::string name, std::string description, Factory factory);
  // A kind whose actors get a context with `grants`. A kind granted storage or signing keeps
  // its stores and keys under its name, so the name must be a path component (1..64 bytes of
  // [A-Za-z0-9._-], not . or ..), and a storage quota must be at least 1 byte: otherwise this
  // throws std::invalid_argument — a programmer error, found at start-up.
  void add(std::string name, std::string description, ContextFactory factory, NativeGrants grants);

  // Lets guests reach the kind's actors (call, tell, discover) when their grants name them. Off
  // by default: a kind that acts on the names or ids in its messages would reach, for a guest,
  // what the guest's grants do not. Expose only kinds that act on their own state. Throws
  // std::invalid_argument for a kind not registered.
  void expose_to_guests(const std::string& name);
  // The exposed kinds (wasm::GuestGrants::native_kinds).
  std::shared_ptr<const std::set<std::string, std::less<>>> guest_reachable_kinds() const;

  const Kind* find(const std::string& name) const {
    auto it = kinds_.find(name);
    return it == kinds_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Kind>& all() const { return kinds_; }

 private:
  std::map<std::string, Kind> kinds_;
};

}  // namespace troupe
