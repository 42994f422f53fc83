#include "troupe/cluster/gossip_queue.h"

#include <algorithm>
#include <utility>

namespace troupe {

void GossipQueue::enqueue(MemberUpdate update) {
  const NodeId id = update.member.id;
  items_[id] = Item{std::move(update), 0, next_serial_++};
}

std::vector<MemberUpdate> GossipQueue::take(std::size_t budget, std::size_t max_count, int limit) {
  std::vector<MemberUpdate> out;
  if (items_.empty() || max_count == 0) return out;
  std::vector<Item*> order;
  order.reserve(items_.size());
  for (auto& [id, item] : items_) order.push_back(&item);
  std::sort(order.begin(), order.end(), [](const Item* a, const Item* b) {
    if (a->transmits != b->transmits) return a->transmits < b->transmits;
    return a->serial > b->serial;
  });
  std::vector<NodeId> spent;
  for (Item* item : order) {
    if (out.size() >= max_count) break;
    const std::size_t size = encoded_update_size(item->update);
    if (size > budget) continue;  // a smaller one may still fit
    budget -= size;
    out.push_back(item->update);
    if (++item->transmits >= limit) spent.push_back(item->update.member.id);
  }
  for (NodeId id : spent) items_.erase(id);
  return out;
}

const MemberUpdate* GossipQueue::find(NodeId member) const {
  auto it = items_.find(member);
  return it == items_.end() ? nullptr : &it->second.update;
}

}  // namespace troupe
