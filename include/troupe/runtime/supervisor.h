// Supervisor: an actor that starts children from specs and restarts them in place (same cell,
// same ActorRef, mailbox kept) when they exit, OTP-style: strategies one-for-one, one-for-all
// and rest-for-one; restart policies permanent/transient/temporary; restart intensity (more
// than max_restarts within `within` escalates: the supervisor stops its children and fails to
// its own parent); capped exponential backoff before each restart. Shutdown (inherited from
// every actor) stops children in reverse start order, each with a timeout, then kills.
// An explicit stop of a child (ActorSystem::stop) is final: the supervisor forgets it.
//
// The node's root supervisor does not escalate (it has no parent to escalate to, and its death
// would take every actor with it): it counts restarts per child, and a child past the
// intensity is given up on alone — stopped with its last reason and recorded as failed
// (ActorSystem::failed), like a systemd unit in the failed state.
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
  // Past the intensity: true (OTP) stops every child and fails this supervisor to its parent;
  // false gives up on the failing child alone (intensity then counts each child's restarts).
  bool escalate = true;
};

// The root supervisor's defaults: per-child intensity, never escalating, and a capped
// exponential backoff with a non-zero first delay, so that a crash loop costs little and is
// visible (5 restarts take 1.55 s) before the child is marked failed.
inline SupervisorOptions root_supervisor_options() {
  return SupervisorOptions{.strategy = Strategy::kOneForOne,
                           .max_restarts = 5,
                           .within = std::chrono::seconds(30),
                           .backoff_initial = std::chrono::milliseconds(50),
                           .backoff_max = std::chrono::seconds(5),
                           .escalate = false};
}

// A child that a non-escalating supervisor gave up on. Kept by the ActorSystem (the most
// recent ones) so that `troupe ls` can show it after its death. Plain value.
struct FailedActor {
  ActorRef ref;  // a tombstone: id, type and restart count stay readable
  ActorId supervisor;
  std::string name;
  ExitReason reason;  // the last failure, with the intensity that was exceeded
  std::uint32_t restarts = 0;
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
  // Restarts (or, running, stops and restarts) a child with a fresh instance; a factory that
  // throws stops the child for good instead of failing this supervisor.
  void restart(Child& child);
  void give_up(Child& child, const ExitReason& reason);

  SupervisorOptions options_;
  std::vector<ChildSpec> initial_;
  std::vector<Child> children_;          // start order
  std::deque<Clock::TimePoint> recent_;  // all restarts within the window (intensity)
};

}  // namespace troupe
