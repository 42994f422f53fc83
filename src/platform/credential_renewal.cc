#include "troupe/platform/credential_renewal.h"

#include <algorithm>

namespace troupe {

RenewalPlan when_to_renew(const CredentialClaims& credential, std::int64_t now) {
  RenewalPlan plan;
  const std::int64_t iat = credential.issued_at;
  const std::int64_t exp = credential.expires_at;
  plan.expires_at = exp;
  if (exp <= iat) {
    plan.renew_at = plan.expiring_at = exp;
    plan.action = RenewalAction::kExpired;
    plan.next_check = now;
    return plan;
  }
  const std::int64_t lifetime = exp - iat;
  plan.renew_at = iat + lifetime / 3 * 2 + (lifetime % 3) * 2 / 3;
  plan.expiring_at = std::max(plan.renew_at, exp - std::max<std::int64_t>(lifetime / 10, 1));
  if (now >= exp) {
    plan.action = RenewalAction::kExpired;
    plan.next_check = now;
  } else if (now >= plan.expiring_at) {
    plan.action = RenewalAction::kExpiring;
    plan.next_check = exp;
  } else if (now >= plan.renew_at) {
    plan.action = RenewalAction::kRenew;
    plan.next_check = plan.expiring_at;
  } else {
    plan.action = RenewalAction::kWait;
    plan.next_check = plan.renew_at;
  }
  return plan;
}

}  // namespace troupe
