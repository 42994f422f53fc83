// when_to_renew: the renewal policy for credentials, as a pure function of the credential's
// times and the current time — no timers here; whoever holds the credential arms one timer
// for `next_check` and asks again then.
//
// For a credential valid from iat to exp (lifetime L = exp - iat):
//   before iat + 2L/3                 wait
//   from iat + 2L/3                   renew (a third of the lifetime left for retries)
//   from exp - max(L/10, 1 s)         renew, and tell the actor its credential is expiring if
//                                     renewal keeps failing (on-credential-expiring)
//   from exp                          expired: the credential is no longer valid
// A credential whose exp is not after its iat is expired from the start.
// Pure function; thread-safe.
#pragma once

#include <cstdint>

#include "troupe/platform/credential.h"

namespace troupe {

enum class RenewalAction {
  kWait,      // valid, not yet time to renew
  kRenew,     // renew now
  kExpiring,  // renew now; expiry is near
  kExpired,   // past exp
};

struct RenewalPlan {
  RenewalAction action = RenewalAction::kExpired;
  std::int64_t renew_at = 0;     // Unix seconds
  std::int64_t expiring_at = 0;  // Unix seconds
  std::int64_t expires_at = 0;   // Unix seconds (exp)
  // When the action next changes (renew_at, expiring_at or exp); equal to `now` once expired.
  std::int64_t next_check = 0;
};

RenewalPlan when_to_renew(const CredentialClaims& credential, std::int64_t now);

}  // namespace troupe
