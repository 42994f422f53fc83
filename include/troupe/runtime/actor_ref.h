// ActorRef: a copyable handle to an actor. It keeps a small tombstone of the actor alive, so it
// stays a valid value after the actor has died: sending to it then yields a dead letter (tell)
// or RuntimeErrc::kDead (ask). Copying is one atomic increment. Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "troupe/base/ids.h"

namespace troupe {

class ActorCell;

class ActorRef {
 public:
  ActorRef() = default;
  explicit ActorRef(ActorCell* cell);  // takes a new reference
  ActorRef(const ActorRef& o) : ActorRef(o.cell_) {}
  ActorRef(ActorRef&& o) noexcept : cell_(std::exchange(o.cell_, nullptr)) {}
  ActorRef& operator=(ActorRef o) noexcept {
    std::swap(cell_, o.cell_);
    return *this;
  }
  ~ActorRef();

  explicit operator bool() const { return cell_ != nullptr; }
  ActorId id() const;
  // The type name the actor was spawned as ("counter", "pool", ...).
  const std::string& type_name() const;
  bool alive() const;
  ActorCell* cell() const { return cell_; }

  friend bool operator==(const ActorRef& a, const ActorRef& b) { return a.cell_ == b.cell_; }

 private:
  ActorCell* cell_ = nullptr;
};

}  // namespace troupe

template <>
struct std::hash<troupe::ActorRef> {
  std::size_t operator()(const troupe::ActorRef& r) const noexcept {
    return std::hash<const void*>{}(r.cell());
  }
};
