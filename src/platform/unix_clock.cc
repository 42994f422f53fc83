#include "troupe/platform/unix_clock.h"

#include <chrono>

namespace troupe {

UnixClock::UnixClock(const Clock& clock)
    : UnixClock(clock, std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count()) {}

UnixClock::UnixClock(const Clock& clock, std::int64_t unix_seconds_at_anchor)
    : clock_(&clock), anchor_(clock.now()), unix_at_anchor_(unix_seconds_at_anchor) {}

std::int64_t UnixClock::now() const {
  const auto elapsed = std::chrono::floor<std::chrono::seconds>(clock_->now() - anchor_);
  return unix_at_anchor_ + elapsed.count();
}

}  // namespace troupe
