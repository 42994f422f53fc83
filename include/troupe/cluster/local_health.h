// LocalHealth: Lifeguard's local health awareness — a score of how much this node should
// distrust its own view. Failed probes (and, when indirect probers answer, the nacks that did
// not come back) raise it, successful probes lower it, being suspected raises it. Probe
// interval and probe timeout are multiplied by score + 1, so a starved or cut-off node slows
// its probing down instead of accusing healthy members. Not thread-safe; owned by Membership.
#pragma once

#include <algorithm>

#include "troupe/base/clock.h"

namespace troupe {

class LocalHealth {
 public:
  // Score range 0 .. max_multiplier - 1 (max_multiplier >= 1).
  explicit LocalHealth(int max_multiplier) : max_score_(std::max(max_multiplier, 1) - 1) {}

  void apply(int delta) { score_ = std::clamp(score_ + delta, 0, max_score_); }
  int score() const { return score_; }
  Clock::Duration scale(Clock::Duration d) const { return d * (score_ + 1); }

 private:
  int max_score_;
  int score_ = 0;
};

}  // namespace troupe
