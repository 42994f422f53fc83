// Suspicion: Lifeguard's dynamic suspicion timeout for one suspected member. The timer starts
// at its maximum and shrinks, as independent members confirm the suspicion, toward its minimum
// (reached after `expected` confirmations): a lone accuser — perhaps itself slow or cut off —
// gives the suspect the most time to refute, a suspicion many members share ends quickly.
// The formulas are free functions so they can be checked on their own. Not thread-safe; owned
// by the Membership entry of the suspected member.
#pragma once

#include <cstddef>
#include <vector>

#include "troupe/base/clock.h"
#include "troupe/base/ids.h"

namespace troupe {

// min = suspicion_mult * max(1, log10(max(1, members))) * probe_interval — memberlist's
// scaling, which never goes below suspicion_mult probe intervals in a small cluster.
Clock::Duration suspicion_min_timeout(int suspicion_mult, std::size_t members,
                                      Clock::Duration probe_interval);

// The whole timeout (from the start of the suspicion) after `confirmations` of `expected`:
// max - log(confirmations + 1) / log(expected + 1) * (max - min), floored to the millisecond
// and never below min; min when expected < 1 (nobody to confirm).
Clock::Duration suspicion_timeout(int confirmations, int expected, Clock::Duration min,
                                  Clock::Duration max);

// How many confirmations drive a suspicion to its minimum: suspicion_mult - 2, or 0 when the
// cluster is too small to provide them (members - 2 < suspicion_mult - 2).
int expected_suspicion_confirmations(int suspicion_mult, std::size_t members);

class Suspicion {
 public:
  // `accuser` raised the suspicion: its own later messages never count as confirmations.
  Suspicion(NodeId accuser, int expected, Clock::Duration min, Clock::Duration max,
            Clock::TimePoint start);

  // Counts `from` as an independent confirmation; false when it was already counted, is the
  // accuser, or the minimum is already reached (nothing to gain by re-gossiping then).
  bool confirm(NodeId from);

  Clock::TimePoint deadline() const;
  int confirmations() const { return confirmations_; }
  Clock::TimePoint start() const { return start_; }

 private:
  std::vector<NodeId> seen_;  // accuser and confirmers: at most expected + 1 ids
  int expected_;
  int confirmations_ = 0;
  Clock::Duration min_, max_;
  Clock::TimePoint start_;
};

}  // namespace troupe
