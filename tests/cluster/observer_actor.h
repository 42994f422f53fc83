// Observer: a test actor that monitors a target from on_start (and links to it when asked),
// recording each DOWN's reason in a Probe; any Envelope makes it fail with the payload as its
// error. Used by the remote-actor tests in one process and across processes.
// Runs on the actor system's workers; `downs` must outlive it.
#pragma once

#include <atomic>
#include <utility>

#include "probe.h"
#include "troupe/runtime/actor.h"
#include "troupe/runtime/envelope.h"

namespace troupe::testing {

class Observer final : public Actor {
 public:
  Observer(ActorRef target, bool link, Probe& downs)
      : target_(std::move(target)), link_(link), downs_(downs) {}
  void on_start() override {
    monitor(target_);
    if (link_) link(target_);
    started.fetch_add(1);
  }
  // How many observers have their monitor (and link) in place: tests wait for it before they
  // act, so what the monitor reports does not depend on which came first.
  static inline std::atomic<int> started{0};
  void on_down(const Down& d) override { downs_.push(d.reason.to_string()); }
  bool receive(Message& m) override {
    if (!m.is<Envelope>()) return false;
    stop(ExitReason::error(m.as<Envelope>().payload));
    return true;
  }

 private:
  ActorRef target_;
  bool link_;
  Probe& downs_;
};

}  // namespace troupe::testing
