// IdentityService: the node's issuer of actor credentials (credential.h). It signs with its
// own Ed25519 key, held like every other key in KeyCustody (under `key_name`), so its secret
// never leaves the custody either. It binds each credential to the actor's custodial key
// (taken from the custody, never from the caller), publishes its public keys as a JWK Set, and
// verifies credentials for the node's own use on the injectable clock.
//
// Rotating the service's key (KeyCustody::rotate on `key_name`) takes effect at the next
// issue; the retired key stays in the JWK Set and in verify for one TTL after its retirement,
// as long as credentials it signed can still be valid.
//
// Immutable after open; every call is thread-safe (the custody serialises what it must).
// Lifetime: the KeyCustody and the UnixClock's Clock must outlive the service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/platform/credential.h"
#include "troupe/platform/key_custody.h"
#include "troupe/platform/unix_clock.h"

namespace troupe {

struct IdentityServiceOptions {
  static constexpr std::int64_t kDefaultTtlSeconds = 3600;
  static constexpr std::int64_t kMaxTtlSeconds = std::int64_t{7} * 24 * 3600;

  std::string issuer;  // iss: the realm / node, e.g. "troupe:node:1a2b3c4d"; required
  std::string key_name = "node/identity-service";
  std::int64_t ttl_seconds = kDefaultTtlSeconds;  // 1 .. kMaxTtlSeconds
};

struct CredentialRequest {
  ActorId actor;
  std::string actor_type;    // "manufacturer:name:version" from the signed manifest
  std::string package_hash;  // SHA-256 of the package, 64 lowercase hex digits
  std::string key_name;      // the actor's custodial key in the same KeyCustody
};

class IdentityService {
 public:
  // Makes (or loads) the service's key. Errors: invalid-argument (no issuer, a TTL out of
  // range, a bad key name), and those of KeyCustody::get_or_create.
  static Result<IdentityService> open(KeyCustody& custody, UnixClock clock,
                                      IdentityServiceOptions options);

  // A credential for the actor, valid from now for the TTL. Errors: invalid-argument (an
  // invalid actor id, type or package hash), not-found (no such actor key), and the custody's.
  Result<Credential> issue(const CredentialRequest& request) const;

  // The keys a credential of this service may carry: the current one and those retired less
  // than one TTL ago. Errors: the custody's.
  Result<std::vector<VerificationKey>> verification_keys() const;
  // verification_keys() as a JWK Set (RFC 7517 §5).
  Result<std::string> jwks() const;

  // verify_credential against this service's keys and issuer, at the clock's now.
  Result<CredentialClaims> verify(std::string_view jws) const;

  const std::string& issuer() const { return options_.issuer; }
  std::int64_t ttl_seconds() const { return options_.ttl_seconds; }

 private:
  IdentityService(KeyCustody& custody, UnixClock clock, IdentityServiceOptions options)
      : custody_(&custody), clock_(clock), options_(std::move(options)) {}

  KeyCustody* custody_;
  UnixClock clock_;
  IdentityServiceOptions options_;
};

// Whether `type` is "manufacturer:name:version": three non-empty parts, each printable without
// control characters or whitespace, at most 255 bytes in all. Errors: invalid-argument.
Result<void> check_actor_type(std::string_view type);

}  // namespace troupe
