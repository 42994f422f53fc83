// GossipQueue: the updates waiting to be piggybacked on outgoing membership messages (SWIM's
// infection-style dissemination). One update per member — a newer one replaces the older —
// each sent a bounded number of times (retransmit_mult * ceil(log10(n + 1)), computed by the
// caller), least-sent first so fresh news travels before old news. Not thread-safe; owned by
// Membership.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "troupe/cluster/membership_codec.h"

namespace troupe {

class GossipQueue {
 public:
  // Queues `update`, replacing (and resetting the count of) any update about the same member.
  void enqueue(MemberUpdate update);

  // Takes up to max_count updates whose encoded sizes together fit in `budget` bytes, least
  // sent first (newest first among equals). Each one taken counts as a transmission; one sent
  // `limit` times leaves the queue.
  std::vector<MemberUpdate> take(std::size_t budget, std::size_t max_count, int limit);

  void erase(NodeId member) { items_.erase(member); }
  void clear() { items_.clear(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // The queued update about `member`, if any (for tests).
  const MemberUpdate* find(NodeId member) const;

 private:
  struct Item {
    MemberUpdate update;
    int transmits = 0;
    std::uint64_t serial = 0;  // enqueue order
  };
  std::map<NodeId, Item> items_;
  std::uint64_t next_serial_ = 0;
};

}  // namespace troupe
