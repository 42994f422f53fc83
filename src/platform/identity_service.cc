#include "troupe/platform/identity_service.h"

#include <sodium.h>

#include "printable.h"
#include "troupe/base/encoding.h"
#include "troupe/platform/base64url.h"
#include "troupe/platform/key_name.h"

namespace troupe {
using platform::printable;
namespace {

constexpr std::size_t kMaxActorTypeBytes = 255;
constexpr std::size_t kMaxIssuerBytes = 255;
constexpr std::size_t kTokenIdBytes = 16;
// A rotation between reading the key id and signing makes issue read it again; more than a
// few in a row means something rotates in a loop.
constexpr int kSignAttempts = 3;

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool printable_text(std::string_view text) {
  if (!is_valid_utf8(text)) return false;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

Result<void> check_actor_type(std::string_view type) {
  const auto bad = [&](const std::string& why) {
    return Error{BaseErrc::kInvalidArgument, "actor type " + printable(type) + ": " + why};
  };
  if (type.size() > kMaxActorTypeBytes) return bad("over 255 bytes");
  if (!printable_text(type)) return bad("holds whitespace, control characters or bad UTF-8");
  const std::size_t first = type.find(':');
  const std::size_t second = first == std::string_view::npos ? first : type.find(':', first + 1);
  if (second == std::string_view::npos || type.find(':', second + 1) != std::string_view::npos ||
      first == 0 || second == first + 1 || second + 1 == type.size()) {
    return bad("not manufacturer:name:version");
  }
  return {};
}

Result<IdentityService> IdentityService::open(KeyCustody& custody, UnixClock clock,
                                              IdentityServiceOptions options) {
  if (options.issuer.empty() || options.issuer.size() > kMaxIssuerBytes ||
      !printable_text(options.issuer)) {
    return Error{BaseErrc::kInvalidArgument,
                 "the identity service's issuer must be 1..255 printable bytes without spaces"};
  }
  if (options.ttl_seconds < 1 || options.ttl_seconds > IdentityServiceOptions::kMaxTtlSeconds) {
    return Error{BaseErrc::kInvalidArgument,
                 "credential TTL " + std::to_string(options.ttl_seconds) + " s is outside 1.." +
                     std::to_string(IdentityServiceOptions::kMaxTtlSeconds)};
  }
  auto key = custody.get_or_create(options.key_name);
  if (!key.ok()) return key.error();
  return IdentityService(custody, clock, std::move(options));
}

Result<Credential> IdentityService::issue(const CredentialRequest& request) const {
  if (!request.actor.valid()) {
    return Error{BaseErrc::kInvalidArgument, "a credential needs a valid actor id"};
  }
  if (auto ok = check_actor_type(request.actor_type); !ok.ok()) return ok.error();
  if (!is_sha256_hex(request.package_hash)) {
    return Error{BaseErrc::kInvalidArgument, "a package hash is 64 lowercase hex digits (SHA-256)"};
  }
  if (request.key_name == options_.key_name) {
    return Error{BaseErrc::kInvalidArgument, "an actor cannot hold the identity service's key"};
  }
  auto actor_key = custody_->public_key(request.key_name);
  if (!actor_key.ok()) return actor_key.error();

  Credential credential;
  CredentialClaims& claims = credential.claims;
  claims.issuer = options_.issuer;
  claims.subject = request.actor.to_string();
  claims.actor_type = request.actor_type;
  claims.package_hash = request.package_hash;
  claims.issued_at = clock_.now();
  claims.expires_at = claims.issued_at + options_.ttl_seconds;
  unsigned char token[kTokenIdBytes];
  randombytes_buf(token, sizeof token);
  claims.token_id =
      base64url_encode(std::string_view(reinterpret_cast<char*>(token), sizeof token));
  claims.confirmation_key = *actor_key;

  for (int attempt = 0;; ++attempt) {
    auto service_key = custody_->info(options_.key_name);
    if (!service_key.ok()) return service_key.error();
    const std::string key_id = service_key->key_id;
    auto jws = encode_credential(claims, key_id, [&](std::string_view input) {
      return custody_->sign_with_key(options_.key_name, key_id, input);
    });
    if (jws.ok()) {
      credential.jws = std::move(jws).value();
      return credential;
    }
    if (jws.error().code != BaseErrc::kRefused || attempt + 1 == kSignAttempts) {
      return jws.error();
    }
  }
}

Result<std::vector<VerificationKey>> IdentityService::verification_keys() const {
  auto key = custody_->info(options_.key_name);
  if (!key.ok()) return key.error();
  std::vector<VerificationKey> keys{{key->key_id, key->public_key}};
  const std::int64_t now = clock_.now();
  // Newest first: a verifier trying keys in order meets the likely one sooner.
  for (auto it = key->retired.rbegin(); it != key->retired.rend(); ++it) {
    if (it->retired + options_.ttl_seconds > now) {
      keys.push_back({ed25519_key_id(it->public_key), it->public_key});
    }
  }
  return keys;
}

Result<std::string> IdentityService::jwks() const {
  auto keys = verification_keys();
  if (!keys.ok()) return keys.error();
  return jwk_set_json(*keys);
}

Result<CredentialClaims> IdentityService::verify(std::string_view jws) const {
  auto keys = verification_keys();
  if (!keys.ok()) return keys.error();
  return verify_credential(jws, *keys, CredentialCheck{options_.issuer, clock_.now(), 0});
}

}  // namespace troupe
