// KindRegistry: the actor kinds a node can spawn by name (`troupe spawn KIND`). Filled at
// start-up, read-only afterwards, so lookups need no lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "troupe/runtime/actor.h"

namespace troupe {

class KindRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Actor>()>;
  struct Kind {
    std::string description;
    Factory factory;
  };

  void add(std::string name, std::string description, Factory factory) {
    kinds_[std::move(name)] = Kind{std::move(description), std::move(factory)};
  }
  const Kind* find(const std::string& name) const {
    auto it = kinds_.find(name);
    return it == kinds_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Kind>& all() const { return kinds_; }

 private:
  std::map<std::string, Kind> kinds_;
};

}  // namespace troupe
