// Pool: N identical workers behind one ActorRef. The pool is a one-for-one supervisor of its
// workers (restarted in place, so routing stays stable) and forwards each user message to one
// of them without copying it; the worker replies straight to the asker. Routing: round-robin,
// random, consistent hash of a message key, or least-loaded (shortest mailbox).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "troupe/runtime/supervisor.h"

namespace troupe {

enum class Routing { kRoundRobin, kRandom, kConsistentHash, kLeastLoaded };

struct PoolOptions {
  std::size_t size = 4;
  Routing routing = Routing::kRoundRobin;
  std::function<std::unique_ptr<Actor>()> factory;
  std::string worker_type = "worker";
  // kConsistentHash: the key of a message; messages without one go round-robin. The default
  // keys an Envelope by its payload.
  std::function<std::optional<std::uint64_t>(const Message&)> key;
  SupervisorOptions supervision;
  MailboxOptions worker_mailbox;
};

class Pool final : public Supervisor {
 public:
  explicit Pool(PoolOptions options);

  void on_start() override;
  bool receive(Message& m) override;
  const std::vector<ActorRef>& workers() const { return workers_; }

  // Routing decision for a message (exposed for tests).
  std::size_t pick(const Message& m);

 private:
  PoolOptions options_;
  std::vector<ActorRef> workers_;
  std::vector<std::pair<std::uint64_t, std::size_t>> ring_;  // consistent-hash points
  std::size_t next_ = 0;
  std::mt19937_64 rng_{0x7209e};
};

}  // namespace troupe
