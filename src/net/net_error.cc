#include "troupe/net/net_error.h"

namespace troupe {

std::string_view errc_name(NetErrc code) {
  switch (code) {
    case NetErrc::kMalformed:
      return "malformed";
    case NetErrc::kVersionMismatch:
      return "version-mismatch";
    case NetErrc::kSchemaMismatch:
      return "schema-mismatch";
    case NetErrc::kFeatureMismatch:
      return "feature-mismatch";
    case NetErrc::kHandshakeFailed:
      return "handshake-failed";
    case NetErrc::kDecryptFailed:
      return "decrypt-failed";
    case NetErrc::kIdentityMismatch:
      return "identity-mismatch";
    case NetErrc::kNotAllowed:
      return "not-allowed";
    case NetErrc::kFrameTooLarge:
      return "frame-too-large";
    case NetErrc::kClosed:
      return "closed";
    case NetErrc::kUnreachable:
      return "unreachable";
    case NetErrc::kOverloaded:
      return "overloaded";
  }
  return "unknown";
}

}  // namespace troupe
