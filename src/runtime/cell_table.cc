#include "troupe/runtime/cell_table.h"

#include <utility>

namespace troupe {

std::size_t CellTable::home(std::uint64_t serial) const {
  // Fibonacci hashing: the top bits of serial * 2^64/phi spread any arithmetic progression.
  return static_cast<std::size_t>((serial * 0x9E3779B97F4A7C15ULL) >> shift_);
}

void CellTable::grow() {
  const std::size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  shift_ = 64;
  for (std::size_t c = capacity; c > 1; c >>= 1) --shift_;
  const std::size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.serial == 0) continue;
    std::size_t i = home(s.serial);
    while (slots_[i].serial != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

bool CellTable::insert(std::uint64_t serial, ActorCell* cell) {
  if ((size_ + 1) * 10 > slots_.size() * 7) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(serial);
  for (; slots_[i].serial != 0; i = (i + 1) & mask) {
    if (slots_[i].serial == serial) return false;
  }
  slots_[i] = Slot{serial, cell};
  ++size_;
  return true;
}

ActorCell* CellTable::find(std::uint64_t serial) const {
  if (slots_.empty() || serial == 0) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home(serial); slots_[i].serial != 0; i = (i + 1) & mask) {
    if (slots_[i].serial == serial) return slots_[i].cell;
  }
  return nullptr;
}

bool CellTable::erase(std::uint64_t serial) {
  if (slots_.empty() || serial == 0) return false;
  const std::size_t mask = slots_.size() - 1;
  std::size_t hole = home(serial);
  while (slots_[hole].serial != serial) {
    if (slots_[hole].serial == 0) return false;
    hole = (hole + 1) & mask;
  }
  // Backward shift: pull each later entry of the run into the hole unless its home lies
  // cyclically in (hole, j], where it would no longer be found.
  for (std::size_t j = (hole + 1) & mask; slots_[j].serial != 0; j = (j + 1) & mask) {
    const std::size_t k = home(slots_[j].serial);
    const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  return true;
}

}  // namespace troupe
