// PlatformErrc: the codes the platform layer (packages, trust store, identity, key custody,
// per-actor storage, capabilities) produces. They travel as ErrorCode (base/error_code.h) beside
// the shared BaseErrc codes (invalid-argument, io, not-found, ...), which the platform also uses.
// The names are what the CLI prints as `error: KIND: detail` (docs/PLATFORM.md): never rename one.
// Plain values, thread-safe.
#pragma once

#include <string_view>

#include "troupe/base/error_code.h"

namespace troupe {

enum class PlatformErrc {
  kMalformed,         // a package or manifest that does not parse or breaks the format's rules
  kTooLarge,          // a file, entry, manifest or count over its cap
  kUntrusted,         // signed by a key the trust store does not hold
  kRevoked,           // signed by a revoked key, or a revoked package hash
  kBadSignature,      // the signature does not verify
  kHashMismatch,      // an entry's bytes do not match the hash or size the manifest declares
  kRefused,           // the package's binary itself is refused (not a loadable module)
  kQuotaExceeded,     // a storage write past the actor's byte quota
  kPermissionDenied,  // a capability the actor was not granted
  // A sealed key record that fails authentication: damaged, or moved from another key's file.
  kDamaged,
  // A key record or passphrase salt made under another master key (or a wrong passphrase).
  kMasterKeyMismatch,
  // A credential outside its validity window (at or past exp, before nbf or iat).
  kExpired,
};

std::string_view errc_name(PlatformErrc code);
inline constexpr ErrorDomain kPlatformErrorDomain = make_error_domain<PlatformErrc>("platform");
constexpr const ErrorDomain& error_domain(PlatformErrc) { return kPlatformErrorDomain; }

}  // namespace troupe
