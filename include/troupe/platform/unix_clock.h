// UnixClock: wall-clock time in Unix seconds for what the platform stamps and checks (a
// credential's iat/exp, a key's creation time), read through the injectable monotonic Clock
// (base/clock.h). It is anchored once — to the system's real time, or to a time a test gives —
// and then moves only with the Clock: with a ManualClock, only when the test advances it. A
// step of the system's date after construction does not move it, so expiry and renewal follow
// elapsed time.
// Immutable after construction; thread-safe. The Clock must outlive it (and its copies).
#pragma once

#include <cstdint>

#include "troupe/base/clock.h"

namespace troupe {

class UnixClock {
 public:
  explicit UnixClock(const Clock& clock);
  UnixClock(const Clock& clock, std::int64_t unix_seconds_at_anchor);

  std::int64_t now() const;

 private:
  const Clock* clock_;
  Clock::TimePoint anchor_;
  std::int64_t unix_at_anchor_;
};

}  // namespace troupe
