// when_to_renew: the renewal policy on a credential issued on the fake clock, moved through
// each phase by advancing the clock.
#include "troupe/platform/credential_renewal.h"

#include <gtest/gtest.h>

#include "scratch_dir.h"
#include "troupe/platform/identity_service.h"

namespace troupe {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000;

TEST(CredentialRenewal, AnHourLongCredentialRenewsAtTwoThirdsAndWarnsInTheLastTenth) {
  ScratchDir scratch;
  ManualClock clock;
  const UnixClock unix_clock(clock, kT0);
  auto master = MasterKey::load_or_create(scratch / "master");
  ASSERT_TRUE(master.ok());
  auto custody = KeyCustody::open(
      scratch / "keys", std::make_shared<const MasterKey>(std::move(master).value()), unix_clock);
  ASSERT_TRUE(custody.ok());
  ASSERT_TRUE((*custody)->get_or_create("actor").ok());
  auto service = IdentityService::open(**custody, unix_clock, IdentityServiceOptions{"realm"});
  ASSERT_TRUE(service.ok());
  auto credential = service->issue(
      CredentialRequest{ActorId{1, 1}, "acme:echo:1.0.0", std::string(64, 'a'), "actor"});
  ASSERT_TRUE(credential.ok()) << credential.error().to_string();

  const auto plan = [&] { return when_to_renew(credential->claims, unix_clock.now()); };
  RenewalPlan p = plan();
  EXPECT_EQ(p.action, RenewalAction::kWait);
  EXPECT_EQ(p.renew_at, kT0 + 2400);
  EXPECT_EQ(p.expiring_at, kT0 + 3240);
  EXPECT_EQ(p.expires_at, kT0 + 3600);
  EXPECT_EQ(p.next_check, kT0 + 2400);

  clock.advance(std::chrono::seconds(2399));
  EXPECT_EQ(plan().action, RenewalAction::kWait);
  clock.advance(std::chrono::seconds(1));
  p = plan();
  EXPECT_EQ(p.action, RenewalAction::kRenew);
  EXPECT_EQ(p.next_check, kT0 + 3240);
  clock.advance(std::chrono::seconds(840));
  p = plan();
  EXPECT_EQ(p.action, RenewalAction::kExpiring);
  EXPECT_EQ(p.next_check, kT0 + 3600);
  clock.advance(std::chrono::seconds(359));
  EXPECT_EQ(plan().action, RenewalAction::kExpiring);
  EXPECT_TRUE(service->verify(credential->jws).ok());
  clock.advance(std::chrono::seconds(1));
  p = plan();
  EXPECT_EQ(p.action, RenewalAction::kExpired);
  EXPECT_EQ(p.next_check, unix_clock.now());
  EXPECT_FALSE(service->verify(credential->jws).ok()) << "policy and verify agree on expiry";

  // Renewed: a fresh credential starts the cycle again from now.
  auto renewed = service->issue(
      CredentialRequest{ActorId{1, 1}, "acme:echo:1.0.0", std::string(64, 'a'), "actor"});
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(when_to_renew(renewed->claims, unix_clock.now()).action, RenewalAction::kWait);
}

TEST(CredentialRenewal, ShortAndDegenerateLifetimes) {
  CredentialClaims claims;
  claims.issued_at = 100;
  claims.expires_at = 103;  // 3 s: renew at 2 s, warn in the last second
  EXPECT_EQ(when_to_renew(claims, 101).action, RenewalAction::kWait);
  EXPECT_EQ(when_to_renew(claims, 102).action, RenewalAction::kExpiring);
  EXPECT_EQ(when_to_renew(claims, 102).renew_at, 102);
  EXPECT_EQ(when_to_renew(claims, 103).action, RenewalAction::kExpired);
  claims.expires_at = 100;
  EXPECT_EQ(when_to_renew(claims, 50).action, RenewalAction::kExpired);
  claims.expires_at = 90;
  EXPECT_EQ(when_to_renew(claims, 95).action, RenewalAction::kExpired);
}

}  // namespace
}  // namespace troupe
