#include "troupe/wasm/guest_budget.h"

#include <string>
#include <utility>

#include "linear_memory_pool.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {

GuestBudget::Lease::Lease(Lease&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), bytes_(other.bytes_) {}

GuestBudget::Lease& GuestBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->release(bytes_);
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = other.bytes_;
  }
  return *this;
}

GuestBudget::Lease::~Lease() {
  if (budget_ != nullptr) budget_->release(bytes_);
}

Result<GuestBudget::Lease> GuestBudget::acquire(std::uint64_t memory_bytes) {
  std::lock_guard lock(mutex_);
  if (caps_.max_instances != kNoInstanceCap && instances_ >= caps_.max_instances) {
    return Error{BaseErrc::kUnavailable, "the node runs its maximum of " +
                                             std::to_string(caps_.max_instances) +
                                             " WebAssembly instances"};
  }
  if (caps_.max_memory_bytes != kNoMemoryCap && bytes_ + memory_bytes > caps_.max_memory_bytes) {
    return Error{WasmErrc::kMemoryLimit,
                 "node-wide guest memory: " + std::to_string(memory_bytes >> 20) +
                     " MiB more would pass the cap of " +
                     std::to_string(caps_.max_memory_bytes >> 20) + " MiB (" +
                     std::to_string(bytes_ >> 20) + " MiB held)"};
  }
  ++instances_;
  bytes_ += memory_bytes;
  Lease lease;
  lease.budget_ = this;
  lease.bytes_ = memory_bytes;
  return lease;
}

void GuestBudget::release(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  --instances_;
  bytes_ -= bytes;
}

void GuestBudget::set_caps(GuestCaps caps) {
  {
    std::lock_guard lock(mutex_);
    caps_ = caps;
  }
  // The node's pool of linear memories keeps no more than the node's guests may hold.
  if (this == &node()) LinearMemoryPool::node().set_bounds(LinearMemoryPool::bounds_for(caps));
}

GuestCaps GuestBudget::caps() const {
  std::lock_guard lock(mutex_);
  return caps_;
}

std::uint32_t GuestBudget::instances() const {
  std::lock_guard lock(mutex_);
  return instances_;
}

std::uint64_t GuestBudget::memory_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

GuestBudget& GuestBudget::node() {
  static auto* budget = new GuestBudget();  // never destroyed: instances may outlive statics
  return *budget;
}

}  // namespace troupe::wasm
