// Credentials: what the identity service says about an actor, as a compact JWS (RFC 7515)
// signed with EdDSA (Ed25519, RFC 8037) so any JOSE library verifies it, and bound to the
// actor's custodial key by a `cnf` claim (RFC 7800) — unlike a bearer token, it is worth
// something only to whoever can sign with that key, and the node never lets the key out.
//
//   header  {"alg":"EdDSA","kid":KEY_ID,"typ":"JWT"}
//   payload {"iss":ISSUER, "sub":ACTOR_ID, "actr_type":"manufacturer:name:version",
//            "package_hash":SHA256_HEX, "iat":SECONDS, "exp":SECONDS, "jti":RANDOM,
//            "cnf":{"jwk":{"kty":"OKP","crv":"Ed25519","x":BASE64URL(public key)}}}
//
// verify_credential is strict: one size cap, three base64url parts, a header of exactly
// alg/typ/kid with alg "EdDSA" (anything else — "none", "HS256", an embedded "jwk", "crit" —
// is refused), a kid of a key the caller trusts, the signature, then every claim with its type,
// then the validity window on the caller's clock. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/ed25519_key.h"

namespace troupe {

inline constexpr std::size_t kMaxCredentialBytes = 8192;

struct CredentialClaims {
  std::string issuer;           // iss: the realm / node that issued it
  std::string subject;          // sub: the actor id ("NODE.SERIAL")
  std::string actor_type;       // actr_type: "manufacturer:name:version", from the signed manifest
  std::string package_hash;     // package_hash: SHA-256 of the package, 64 lowercase hex digits
  std::int64_t issued_at = 0;   // iat, Unix seconds
  std::int64_t expires_at = 0;  // exp, Unix seconds
  std::optional<std::int64_t> not_before;  // nbf: never issued by troupe, checked if present
  std::string token_id;                    // jti
  Ed25519PublicKey confirmation_key{};     // cnf.jwk.x: the actor's custodial public key
};

struct Credential {
  std::string jws;
  CredentialClaims claims;
};

// A key the verifier trusts, by its JWS key id.
struct VerificationKey {
  std::string key_id;
  Ed25519PublicKey public_key{};
};

struct CredentialCheck {
  std::string expected_issuer;      // required: a credential of another issuer is untrusted
  std::int64_t now = 0;             // Unix seconds, from the caller's (injectable) clock
  std::int64_t leeway_seconds = 0;  // allowed clock skew on exp/nbf/iat
};

// The claims of a valid credential. Errors: too-large, malformed (layout, encoding, JSON,
// header or claim), untrusted (unknown kid or another issuer), bad-signature, expired (at or
// past exp, before nbf, or issued in the future).
Result<CredentialClaims> verify_credential(std::string_view jws,
                                           std::span<const VerificationKey> keys,
                                           const CredentialCheck& check);

// The JWS for `claims`, signed by `sign` (a detached Ed25519 signature of the signing input,
// made by whoever holds key `key_id`). Errors: those of `sign`.
using CredentialSigner = std::function<Result<Ed25519Signature>(std::string_view signing_input)>;
Result<std::string> encode_credential(const CredentialClaims& claims, std::string_view key_id,
                                      const CredentialSigner& sign);

// The signing input ("header.payload") for claims and key id.
std::string credential_signing_input(const CredentialClaims& claims, std::string_view key_id);

// {"keys":[{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"use":"sig","alg":"EdDSA"},…]}
std::string jwk_set_json(std::span<const VerificationKey> keys);

}  // namespace troupe
