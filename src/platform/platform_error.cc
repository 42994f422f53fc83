#include "troupe/platform/platform_error.h"

namespace troupe {

std::string_view errc_name(PlatformErrc code) {
  switch (code) {
    case PlatformErrc::kMalformed:
      return "malformed";
    case PlatformErrc::kTooLarge:
      return "too-large";
    case PlatformErrc::kUntrusted:
      return "untrusted";
    case PlatformErrc::kRevoked:
      return "revoked";
    case PlatformErrc::kBadSignature:
      return "bad-signature";
    case PlatformErrc::kHashMismatch:
      return "hash-mismatch";
    case PlatformErrc::kRefused:
      return "refused";
    case PlatformErrc::kQuotaExceeded:
      return "quota-exceeded";
    case PlatformErrc::kPermissionDenied:
      return "permission-denied";
    case PlatformErrc::kDamaged:
      return "damaged";
    case PlatformErrc::kMasterKeyMismatch:
      return "master-key-mismatch";
    case PlatformErrc::kExpired:
      return "expired";
  }
  return "unknown";
}

}  // namespace troupe
