#include "sim_network.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace troupe::test {

class SimNetwork::Transport final : public MembershipTransport {
 public:
  Transport(SimNetwork& sim, std::size_t index) : sim_(sim), index_(index) {}
  void send(const Member& to, Bytes message) override {
    sim_.route(index_, to, std::move(message));
  }

 private:
  SimNetwork& sim_;
  std::size_t index_;
};

struct SimNetwork::Node {
  Member record;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Membership> membership;
  bool crashed = false;
  Duration slow_min{}, slow_max{};          // zero: not slow
  std::optional<Clock::TimePoint> tick_at;  // the deadline the pending tick serves
  std::uint64_t generation = 0;
  std::uint64_t instance = 0;  // bumped by restart
};

SimNetwork::SimNetwork(std::uint64_t seed, SwimConfig config)
    : config_(config), rng_(seed), admit_([](std::size_t, const Member&) { return true; }) {}

SimNetwork::~SimNetwork() = default;

Membership& SimNetwork::node(std::size_t i) { return *nodes_[i]->membership; }
NodeId SimNetwork::id(std::size_t i) const { return nodes_[i]->record.id; }
const Member& SimNetwork::record(std::size_t i) const { return nodes_[i]->record; }

Member SimNetwork::make_record(std::size_t index, std::uint64_t incarnation) {
  Member m;
  for (std::size_t b = 0; b < m.identity.size(); ++b) {
    m.identity[b] = static_cast<std::uint8_t>((index * 131 + b * 7 + 0x5a) & 0xff);
  }
  m.identity[0] = static_cast<std::uint8_t>(index & 0xff);
  m.identity[1] = static_cast<std::uint8_t>(index >> 8);
  m.id = member_id_of(m.identity);
  m.address = "10.0." + std::to_string(index) + ".1:7400";
  m.incarnation = incarnation;
  return m;
}

std::size_t SimNetwork::add_node(std::uint64_t incarnation) {
  const std::size_t i = nodes_.size();
  auto node = std::make_unique<Node>();
  node->record = make_record(i, incarnation);
  node->transport = std::make_unique<Transport>(*this, i);
  nodes_.push_back(std::move(node));
  if (!group_.empty()) group_.push_back(0);
  make_membership(i, incarnation);
  return i;
}

void SimNetwork::make_membership(std::size_t i, std::uint64_t incarnation) {
  Node& node = *nodes_[i];
  node.record.incarnation = incarnation;
  const std::uint64_t instance = ++node.instance;
  auto created = Membership::create(
      config_, node.record, *node.transport, clock_, rng_(),
      [this, i](const Member& m) { return admit_(i, m); },
      [this, i, instance](const MemberEvent& e) {
        if (nodes_[i]->instance != instance) return;
        events_.push_back(
            ObservedEvent{clock_.now(), i, e.kind, e.member.id, e.member.incarnation});
      });
  if (!created.ok()) throw std::runtime_error("Membership::create: " + created.error().detail);
  node.membership = std::move(*created);
  node.crashed = false;
  node.tick_at.reset();
  ++node.generation;
  reschedule(i);
}

void SimNetwork::join(std::size_t i, const std::vector<std::size_t>& seeds) {
  std::vector<Member> records;
  for (std::size_t s : seeds) records.push_back(nodes_[s]->record);
  auto joined = node(i).join(records);
  if (!joined.ok()) throw std::runtime_error("join: " + joined.error().detail);
  reschedule(i);
}

void SimNetwork::add_cluster(std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t i = add_node();
    if (i != 0) join(i, {0});
  }
}

void SimNetwork::crash(std::size_t i) {
  nodes_[i]->crashed = true;
  ++nodes_[i]->generation;
  nodes_[i]->tick_at.reset();
}

void SimNetwork::restart(std::size_t i, std::uint64_t incarnation,
                         const std::vector<std::size_t>& seeds) {
  make_membership(i, incarnation);
  join(i, seeds);
}

void SimNetwork::set_slow(std::size_t i, Duration min_lag, Duration max_lag) {
  nodes_[i]->slow_min = min_lag;
  nodes_[i]->slow_max = max_lag;
}

void SimNetwork::partition(const std::vector<std::vector<std::size_t>>& groups) {
  group_.assign(nodes_.size(), -1);  // nodes in no group reach nobody
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t i : groups[g]) group_[i] = static_cast<int>(g);
  }
}

void SimNetwork::heal() { group_.clear(); }

Duration SimNetwork::uniform(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<Duration::rep> pick(lo.count(), hi.count());
  return Duration(pick(rng_));
}

Duration SimNetwork::lag(std::size_t i) {
  const Node& node = *nodes_[i];
  if (node.slow_max == Duration::zero()) return Duration::zero();
  return uniform(node.slow_min, node.slow_max);
}

void SimNetwork::push(Event event) {
  event.order = next_order_++;
  queue_.push(std::move(event));
}

void SimNetwork::route(std::size_t from, const Member& to, Bytes bytes) {
  // Every draw happens whatever the outcome, so one fault does not shift the others' dice.
  const double roll = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  const Duration delay = latency_ + uniform(Duration::zero(), jitter_);
  auto target = std::find_if(nodes_.begin(), nodes_.end(),
                             [&](const auto& n) { return n->record.id == to.id; });
  if (target == nodes_.end()) {
    ++dropped_;
    return;
  }
  const auto j = static_cast<std::size_t>(target - nodes_.begin());
  ++sent_[{from, j}];
  const bool cut = !group_.empty() && (group_[from] < 0 || group_[from] != group_[j]);
  if (cut || roll < loss_ || nodes_[j]->crashed) {
    ++dropped_;
    return;
  }
  // A slow receiver reads the message late: the lag is added to its arrival.
  push(Event{now() + delay + lag(j), 0, false, j, nodes_[from]->record.id, nodes_[j]->generation,
             std::move(bytes)});
}

void SimNetwork::reschedule(std::size_t i) {
  Node& node = *nodes_[i];
  if (node.crashed) return;
  const auto deadline = node.membership->next_deadline();
  if (node.tick_at && *node.tick_at <= deadline) return;
  node.tick_at = deadline;
  // A slow node runs a timer `lag` after it fell due — not `lag` after the previous one ran:
  // it is behind, not ever further behind.
  push(Event{std::max(now(), deadline + lag(i)), 0, true, i, 0, ++node.generation, {}});
}

void SimNetwork::handle(Event event) {
  Node& node = *nodes_[event.to];
  if (node.crashed) return;
  if (event.tick) {
    if (event.generation != node.generation) return;
    node.tick_at.reset();
    node.membership->tick();
  } else {
    ++delivered_;
    (void)node.membership->on_message(event.from, event.bytes);
  }
  reschedule(event.to);
}

void SimNetwork::run_for(Duration d) {
  const auto end = now() + d;
  while (!queue_.empty() && queue_.top().at <= end) {
    Event event = queue_.top();
    queue_.pop();
    if (event.at > now()) clock_.advance(event.at - now());
    handle(std::move(event));
  }
  if (end > now()) clock_.advance(end - now());
}

std::optional<Duration> SimNetwork::run_until(const std::function<bool()>& pred, Duration limit,
                                              Duration step) {
  const auto start = now();
  while (now() - start < limit) {
    if (pred()) return now() - start;
    run_for(step);
  }
  if (pred()) return now() - start;
  return std::nullopt;
}

std::size_t SimNetwork::count_events(std::size_t observer, MemberEventKind kind,
                                     NodeId member) const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](const auto& e) {
    return e.observer == observer && e.kind == kind && e.member == member;
  }));
}

std::uint64_t SimNetwork::messages_sent(std::size_t from, std::size_t to) const {
  auto it = sent_.find({from, to});
  return it == sent_.end() ? 0 : it->second;
}

bool SimNetwork::sees(std::size_t observer, std::size_t target, MemberState state) {
  auto m = node(observer).member(id(target));
  return m.has_value() && m->state == state;
}

bool SimNetwork::all_alive(const std::vector<std::size_t>& group) {
  for (std::size_t i : group) {
    for (std::size_t j : group) {
      if (!sees(i, j, MemberState::kAlive)) return false;
    }
  }
  return true;
}

}  // namespace troupe::test
