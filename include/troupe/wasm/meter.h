// Meter: the host's half of the limits pass (fuel.h), shared by both tiers. Per invocation it
// hands out fuel in slices and checks the deadline whenever a slice runs out; it answers the
// guest's too-deep call; and it names what a trap means from the counters the pass keeps.
// Owned by one instance; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "troupe/base/result.h"
#include "troupe/wasm/instance.h"

namespace troupe::wasm {

class Meter {
 public:
  explicit Meter(const Limits& limits) : limits_(limits) {}

  // At the start of an invocation: the fuel counter's first value.
  std::int64_t begin();
  // The same budget and deadline with the counter left at zero, so the guest's first charge
  // asks refuel() (for a start function, which runs before the host can set the counter).
  void arm();
  // The guest's out-of-fuel call: the counter's next value, or why the guest must stop
  // (kFuelExhausted, kDeadlineExceeded).
  Result<std::int64_t> refuel();
  // Moves the deadline `waited` later: the time the guest spent suspended on a call of its
  // own is not run time (see Instance::exclude_wait). At most `budget` in all per invocation,
  // so the deadline still bounds the invocation's wall-clock time (to timeout + budget).
  void exclude_wait(std::chrono::steady_clock::duration waited,
                    std::chrono::steady_clock::duration budget);
  // kDeadlineExceeded once the deadline has passed (what refuel() checks first).
  Result<void> check_deadline() const;
  // The guest's too-deep call.
  Error too_deep() const;
  // What a trap with `message` was, given whether a memory.grow was refused in the invocation.
  Error classify_trap(const std::string& message, bool grow_refused) const;

  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
  std::uint64_t left_ = 0;  // fuel not yet handed out (unlimited: stays at max)
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::chrono::steady_clock::duration excluded_{};  // waits moved out of this invocation's time
};

}  // namespace troupe::wasm
