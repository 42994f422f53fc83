// CredentialRenewalLoop: its passes hand renew_due's events to the node (here, a recorder) as the
// ManualClock reaches renewal time, forget the actors that have stopped (an unnamed actor's key
// with them), survive a callback that throws, and stop promptly.
#include "troupe/node/credential_renewal_loop.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "platform/identity_rig.h"

namespace troupe {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'800'000'000;
constexpr std::int64_t kTtl = 300;

class CredentialRenewalLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(rig_.open(
        kT0, IdentityServiceOptions{"troupe:node:00000000000000aa", "node/identity", kTtl}));
    identities_.emplace(*service_, *custody_, UnixClock(clock_, kT0),
                        [](const std::string&, const std::string&) { return true; });
  }
  Enrollment enrollment(std::uint64_t serial, bool ephemeral) const {
    return rig_enrollment(serial, ephemeral);
  }
  // Starts the loop; `alive` says which actors still run.
  void start(std::function<bool(ActorId)> alive) {
    loop_.emplace(
        *identities_,
        [this](const IdentityEvent& e) {
          std::lock_guard lock(mu_);
          if (throw_next_) {
            throw_next_ = false;
            throw std::runtime_error("a failing callback");
          }
          events_.push_back(e);
          cv_.notify_all();
        },
        std::move(alive), CredentialRenewalLoop::Options{1000ms, 1ms});
  }
  // Waits (bounded) until `done` holds, waking the loop each round.
  bool wait_for(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      {
        std::unique_lock lock(mu_);
        if (done()) return true;
      }
      loop_->wake();
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, 10ms);
    }
    std::unique_lock lock(mu_);
    return done();
  }

  IdentityRig rig_;
  ManualClock& clock_ = rig_.clock;
  std::unique_ptr<KeyCustody>& custody_ = rig_.custody;
  std::optional<IdentityService>& service_ = rig_.service;
  std::optional<ActorIdentities> identities_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<IdentityEvent> events_;          // guarded by mu_
  bool throw_next_ = false;                    // guarded by mu_
  std::optional<CredentialRenewalLoop> loop_;  // last: stopped first
};

TEST_F(CredentialRenewalLoopTest, RenewsOnTheClockAndForgetsStoppedActors) {
  const Enrollment running = enrollment(1, false);
  const Enrollment stopped = enrollment(2, true);
  ASSERT_TRUE(identities_->enroll(running).ok());
  ASSERT_TRUE(identities_->enroll(stopped).ok());
  ASSERT_TRUE(custody_->info(stopped.key_name).ok());
  start([&](ActorId id) { return id == running.actor; });
  // Forgotten, then (later in the same pass) its key removed.
  ASSERT_TRUE(wait_for([&] {
    return identities_->size() == 1 && !custody_->info(stopped.key_name).ok();
  })) << "an unnamed actor's key goes with it";
  EXPECT_TRUE(identities_->find(running.actor).has_value());
  {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(events_.empty()) << "nothing is due before two thirds of the TTL";
  }

  clock_.advance(std::chrono::seconds(kTtl * 2 / 3));
  ASSERT_TRUE(wait_for([&] { return !events_.empty(); }));
  std::lock_guard lock(mu_);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, IdentityEvent::Kind::kRenewed);
  EXPECT_EQ(events_[0].actor, running.actor);
  EXPECT_EQ(events_[0].expires_at, kT0 + kTtl * 2 / 3 + kTtl);
}

TEST_F(CredentialRenewalLoopTest, ACallbackThatThrowsDoesNotEndRenewal) {
  ASSERT_TRUE(identities_->enroll(enrollment(1, false)).ok());
  ASSERT_TRUE(identities_->enroll(enrollment(2, false)).ok());
  {
    std::lock_guard lock(mu_);
    throw_next_ = true;
  }
  start([](ActorId) { return true; });
  clock_.advance(std::chrono::seconds(kTtl * 2 / 3));
  // The first event's callback throws: that event is lost (logged), the other still arrives.
  ASSERT_TRUE(wait_for([&] { return !events_.empty(); }));
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(events_.size(), 1u);
  }
  loop_->stop();
  loop_->stop();  // idempotent
}

}  // namespace
}  // namespace troupe
