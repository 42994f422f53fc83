// Internal: LinearMemoryPool keeps the address-space reservations that hold AOT linear memories
// (8 GiB + 64 KiB each, PROT_NONE past the memory's pages so the reservation is its guard) and
// hands them to the next instance instead of unmapping them: an mmap, an munmap and most
// mprotects per instance were most of a warm spawn. A slot is reset when it comes back, so the
// next instance reads zeros, never the previous one's bytes: the pages its instance touched
// (present or swapped, read from /proc/self/pagemap) are zeroed in place when they are few,
// else madvise(MADV_DONTNEED) drops every byte the instance could reach. A slot whose reset
// fails is unmapped, never kept.
// Bounded: at most `max_slots` free slots holding at most `max_retained_bytes` of accessible
// (read/write, zero, no resident pages) address space; past either, and when no free slot is
// left, plain mmap/munmap. The bounds follow the node's GuestCaps (bounds_for).
// Thread-safe: acquire and release from any thread. Only free slots are the pool's; a slot in
// use belongs to its instance, which is what the fault handler asks (AotInstance::owns).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "troupe/wasm/guest_budget.h"

namespace troupe::wasm {

inline constexpr std::uint64_t kWasmPageBytes = 65536;
// u32 address + u32 offset + the widest access: every address a guest can form lands inside.
inline constexpr std::size_t kLinearMemoryReservation = (std::size_t{8} << 30) + kWasmPageBytes;

struct MemoryPoolBounds {
  std::uint32_t max_slots = 0;
  std::uint64_t max_retained_bytes = 0;
};

class LinearMemoryPool {
 public:
  explicit LinearMemoryPool(MemoryPoolBounds bounds) : bounds_(bounds) {}
  LinearMemoryPool(const LinearMemoryPool&) = delete;
  LinearMemoryPool& operator=(const LinearMemoryPool&) = delete;
  virtual ~LinearMemoryPool();  // unmaps the free slots

  // A reservation of kLinearMemoryReservation bytes whose first `bytes` (a multiple of
  // kWasmPageBytes) are readable, writable and zero, the rest PROT_NONE; nullptr when none can
  // be had.
  std::uint8_t* acquire(std::uint64_t bytes);

  // Takes back a reservation from acquire. `accessible`: every byte its instance may have made
  // readable or writable (from the start). `clean` false when that is not known (a failed
  // mprotect may have applied in part): the slot is unmapped.
  void release(std::uint8_t* base, std::uint64_t accessible, bool clean);

  // Lowering the bounds unmaps the free slots past them at once.
  void set_bounds(MemoryPoolBounds bounds);
  MemoryPoolBounds bounds() const;

  struct Stats {
    std::uint32_t free_slots = 0;
    std::uint64_t retained_bytes = 0;  // accessible bytes of the free slots
    std::uint64_t reused = 0;          // acquires served from a free slot
    std::uint64_t mapped = 0;          // acquires that mapped a new reservation
    std::uint64_t unmapped = 0;        // releases that unmapped (pool full, unclean, reset failed)
    std::uint64_t reset_failures = 0;
    std::uint64_t resets_in_place = 0;  // resets that zeroed the touched pages (no madvise)
  };
  Stats stats() const;

  // Slot count and retained bytes for a node with these caps: never more slots than instances
  // may live, never more retained bytes than guests may hold.
  static MemoryPoolBounds bounds_for(const GuestCaps& caps);

  // The process's pool: every AOT instance draws from it; the node sets its bounds.
  static LinearMemoryPool& node();

 protected:
  // Makes the first `accessible` bytes of `base` read as zero; false when it cannot.
  virtual bool reset(std::uint8_t* base, std::uint64_t accessible);
  // reset's fast path: zeroes the touched pages in place; false (nothing done that matters)
  // when pagemap cannot be read, the memory is over kMostScannedPages or more than
  // kMostZeroedPages were touched.
  static bool zero_touched_pages(std::uint8_t* base, std::uint64_t accessible);

 public:
  static constexpr std::uint64_t kMostScannedPages = 4096;  // 16 MiB of 4 KiB pages
  static constexpr std::uint64_t kMostZeroedPages = 32;     // 128 KiB stay resident per slot

 private:
  struct Slot {
    std::uint8_t* base;
    std::uint64_t accessible;
  };
  void trim_locked(std::vector<Slot>& doomed);

  std::atomic<std::uint64_t> resets_in_place_{0};
  mutable std::mutex mutex_;
  MemoryPoolBounds bounds_;
  std::vector<Slot> free_;  // most recently released last: its page tables are warmest
  Stats stats_;
};

}  // namespace troupe::wasm
