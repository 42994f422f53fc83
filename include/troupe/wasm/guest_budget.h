// GuestBudget: node-wide caps on WebAssembly guests — how many instances may be live at once,
// and how much linear memory they may hold together. Memory is counted by each instance's
// ceiling: its page limit (Limits::memory_pages) or, without one, the module's declared
// maximum (4 GiB when it declares none). The ceiling is reserved when the instance is created
// and released when it is destroyed, so guests can never grow past the cap between them (the
// same accounting as a pooling allocator's slots); an instance that does not fit is not
// created (kUnavailable for the instance cap, kMemoryLimit for the memory cap). Both caps are
// on by default; no cap is spelled kNoInstanceCap / kNoMemoryCap, never 0. The node budget's
// caps also bound the pool of free AOT linear memories (src/wasm/linear_memory_pool.h).
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "troupe/base/result.h"

namespace troupe::wasm {

inline constexpr std::uint32_t kNoInstanceCap = UINT32_MAX;
inline constexpr std::uint64_t kNoMemoryCap = UINT64_MAX;

struct GuestCaps {
  std::uint32_t max_instances = 1000;
  std::uint64_t max_memory_bytes = std::uint64_t{4096} << 20;
};

class GuestBudget {
 public:
  explicit GuestBudget(GuestCaps caps = {}) : caps_(caps) {}
  GuestBudget(const GuestBudget&) = delete;
  GuestBudget& operator=(const GuestBudget&) = delete;

  // One instance's share; returned to the budget when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

   private:
    friend class GuestBudget;
    GuestBudget* budget_ = nullptr;
    std::uint64_t bytes_ = 0;
  };

  Result<Lease> acquire(std::uint64_t memory_bytes);

  void set_caps(GuestCaps caps);
  GuestCaps caps() const;
  std::uint32_t instances() const;
  std::uint64_t memory_bytes() const;

  // The process's budget: every Instance draws from it. The node sets its caps from config.
  static GuestBudget& node();

 private:
  void release(std::uint64_t bytes);

  mutable std::mutex mutex_;
  GuestCaps caps_;
  std::uint32_t instances_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace troupe::wasm
