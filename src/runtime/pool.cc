#include "troupe/runtime/pool.h"

#include <algorithm>

#include "troupe/runtime/actor_system.h"
#include "troupe/runtime/envelope.h"

namespace troupe {
namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

constexpr std::size_t kPointsPerWorker = 64;

}  // namespace

Pool::Pool(PoolOptions options) : Supervisor(options.supervision), options_(std::move(options)) {
  if (options_.size == 0) options_.size = 1;
  if (!options_.key) {
    options_.key = [](const Message& m) -> std::optional<std::uint64_t> {
      if (!m.is<Envelope>()) return std::nullopt;
      return std::hash<std::string>{}(const_cast<Message&>(m).as<Envelope>().payload);
    };
  }
}

void Pool::on_start() {
  workers_.clear();
  ring_.clear();
  for (std::size_t i = 0; i < options_.size; ++i) {
    ChildSpec spec;
    spec.type_name = options_.worker_type;
    spec.factory = options_.factory;
    spec.mailbox = options_.worker_mailbox;
    workers_.push_back(start_child(std::move(spec)));
    for (std::size_t p = 0; p < kPointsPerWorker; ++p) {
      ring_.emplace_back(mix((i << 32) ^ p), i);
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

std::size_t Pool::pick(const Message& m) {
  const std::size_t n = workers_.size();
  switch (options_.routing) {
    case Routing::kRoundRobin:
      break;
    case Routing::kRandom:
      return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    case Routing::kConsistentHash:
      if (auto key = options_.key(m)) {
        std::uint64_t h = mix(*key);
        auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(h, std::size_t{0}));
        return it == ring_.end() ? ring_.front().second : it->second;
      }
      break;
    case Routing::kLeastLoaded: {
      std::size_t best = 0;
      std::size_t best_depth = SIZE_MAX;
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = (next_ + k) % n;  // rotate the starting point to break ties fairly
        std::size_t d = workers_[i].cell()->mailbox_depth();
        if (d < best_depth) {
          best = i;
          best_depth = d;
        }
      }
      next_ = (next_ + 1) % n;
      return best;
    }
  }
  return next_++ % n;
}

bool Pool::receive(Message& m) {
  if (m.is<StartChild>()) return Supervisor::receive(m);
  if (workers_.empty()) return false;
  forward(workers_[pick(m)]);
  return true;
}

}  // namespace troupe
