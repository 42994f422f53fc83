// Supervisor: an actor that starts children from specs and restarts them in place (same cell,
// same ActorRef, mailbox kept) when they exit, OTP-style: strategies one-for-one, one-for-all
// and rest-for-one; restart policies permanent/transient/temporary; restart intensity (more
// than max_restarts within `within` escalates: the supervisor stops its children and fails to
// its own parent); capped exponential backoff before each restart. Shutdown (inherited from
// every actor) stops children in reverse start order, each with a timeout, then kills.
// An explicit stop of a child (ActorSystem::stop) is final: the supervisor forgets it.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "troupe/runtime/actor.h"

namespace troupe {

enum class Strategy { kOneForOne, kOneForAll, kRestForOne };
enum class RestartPolicy { kPermanent, kTransient, kTemporary };

struct SupervisorOptions {
  Strategy strategy = Strategy::kOneForOne;
  int max_restarts = 3;
  Clock::Duration within = std::chrono::seconds(5);
  // Delay before the n-th restart of a child within `within`: initial * 2^(n-1), capped.
  Clock::Duration backoff_initial = Clock::Duration{0};
  Clock::Duration backoff_max = std::chrono::seconds(1);
};

struct ChildSpec {
  std::string name;       // registered name (optional)
  std::string type_name;  // kind shown by `troupe ls`
  std::function<std::unique_ptr<Actor>()> factory;
  RestartPolicy restart = RestartPolicy::kPermanent;
  MailboxOptions mailbox;
};

// Ask a supervisor with StartChild; the reply is the child's ActorRef.
struct StartChild {
  ChildSpec spec;
};

class Supervisor : public Actor {
 public:
  explicit Supervisor(SupervisorOptions options = {}, std::vector<ChildSpec> initial = {});

  void on_start() override;
  bool receive(Message& m) override;
  bool on_child_failed(const ActorRef& child, const ExitReason& reason) override;
  void on_child_exit(const ChildExit& exit) override;

 protected:
  ActorRef start_child(ChildSpec spec);
  const SupervisorOptions& options() const { return options_; }

 private:
  struct Child {
    ChildSpec spec;
    ActorRef ref;
    std::deque<Clock::TimePoint> recent;  // this child's restarts within the window
  };
  struct RestartNow {
    ActorRef child;
  };
  Child* find(const ActorRef& ref);
  void restart(Child& child);

  SupervisorOptions options_;
  std::vector<ChildSpec> initial_;
  std::vector<Child> children_;          // start order
  std::deque<Clock::TimePoint> recent_;  // all restarts within the window (intensity)
};

}  // namespace troupe
