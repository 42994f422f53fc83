// CredentialRenewalLoop: the node's thread that keeps the credentials of its packaged actors
// current. Each pass runs ActorIdentities::renew_due() and hands every event to `on_event`
// (the node tells the actor on-credential-renewed / on-credential-expiring, or stops it when
// renewal is refused), then forgets the actors `is_alive` says have stopped (an unnamed
// actor's key goes with it). It sleeps until the next credential is due, at most `max_wait`
// (the sweep's period) and at least `min_wait` (no busy loop while renewal keeps failing);
// wake() makes it pass at once.
// Threading: one thread of its own; wake() and stop() may be called from any thread, the
// callbacks run on the loop's thread and must not call stop(). Lifetime: the ActorIdentities
// and whatever the callbacks use must outlive stop(), which the destructor calls.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "troupe/base/ids.h"
#include "troupe/platform/actor_identities.h"

namespace troupe {

class CredentialRenewalLoop {
 public:
  using OnEvent = std::function<void(const IdentityEvent&)>;
  using IsAlive = std::function<bool(ActorId)>;
  struct Options {
    std::chrono::milliseconds max_wait{1000};
    std::chrono::milliseconds min_wait{200};
  };

  CredentialRenewalLoop(ActorIdentities& identities, OnEvent on_event, IsAlive is_alive,
                        Options options);
  ~CredentialRenewalLoop();
  CredentialRenewalLoop(const CredentialRenewalLoop&) = delete;
  CredentialRenewalLoop& operator=(const CredentialRenewalLoop&) = delete;

  void wake();
  // Waits for a running pass and joins; idempotent.
  void stop();

 private:
  void run();
  void pass();

  ActorIdentities& identities_;
  OnEvent on_event_;
  IsAlive is_alive_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;     // last: started once the rest is set
};

}  // namespace troupe
