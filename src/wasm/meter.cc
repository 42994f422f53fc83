#include "troupe/wasm/meter.h"

#include <algorithm>
#include <limits>

#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {
namespace {

constexpr std::uint64_t kUnlimited = kUnlimitedFuel;

}  // namespace

void Meter::arm() {
  left_ = limits_.fuel;
  deadline_.reset();
  excluded_ = {};
  if (limits_.timeout != kNoDeadline) {
    deadline_ = std::chrono::steady_clock::now() + limits_.timeout;
  }
}

std::int64_t Meter::begin() {
  arm();
  // Always in slices, unlimited fuel too: each slice's end is where the host may preempt.
  const std::uint64_t slice = std::min(left_, kFuelSlice);
  if (left_ != kUnlimited) left_ -= slice;
  return static_cast<std::int64_t>(slice);
}

Result<void> Meter::check_deadline() const {
  if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) {
    return Error{WasmErrc::kDeadlineExceeded,
                 "ran past its deadline of " + std::to_string(limits_.timeout.count()) + " ms"};
  }
  return {};
}

Result<std::int64_t> Meter::refuel() {
  if (auto late = check_deadline(); !late.ok()) return late.error();
  if (left_ == 0) {
    return Error{WasmErrc::kFuelExhausted,
                 "used all " + std::to_string(limits_.fuel) + " units of fuel"};
  }
  const std::uint64_t grant = std::min(left_, kFuelSlice);
  if (left_ != kUnlimited) left_ -= grant;
  return static_cast<std::int64_t>(grant) - 1;  // the unit that ran out is paid from it
}

void Meter::exclude_wait(std::chrono::steady_clock::duration waited,
                         std::chrono::steady_clock::duration budget) {
  const auto moved =
      std::clamp(waited, std::chrono::steady_clock::duration::zero(),
                 std::max(budget - excluded_, std::chrono::steady_clock::duration::zero()));
  if (!deadline_ || moved == std::chrono::steady_clock::duration::zero()) return;
  excluded_ += moved;
  *deadline_ += moved;
}

Error Meter::too_deep() const {
  return Error{WasmErrc::kTrap, "call stack exhausted: more than " +
                                    std::to_string(limits_.max_call_depth) + " nested calls"};
}

Error Meter::classify_trap(const std::string& message, bool grow_refused) const {
  if (grow_refused) {
    return Error{WasmErrc::kMemoryLimit,
                 "trapped after memory.grow was refused" +
                     (limits_.memory_pages != kAllPages
                          ? " (limit " + std::to_string(limits_.memory_pages) + " pages)"
                          : std::string()) +
                     ": " + message};
  }
  return Error{WasmErrc::kTrap, message};
}

}  // namespace troupe::wasm
