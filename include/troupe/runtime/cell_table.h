// CellTable: the map from an actor's serial (never 0) to its cell that each shard of the
// registry keeps. Open addressing with linear probing in a power-of-two array, a multiplicative
// hash (a shard's serials are all alike modulo the shard count), deletion by backward shift
// (no tombstones), growth at 70 % load. Nothing is allocated per entry: with
// std::unordered_map, node allocation, freeing and rehashing were a fifth of the spawn
// benchmark. Not thread-safe: the registry holds the shard's lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace troupe {

class ActorCell;

class CellTable {
 public:
  // False (and nothing changes) when `serial` is present already.
  bool insert(std::uint64_t serial, ActorCell* cell);
  // nullptr when absent.
  ActorCell* find(std::uint64_t serial) const;
  // False when absent.
  bool erase(std::uint64_t serial);
  std::size_t size() const { return size_; }
  // f(serial, cell) for every entry, in no particular order. `f` must not change the table.
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.serial != 0) f(s.serial, s.cell);
    }
  }

 private:
  struct Slot {
    std::uint64_t serial = 0;  // 0: empty
    ActorCell* cell = nullptr;
  };
  std::size_t home(std::uint64_t serial) const;
  void grow();

  std::vector<Slot> slots_;  // empty, or a power of two
  std::size_t size_ = 0;
  unsigned shift_ = 64;  // 64 - log2(slots_.size())
};

}  // namespace troupe
