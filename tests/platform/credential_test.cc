// Credentials: issued by the identity service, checked here by an independent path (split,
// base64 decode, libsodium verify with the JWK Set's key), and refused by verify when altered,
// expired, or signed some other way.
#include "troupe/platform/credential.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "scratch_dir.h"
#include "troupe/base/encoding.h"
#include "troupe/platform/base64url.h"
#include "troupe/platform/identity_service.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

using nlohmann::json;

constexpr std::int64_t kT0 = 1'800'000'000;
constexpr const char* kIssuer = "troupe:node:1a2b3c4d";
constexpr const char* kHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr const char* kActorKey = "acme:echo:1.0.0/alice";

// base64url decoding written apart from the code under test: base/encoding.h's padded base64
// after mapping the URL-safe alphabet back.
std::string independent_b64url_decode(std::string text) {
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  while (text.size() % 4 != 0) text += '=';
  auto bytes = base64_decode(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or("");
}
std::string independent_b64url_encode(std::string_view bytes) {
  std::string text = base64_encode(bytes);
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

std::vector<std::string> split_dots(const std::string& jws) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = jws.find('.', start);
    parts.push_back(jws.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

class CredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto master = MasterKey::load_or_create(scratch_ / "master");
    ASSERT_TRUE(master.ok());
    auto custody = KeyCustody::open(scratch_ / "keys",
                                    std::make_shared<const MasterKey>(std::move(master).value()),
                                    UnixClock(clock_, kT0));
    ASSERT_TRUE(custody.ok());
    custody_ = std::move(custody).value();
    auto service =
        IdentityService::open(*custody_, UnixClock(clock_, kT0), IdentityServiceOptions{kIssuer});
    ASSERT_TRUE(service.ok()) << service.error().to_string();
    service_.emplace(std::move(service).value());
    ASSERT_TRUE(custody_->get_or_create(kActorKey).ok());
  }
  CredentialRequest request() const {
    return CredentialRequest{ActorId{0x1a2b3c4d, 42}, "acme:echo:1.0.0", kHash, kActorKey};
  }
  Credential issue() {
    auto credential = service_->issue(request());
    EXPECT_TRUE(credential.ok()) << credential.error().to_string();
    return credential.ok() ? *credential : Credential{};
  }
  CredentialCheck check_at(std::int64_t now) const { return CredentialCheck{kIssuer, now, 0}; }
  std::vector<VerificationKey> keys() const { return *service_->verification_keys(); }

  ScratchDir scratch_;
  ManualClock clock_;
  std::unique_ptr<KeyCustody> custody_;
  std::optional<IdentityService> service_;
};

TEST_F(CredentialTest, AnIndependentVerifierAcceptsTheJwsWithTheJwkSetKey) {
  const Credential credential = issue();
  const std::vector<std::string> parts = split_dots(credential.jws);
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& part : parts) EXPECT_EQ(part.find('='), std::string::npos) << "no padding";

  const json header = json::parse(independent_b64url_decode(parts[0]));
  EXPECT_EQ(header.at("alg"), "EdDSA");
  EXPECT_EQ(header.at("typ"), "JWT");
  EXPECT_EQ(header.size(), 3u);

  auto jwks_text = service_->jwks();
  ASSERT_TRUE(jwks_text.ok());
  const json jwks = json::parse(*jwks_text);
  ASSERT_EQ(jwks.at("keys").size(), 1u);
  const json& jwk = jwks.at("keys")[0];
  EXPECT_EQ(jwk.at("kty"), "OKP");
  EXPECT_EQ(jwk.at("crv"), "Ed25519");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("alg"), "EdDSA");
  EXPECT_EQ(jwk.at("kid"), header.at("kid"));
  const std::string public_key = independent_b64url_decode(jwk.at("x").get<std::string>());
  ASSERT_EQ(public_key.size(), 32u);

  const std::string input = parts[0] + "." + parts[1];
  const std::string signature = independent_b64url_decode(parts[2]);
  ASSERT_EQ(signature.size(), 64u);
  EXPECT_EQ(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                        reinterpret_cast<const unsigned char*>(input.data()),
                                        input.size(),
                                        reinterpret_cast<const unsigned char*>(public_key.data())),
            0);

  const json claims = json::parse(independent_b64url_decode(parts[1]));
  EXPECT_EQ(claims.at("iss"), kIssuer);
  EXPECT_EQ(claims.at("sub"), "1a2b3c4d.42");
  EXPECT_EQ(claims.at("actr_type"), "acme:echo:1.0.0");
  EXPECT_EQ(claims.at("package_hash"), kHash);
  EXPECT_EQ(claims.at("iat"), kT0);
  EXPECT_EQ(claims.at("exp"), kT0 + 3600);
  EXPECT_FALSE(claims.at("jti").get<std::string>().empty());
  const json& cnf = claims.at("cnf").at("jwk");
  EXPECT_EQ(cnf.at("kty"), "OKP");
  EXPECT_EQ(cnf.at("crv"), "Ed25519");
  const auto actor_key = custody_->public_key(kActorKey);
  ASSERT_TRUE(actor_key.ok());
  EXPECT_EQ(cnf.at("x"), independent_b64url_encode(std::string_view(
                             reinterpret_cast<const char*>(actor_key->data()), 32)));
  // The actor's key proves possession: what the custody signs for it verifies with cnf's key.
  auto proof = custody_->sign(kActorKey, "challenge");
  const std::string cnf_key = independent_b64url_decode(cnf.at("x").get<std::string>());
  EXPECT_EQ(crypto_sign_verify_detached(proof->data(),
                                        reinterpret_cast<const unsigned char*>("challenge"), 9,
                                        reinterpret_cast<const unsigned char*>(cnf_key.data())),
            0);
}

TEST_F(CredentialTest, VerifyReturnsTheClaimsItSigned) {
  const Credential credential = issue();
  auto claims = service_->verify(credential.jws);
  ASSERT_TRUE(claims.ok()) << claims.error().to_string();
  EXPECT_EQ(claims->subject, "1a2b3c4d.42");
  EXPECT_EQ(claims->actor_type, "acme:echo:1.0.0");
  EXPECT_EQ(claims->package_hash, kHash);
  EXPECT_EQ(claims->issued_at, kT0);
  EXPECT_EQ(claims->expires_at, kT0 + 3600);
  EXPECT_EQ(claims->token_id, credential.claims.token_id);
  EXPECT_EQ(claims->confirmation_key, *custody_->public_key(kActorKey));
  EXPECT_NE(issue().claims.token_id, credential.claims.token_id) << "jti is unique";
}

TEST_F(CredentialTest, TheTtlIsAParameter) {
  auto service = IdentityService::open(*custody_, UnixClock(clock_, kT0),
                                       IdentityServiceOptions{kIssuer, "svc2", 120});
  ASSERT_TRUE(service.ok());
  auto credential = service->issue(request());
  ASSERT_TRUE(credential.ok());
  EXPECT_EQ(credential->claims.expires_at, kT0 + 120);
  for (std::int64_t ttl : {std::int64_t{0}, std::int64_t{-5}, std::int64_t{8} * 24 * 3600}) {
    EXPECT_EQ(IdentityService::open(*custody_, UnixClock(clock_, kT0),
                                    IdentityServiceOptions{kIssuer, "svc3", ttl})
                  .error()
                  .code,
              BaseErrc::kInvalidArgument)
        << ttl;
  }
  EXPECT_EQ(IdentityService::open(*custody_, UnixClock(clock_, kT0), IdentityServiceOptions{})
                .error()
                .code,
            BaseErrc::kInvalidArgument);
}

TEST_F(CredentialTest, AnExpiredCredentialIsRefusedOnTheFakeClock) {
  const Credential credential = issue();
  clock_.advance(std::chrono::seconds(3599));
  EXPECT_TRUE(service_->verify(credential.jws).ok());
  clock_.advance(std::chrono::seconds(1));
  auto late = service_->verify(credential.jws);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, PlatformErrc::kExpired) << late.error().to_string();
  // Leeway is the caller's to give; the window's other end: issued in the future.
  EXPECT_TRUE(
      verify_credential(credential.jws, keys(), CredentialCheck{kIssuer, kT0 + 3600, 5}).ok());
  EXPECT_EQ(verify_credential(credential.jws, keys(), check_at(kT0 - 1)).error().code,
            PlatformErrc::kExpired);
  // A leeway past a day is a day (now ± leeway must not overflow): a year later, expired.
  const auto huge = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(
      verify_credential(credential.jws, keys(), CredentialCheck{kIssuer, kT0 + 86400 * 365, huge})
          .error()
          .code,
      PlatformErrc::kExpired);
  EXPECT_TRUE(
      verify_credential(credential.jws, keys(), CredentialCheck{kIssuer, kT0 + 3600 + 86399, huge})
          .ok());
}

TEST_F(CredentialTest, AChangedPayloadHeaderOrSignatureIsRefused) {
  const Credential credential = issue();
  const std::vector<std::string> parts = split_dots(credential.jws);
  const auto verify = [&](const std::string& jws) {
    return verify_credential(jws, keys(), check_at(kT0));
  };
  ASSERT_TRUE(verify(credential.jws).ok());

  // Payload: another subject, well-formed and re-encoded.
  json payload = json::parse(independent_b64url_decode(parts[1]));
  payload["sub"] = "1a2b3c4d.43";
  const std::string other_payload = independent_b64url_encode(payload.dump());
  EXPECT_EQ(verify(parts[0] + "." + other_payload + "." + parts[2]).error().code,
            PlatformErrc::kBadSignature);
  // Header: the same members spelled differently still changes the signed bytes.
  json header = json::parse(independent_b64url_decode(parts[0]));
  const std::string spaced = independent_b64url_encode(header.dump(1));
  EXPECT_EQ(verify(spaced + "." + parts[1] + "." + parts[2]).error().code,
            PlatformErrc::kBadSignature);
  // Signature: one bit.
  std::string signature = independent_b64url_decode(parts[2]);
  signature[10] ^= 0x04;
  EXPECT_EQ(
      verify(parts[0] + "." + parts[1] + "." + independent_b64url_encode(signature)).error().code,
      PlatformErrc::kBadSignature);
  // Any one character of the text changed: never accepted.
  for (std::size_t i = 0; i < credential.jws.size(); ++i) {
    std::string changed = credential.jws;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify(changed).ok()) << "character " << i;
  }
  EXPECT_EQ(verify(credential.jws + ".x").error().code, PlatformErrc::kMalformed);
  EXPECT_EQ(verify(parts[0] + "." + parts[1]).error().code, PlatformErrc::kMalformed);
  EXPECT_EQ(verify(credential.jws + "=").error().code, PlatformErrc::kMalformed);
  EXPECT_EQ(verify(std::string(kMaxCredentialBytes + 1, 'a')).error().code,
            PlatformErrc::kTooLarge);
}

// Header forms other than alg/typ/kid with EdDSA are refused before any signature is trusted.
TEST_F(CredentialTest, OnlyAnEdDsaHeaderOfAKnownKeyIsAccepted) {
  const Credential credential = issue();
  const std::vector<std::string> parts = split_dots(credential.jws);
  const std::string kid = json::parse(independent_b64url_decode(parts[0])).at("kid");
  const auto with_header = [&](const std::string& header_json) {
    // Signed properly by the service's key, so only the header decides.
    const std::string input = independent_b64url_encode(header_json) + "." + parts[1];
    auto signature = custody_->sign("node/identity-service", input);
    return input + "." +
           independent_b64url_encode(
               std::string_view(reinterpret_cast<const char*>(signature->data()), 64));
  };
  const auto code_of = [&](const std::string& header_json) {
    auto result = verify_credential(with_header(header_json), keys(), check_at(kT0));
    return result.ok() ? ErrorCode(BaseErrc::kInternal) : result.error().code;
  };
  EXPECT_TRUE(verify_credential(with_header(R"({"alg":"EdDSA","kid":")" + kid + R"("})"), keys(),
                                check_at(kT0))
                  .ok());
  EXPECT_EQ(code_of(R"({"alg":"none","kid":")" + kid + R"("})"), PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"alg":"HS256","kid":")" + kid + R"("})"), PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"kid":")" + kid + R"("})"), PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"alg":"EdDSA"})"), PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"alg":"EdDSA","kid":"0000000000000000"})"), PlatformErrc::kUntrusted);
  EXPECT_EQ(code_of(R"({"alg":"EdDSA","typ":"JOSE","kid":")" + kid + R"("})"),
            PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"alg":"EdDSA","crit":["exp"],"kid":")" + kid + R"("})"),
            PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"alg":"EdDSA","jwk":{},"kid":")" + kid + R"("})"),
            PlatformErrc::kMalformed);
  EXPECT_EQ(code_of(R"({"alg":"EdDSA","alg":"EdDSA","kid":")" + kid + R"("})"),
            PlatformErrc::kMalformed)
      << "a member twice";
  EXPECT_EQ(code_of("[1]"), PlatformErrc::kMalformed);
  EXPECT_EQ(code_of("{"), PlatformErrc::kMalformed);
}

TEST_F(CredentialTest, AnotherIssuerOrAnotherKeyIsUntrusted) {
  const Credential credential = issue();
  EXPECT_EQ(verify_credential(credential.jws, keys(), CredentialCheck{"someone-else", kT0, 0})
                .error()
                .code,
            PlatformErrc::kUntrusted);
  EXPECT_EQ(verify_credential(credential.jws, keys(), CredentialCheck{"", kT0, 0}).error().code,
            PlatformErrc::kUntrusted);
  // Same kid, other key material: the signature decides.
  std::vector<VerificationKey> forged = keys();
  forged[0].public_key[0] ^= 1;
  EXPECT_EQ(verify_credential(credential.jws, forged, check_at(kT0)).error().code,
            PlatformErrc::kBadSignature);
  EXPECT_EQ(verify_credential(credential.jws, {}, check_at(kT0)).error().code,
            PlatformErrc::kUntrusted);
}

TEST_F(CredentialTest, MissingOrMistypedClaimsAreMalformed) {
  const std::string kid = keys()[0].key_id;
  const auto with_claims = [&](const json& claims) {
    const std::string input =
        independent_b64url_encode(json{{"alg", "EdDSA"}, {"kid", kid}}.dump()) + "." +
        independent_b64url_encode(claims.dump());
    auto signature = custody_->sign("node/identity-service", input);
    return input + "." +
           independent_b64url_encode(
               std::string_view(reinterpret_cast<const char*>(signature->data()), 64));
  };
  const json good = json::parse(independent_b64url_decode(split_dots(issue().jws)[1]));
  ASSERT_TRUE(verify_credential(with_claims(good), keys(), check_at(kT0)).ok());
  for (const char* claim :
       {"iss", "sub", "actr_type", "package_hash", "iat", "exp", "jti", "cnf"}) {
    json missing = good;
    missing.erase(claim);
    auto result = verify_credential(with_claims(missing), keys(), check_at(kT0));
    ASSERT_FALSE(result.ok()) << claim;
    EXPECT_EQ(result.error().code, PlatformErrc::kMalformed) << claim;
  }
  const std::vector<std::pair<std::string, json>> mistyped = {
      {"/exp", 1.8e9},      {"/exp", "1800003600"},   {"/iat", -1},
      {"/sub", 42},         {"/package_hash", "ABC"}, {"/cnf/jwk/crv", "X25519"},
      {"/cnf/jwk/x", "AA"}, {"/cnf/jwk/kty", "EC"},   {"/nbf", "soon"},
  };
  for (const auto& [pointer, value] : mistyped) {
    json bad = good;
    bad[json::json_pointer(pointer)] = value;
    EXPECT_EQ(verify_credential(with_claims(bad), keys(), check_at(kT0)).error().code,
              PlatformErrc::kMalformed)
        << pointer;
  }
  // Claims troupe does not know are ignored, as JWT readers do — but not nested without bound.
  json extra = good;
  extra["x_note"] = "kept";
  EXPECT_TRUE(verify_credential(with_claims(extra), keys(), check_at(kT0)).ok());
  extra["x_note"] = json::parse("[[[[[1]]]]]");
  EXPECT_EQ(verify_credential(with_claims(extra), keys(), check_at(kT0)).error().code,
            PlatformErrc::kMalformed);
  json later = good;
  later["nbf"] = kT0 + 10;
  EXPECT_EQ(verify_credential(with_claims(later), keys(), check_at(kT0)).error().code,
            PlatformErrc::kExpired);
  EXPECT_TRUE(verify_credential(with_claims(later), keys(), check_at(kT0 + 10)).ok());
}

TEST_F(CredentialTest, RotatingTheServiceKeyKeepsOutstandingCredentialsValidForOneTtl) {
  const Credential before = issue();
  const std::string old_kid = keys()[0].key_id;
  clock_.advance(std::chrono::seconds(600));
  ASSERT_TRUE(custody_->rotate("node/identity-service").ok());
  const Credential after = issue();
  const std::string new_kid =
      json::parse(independent_b64url_decode(split_dots(after.jws)[0])).at("kid").get<std::string>();
  EXPECT_NE(new_kid, old_kid);
  EXPECT_EQ(json::parse(*service_->jwks()).at("keys").size(), 2u);
  EXPECT_TRUE(service_->verify(before.jws).ok());
  EXPECT_TRUE(service_->verify(after.jws).ok());
  // One TTL after the rotation the old key has nothing valid left to verify: it leaves the set.
  clock_.advance(std::chrono::seconds(3600));
  const json jwks = json::parse(*service_->jwks());
  ASSERT_EQ(jwks.at("keys").size(), 1u);
  EXPECT_EQ(jwks.at("keys")[0].at("kid"), new_kid);
}

TEST_F(CredentialTest, IssueRefusesBadRequests) {
  CredentialRequest bad = request();
  bad.actor = ActorId{};
  EXPECT_EQ(service_->issue(bad).error().code, BaseErrc::kInvalidArgument);
  for (const char* type : {"acme:echo", "acme:echo:1:2", ":echo:1", "acme::1",
                           "acme:echo:", "ac me:echo:1", "acme:echo:1\n", ""}) {
    bad = request();
    bad.actor_type = type;
    EXPECT_EQ(service_->issue(bad).error().code, BaseErrc::kInvalidArgument) << type;
  }
  bad = request();
  bad.package_hash = std::string(64, 'A');
  EXPECT_EQ(service_->issue(bad).error().code, BaseErrc::kInvalidArgument);
  bad = request();
  bad.key_name = "nobody";
  EXPECT_EQ(service_->issue(bad).error().code, BaseErrc::kNotFound);
  bad = request();
  bad.key_name = "node/identity-service";
  EXPECT_EQ(service_->issue(bad).error().code, BaseErrc::kInvalidArgument);
}

TEST(Base64Url, EncodesWithoutPaddingAndDecodesOnlyCanonicalText) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_decode("-_8"), std::optional<std::string>("\xfb\xff"));
  EXPECT_EQ(base64url_decode("Zg"), std::optional<std::string>("f"));
  for (const char* bad : {"Zg==", "+/8", "Zh", "Z", "Zg\n", " Zg", "Z g", "Zg.", "Zm9v!"}) {
    EXPECT_FALSE(base64url_decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace troupe
