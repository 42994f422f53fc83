#include "troupe/cluster/suspicion.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace troupe {

Clock::Duration suspicion_min_timeout(int suspicion_mult, std::size_t members,
                                      Clock::Duration probe_interval) {
  const double scale = std::max(1.0, std::log10(std::max(1.0, static_cast<double>(members))));
  // In milliseconds of scale, as integer arithmetic from there: no rounding drift per member.
  const auto scale_ms = static_cast<std::int64_t>(scale * 1000.0);
  return probe_interval * suspicion_mult * scale_ms / 1000;
}

Clock::Duration suspicion_timeout(int confirmations, int expected, Clock::Duration min,
                                  Clock::Duration max) {
  if (expected < 1) return min;
  using Seconds = std::chrono::duration<double>;
  const double frac = std::log(confirmations + 1.0) / std::log(expected + 1.0);
  const double raw = Seconds(max).count() - frac * (Seconds(max).count() - Seconds(min).count());
  const auto timeout = std::chrono::duration_cast<Clock::Duration>(
      std::chrono::milliseconds(static_cast<std::int64_t>(std::floor(raw * 1000.0))));
  return std::max(timeout, min);
}

int expected_suspicion_confirmations(int suspicion_mult, std::size_t members) {
  const int k = suspicion_mult - 2;
  if (static_cast<long long>(members) - 2 < k) return 0;
  return std::max(k, 0);
}

Suspicion::Suspicion(NodeId accuser, int expected, Clock::Duration min, Clock::Duration max,
                     Clock::TimePoint start)
    : seen_{accuser}, expected_(expected), min_(min), max_(max), start_(start) {}

bool Suspicion::confirm(NodeId from) {
  if (confirmations_ >= expected_) return false;
  if (std::find(seen_.begin(), seen_.end(), from) != seen_.end()) return false;
  seen_.push_back(from);
  ++confirmations_;
  return true;
}

Clock::TimePoint Suspicion::deadline() const {
  return start_ + suspicion_timeout(confirmations_, expected_, min_, max_);
}

}  // namespace troupe
