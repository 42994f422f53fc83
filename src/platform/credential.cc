#include "troupe/platform/credential.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "printable.h"
#include "strict_json.h"
#include "troupe/platform/base64url.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
using platform::printable;
namespace {

using nlohmann::json;
using platform_detail::parse_strict_json_object;

constexpr std::string_view kAlg = "EdDSA";
constexpr std::string_view kTyp = "JWT";
constexpr int kMaxJsonDepth = 4;  // payload → cnf → jwk → members

Error malformed(const std::string& what) {
  return Error{PlatformErrc::kMalformed, "credential: " + what};
}

std::string key_text(const Ed25519PublicKey& key) {
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

Result<std::string> string_claim(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return malformed(std::string("no \"") + name + "\" claim");
  if (!it->is_string()) return malformed(std::string("\"") + name + "\" is not a string");
  std::string value = it->get<std::string>();
  if (value.empty()) return malformed(std::string("\"") + name + "\" is empty");
  return value;
}

// NumericDate (RFC 7519 §2), restricted to whole non-negative seconds.
Result<std::int64_t> time_claim(const json& value, const char* name) {
  // nlohmann reads a non-negative integer as unsigned, a negative one as signed.
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value.get<std::uint64_t>());
  }
  return malformed(std::string("\"") + name + "\" is not a whole number of seconds in range");
}

Result<std::int64_t> required_time(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return malformed(std::string("no \"") + name + "\" claim");
  return time_claim(*it, name);
}

Result<Ed25519PublicKey> ed25519_jwk_key(const json& jwk) {
  if (!jwk.is_object()) return malformed("\"cnf\".\"jwk\" is not an object");
  const auto member = [&](const char* name) -> const json* {
    auto it = jwk.find(name);
    return it == jwk.end() || !it->is_string() ? nullptr : &*it;
  };
  const json* kty = member("kty");
  const json* crv = member("crv");
  const json* x = member("x");
  if (kty == nullptr || *kty != "OKP" || crv == nullptr || *crv != "Ed25519") {
    return malformed("the \"cnf\" key is not an Ed25519 OKP key");
  }
  if (x == nullptr) return malformed("the \"cnf\" key has no \"x\"");
  auto bytes = base64url_decode(x->get<std::string>());
  Ed25519PublicKey key{};
  if (!bytes || bytes->size() != key.size()) {
    return malformed("the \"cnf\" key's \"x\" is not 32 base64url-encoded bytes");
  }
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string credential_signing_input(const CredentialClaims& claims, std::string_view key_id) {
  const json header = {{"alg", kAlg}, {"typ", kTyp}, {"kid", key_id}};
  json payload = {
      {"iss", claims.issuer},
      {"sub", claims.subject},
      {"actr_type", claims.actor_type},
      {"package_hash", claims.package_hash},
      {"iat", claims.issued_at},
      {"exp", claims.expires_at},
      {"jti", claims.token_id},
      {"cnf",
       {{"jwk", {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", key_text(claims.confirmation_key)}}}}},
  };
  if (claims.not_before) payload["nbf"] = *claims.not_before;
  return base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
}

Result<std::string> encode_credential(const CredentialClaims& claims, std::string_view key_id,
                                      const CredentialSigner& sign) {
  std::string input = credential_signing_input(claims, key_id);
  Result<Ed25519Signature> signature = sign(input);
  if (!signature.ok()) return signature.error();
  return input + "." +
         base64url_encode(
             std::string_view(reinterpret_cast<const char*>(signature->data()), signature->size()));
}

std::string jwk_set_json(std::span<const VerificationKey> keys) {
  json list = json::array();
  for (const VerificationKey& key : keys) {
    list.push_back({{"kty", "OKP"},
                    {"crv", "Ed25519"},
                    {"x", key_text(key.public_key)},
                    {"kid", key.key_id},
                    {"use", "sig"},
                    {"alg", kAlg}});
  }
  return json{{"keys", list}}.dump();
}

Result<CredentialClaims> verify_credential(std::string_view jws,
                                           std::span<const VerificationKey> keys,
                                           const CredentialCheck& check) {
  // 1. Size and layout: three base64url parts.
  if (jws.size() > kMaxCredentialBytes) {
    return Error{PlatformErrc::kTooLarge, "credential: " + std::to_string(jws.size()) +
                                              " bytes (at most " +
                                              std::to_string(kMaxCredentialBytes) + ")"};
  }
  const std::size_t dot1 = jws.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jws.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jws.find('.', dot2 + 1) != std::string_view::npos) {
    return malformed("not three dot-separated parts");
  }
  const std::string_view header_text = jws.substr(0, dot1);
  const std::string_view payload_text = jws.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_text = jws.substr(dot2 + 1);

  // 2. Header: exactly alg, typ, kid; alg EdDSA; kid of a trusted key.
  auto header_bytes = base64url_decode(header_text);
  if (!header_bytes) return malformed("the header is not base64url");
  auto header = parse_strict_json_object(*header_bytes, kMaxJsonDepth);
  if (!header) return malformed("the header is not one JSON object");
  for (const auto& [name, value] : header->items()) {
    if (name != "alg" && name != "typ" && name != "kid") {
      return malformed("the header has a " + printable(name) + " parameter (only alg, typ, kid)");
    }
  }
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || *alg != kAlg) {
    return malformed("the header's alg is not \"EdDSA\"");
  }
  auto typ = header->find("typ");
  if (typ != header->end() && (!typ->is_string() || *typ != kTyp)) {
    return malformed("the header's typ is not \"JWT\"");
  }
  auto kid = header->find("kid");
  if (kid == header->end() || !kid->is_string()) return malformed("the header has no kid");
  const VerificationKey* key = nullptr;
  for (const VerificationKey& candidate : keys) {
    if (candidate.key_id == kid->get<std::string>()) key = &candidate;
  }
  if (key == nullptr) {
    return Error{
        PlatformErrc::kUntrusted,
        "credential: signed by key " + printable(kid->get<std::string>()) + ", not a trusted key"};
  }

  // 3. Signature over "header.payload", as sent.
  auto signature = base64url_decode(signature_text);
  if (!signature || signature->size() != crypto_sign_BYTES) {
    return malformed("the signature is not 64 base64url-encoded bytes");
  }
  const std::string_view input = jws.substr(0, dot2);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature->data()),
                                  reinterpret_cast<const unsigned char*>(input.data()),
                                  input.size(), key->public_key.data()) != 0) {
    return Error{PlatformErrc::kBadSignature, "credential: the signature does not verify"};
  }

  // 4. Claims, each with its type.
  auto payload_bytes = base64url_decode(payload_text);
  if (!payload_bytes) return malformed("the payload is not base64url");
  auto payload = parse_strict_json_object(*payload_bytes, kMaxJsonDepth);
  if (!payload) return malformed("the payload is not one JSON object");
  CredentialClaims claims;
  auto iss = string_claim(*payload, "iss");
  if (!iss.ok()) return iss.error();
  claims.issuer = std::move(iss).value();
  if (check.expected_issuer.empty() || claims.issuer != check.expected_issuer) {
    return Error{PlatformErrc::kUntrusted,
                 "credential: issued by \"" + claims.issuer + "\", not the expected issuer"};
  }
  for (auto [field, name] :
       {std::pair{&claims.subject, "sub"}, std::pair{&claims.actor_type, "actr_type"},
        std::pair{&claims.package_hash, "package_hash"}, std::pair{&claims.token_id, "jti"}}) {
    auto value = string_claim(*payload, name);
    if (!value.ok()) return value.error();
    *field = std::move(value).value();
  }
  if (!is_sha256_hex(claims.package_hash)) {
    return malformed("\"package_hash\" is not 64 lowercase hex digits");
  }
  auto iat = required_time(*payload, "iat");
  if (!iat.ok()) return iat.error();
  claims.issued_at = *iat;
  auto exp = required_time(*payload, "exp");
  if (!exp.ok()) return exp.error();
  claims.expires_at = *exp;
  if (auto nbf = payload->find("nbf"); nbf != payload->end()) {
    auto value = time_claim(*nbf, "nbf");
    if (!value.ok()) return value.error();
    claims.not_before = *value;
  }
  auto cnf = payload->find("cnf");
  if (cnf == payload->end() || !cnf->is_object() || !cnf->contains("jwk")) {
    return malformed("no \"cnf\" claim with a \"jwk\"");
  }
  auto confirmation = ed25519_jwk_key(cnf->at("jwk"));
  if (!confirmation.ok()) return confirmation.error();
  claims.confirmation_key = *confirmation;

  // 5. The validity window on the caller's clock (exp: "on or after" is expired, RFC 7519).
  // Clamped, so now ± leeway cannot overflow (a day is more than any clock skew).
  constexpr std::int64_t kMostLeeway = 86400;
  const std::int64_t leeway = std::clamp<std::int64_t>(check.leeway_seconds, 0, kMostLeeway);
  if (check.now - leeway >= claims.expires_at) {
    return Error{PlatformErrc::kExpired, "credential: expired at " +
                                             std::to_string(claims.expires_at) + " (now " +
                                             std::to_string(check.now) + ")"};
  }
  if (claims.not_before && check.now + leeway < *claims.not_before) {
    return Error{PlatformErrc::kExpired, "credential: not valid before " +
                                             std::to_string(*claims.not_before) + " (now " +
                                             std::to_string(check.now) + ")"};
  }
  if (check.now + leeway < claims.issued_at) {
    return Error{PlatformErrc::kExpired, "credential: issued in the future (" +
                                             std::to_string(claims.issued_at) + ", now " +
                                             std::to_string(check.now) + ")"};
  }
  return claims;
}

}  // namespace troupe
