// Key files and key ids: keygen's files and their modes, never overwriting, strict loading,
// and the key id computed independently (sodium's SHA-256 of the raw key).
#include "troupe/platform/signing_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "platform/package_fixture.h"
#include "troupe/base/encoding.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

using platform::SigningKey;

TEST(SigningKey, KeyIdIsMfrAndTheFirst16HexDigitsOfTheKeysSha256) {
  SigningKey key = SigningKey::generate();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, key.public_key().data(), key.public_key().size());
  char hex[2 * sizeof digest + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  EXPECT_EQ(key.key_id(), "mfr-" + std::string(hex, 16));
  EXPECT_TRUE(platform::is_key_id(key.key_id()));
}

TEST(SigningKey, SignaturesVerifyWithLibsodiumDirectly) {
  SigningKey key = SigningKey::generate();
  const std::string msg = "manifest bytes";
  auto sig = key.sign(msg);
  EXPECT_EQ(
      crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(msg.data()),
                                  msg.size(), key.public_key().data()),
      0);
  EXPECT_TRUE(platform::verify_signature(key.public_key(), msg, sig));
  EXPECT_FALSE(platform::verify_signature(key.public_key(), msg + "!", sig));
}

TEST(KeyFiles, KeygenWritesBothFilesAndNeverOverwrites) {
  testing::ScratchDir dir("keys");
  SigningKey key = SigningKey::generate();
  auto id = platform::write_key_files(dir / "k", key);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  EXPECT_EQ(*id, key.key_id());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "k" / platform::kSecretKeyFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The public key file: one line, the raw 32-byte key in base64.
  const std::string pub = testing::read_file(dir / "k" / platform::kPublicKeyFile);
  ASSERT_FALSE(pub.empty());
  EXPECT_EQ(pub.back(), '\n');
  auto raw = base64_decode(pub.substr(0, pub.size() - 1));
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, std::string(reinterpret_cast<const char*>(key.public_key().data()), 32));

  auto loaded = platform::load_signing_key(dir / "k" / platform::kSecretKeyFile);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_key(), key.public_key());
  auto pub_loaded = platform::load_public_key(dir / "k" / platform::kPublicKeyFile);
  ASSERT_TRUE(pub_loaded.ok());
  EXPECT_EQ(*pub_loaded, key.public_key());

  const std::string before = testing::read_file(dir / "k" / platform::kSecretKeyFile);
  auto again = platform::write_key_files(dir / "k", SigningKey::generate());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().detail.find("never overwrites"), std::string::npos);
  EXPECT_EQ(testing::read_file(dir / "k" / platform::kSecretKeyFile), before);
}

TEST(KeyFiles, RefusesASecretOthersMayRead) {
  testing::ScratchDir dir("keys");
  ASSERT_TRUE(platform::write_key_files(dir / "k", SigningKey::generate()).ok());
  const auto secret = dir / "k" / platform::kSecretKeyFile;
  ASSERT_EQ(::chmod(secret.c_str(), 0640), 0);
  auto r = platform::load_signing_key(secret);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode(BaseErrc::kRefused));
}

TEST(KeyFiles, RefusesDamagedFiles) {
  testing::ScratchDir dir("keys");
  const std::string cases[] = {"",
                               "not base64!\n",
                               base64_encode(std::string(31, 'x')) + "\n",
                               base64_encode(std::string(33, 'x')) + "\n",
                               base64_encode(std::string(32, 'x')) + "\nmore\n",
                               std::string(5000, 'A')};
  for (const std::string& text : cases) {
    testing::write_file(dir / "pub", text);
    auto r = platform::load_public_key(dir / "pub");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode(PlatformErrc::kMalformed)) << r.error().to_string();
  }
  auto missing = platform::load_public_key(dir / "absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode(BaseErrc::kIo));
}

// actr's key files: `actr pkg keygen` writes JSON with the base64 seed and public key.
TEST(KeyFiles, ReadsActrsJsonKeyFiles) {
  testing::ScratchDir dir("keys");
  SigningKey key = SigningKey::generate();
  const std::string seed = base64_encode(std::string_view(
      reinterpret_cast<const char*>(key.secret_for_file().data()), crypto_sign_SEEDBYTES));
  const std::string pub = platform::encode_public_key(key.public_key());
  const auto keychain = dir / "dev-key.json";
  testing::write_file(keychain, "{\n  \"private_key\": \"" + seed + "\",\n  \"public_key\": \"" +
                                    pub +
                                    "\",\n  \"created_at\": \"2026-01-01T00:00:00Z\",\n"
                                    "  \"note\": \"Development signing key\"\n}");
  ASSERT_EQ(::chmod(keychain.c_str(), 0600), 0);
  auto loaded = platform::load_signing_key(keychain);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->key_id(), key.key_id());
  auto public_only = platform::load_public_key(keychain);
  ASSERT_TRUE(public_only.ok()) << public_only.error().to_string();
  EXPECT_EQ(*public_only, key.public_key());
  testing::write_file(dir / "public-key.json", "{\"public_key\": \"" + pub + "\"}");
  auto from_json = platform::load_public_key(dir / "public-key.json");
  ASSERT_TRUE(from_json.ok()) << from_json.error().to_string();
  EXPECT_EQ(*from_json, key.public_key());

  // A public_key that is not the private key's, an unknown field, a missing private key.
  const std::string other = platform::encode_public_key(SigningKey::generate().public_key());
  const std::string bad[] = {
      "{\"private_key\": \"" + seed + "\", \"public_key\": \"" + other + "\"}",
      "{\"private_key\": \"" + seed + "\", \"extra\": \"x\"}",
      "{\"public_key\": \"" + pub + "\"}",
      "{\"private_key\": 5}",
      "{",
  };
  for (const std::string& text : bad) {
    testing::write_file(keychain, text);
    ASSERT_EQ(::chmod(keychain.c_str(), 0600), 0);
    auto r = platform::load_signing_key(keychain);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode(PlatformErrc::kMalformed)) << r.error().to_string();
  }
}

}  // namespace
}  // namespace troupe
