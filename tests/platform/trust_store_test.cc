// TrustStore: trusted keys and revocations persist in the caller's directory, atomically and
// 0600; a damaged file is an error, never an empty store; revocation wins.
#include "troupe/platform/trust_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "platform/package_fixture.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

using platform::SigningKey;
using platform::TrustStore;

const std::string kPackageHash(64, 'b');

TEST(TrustStore, PersistsKeysAndRevocations) {
  testing::ScratchDir dir("trust");
  SigningKey a = SigningKey::generate(), b = SigningKey::generate();
  {
    auto store = TrustStore::open(dir.path());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    EXPECT_TRUE(store->keys().empty());
    auto id = store->add_key(a.public_key());
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, a.key_id());
    ASSERT_TRUE(store->add_key(b.public_key()).ok());
    ASSERT_TRUE(store->revoke_key(b.key_id()).ok());
    ASSERT_TRUE(store->revoke_package(kPackageHash).ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir / platform::kTrustStoreFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto store = TrustStore::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  ASSERT_NE(store->trusted_key(a.key_id()), nullptr);
  EXPECT_EQ(*store->trusted_key(a.key_id()), a.public_key());
  EXPECT_EQ(store->trusted_key(b.key_id()), nullptr);
  EXPECT_TRUE(store->key_revoked(b.key_id()));
  EXPECT_TRUE(store->package_revoked(kPackageHash));
  EXPECT_FALSE(store->package_revoked(std::string(64, 'c')));
  // No temp file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(TrustStore, RevocationWins) {
  TrustStore store = TrustStore::in_memory();
  SigningKey a = SigningKey::generate();
  ASSERT_TRUE(store.revoke_key(a.key_id()).ok());
  auto added = store.add_key(a.public_key());
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, ErrorCode(PlatformErrc::kRevoked));
  EXPECT_EQ(store.trusted_key(a.key_id()), nullptr);
}

TEST(TrustStore, RefusesMalformedIds) {
  TrustStore store = TrustStore::in_memory();
  EXPECT_FALSE(store.revoke_key("mfr-xyz").ok());
  EXPECT_FALSE(store.revoke_package("abc").ok());
  EXPECT_FALSE(store.revoke_package(std::string(64, 'B')).ok());
}

TEST(TrustStore, ADamagedFileIsAnErrorNeverAnEmptyStore) {
  testing::ScratchDir dir("trust");
  SigningKey a = SigningKey::generate();
  const std::string good_key = platform::encode_public_key(a.public_key());
  const std::string cases[] = {
      "",
      "{",
      "[]",
      R"({"version": 1, "keys": [], "revoked_keys": []})",
      R"({"version": 2, "keys": [], "revoked_keys": [], "revoked_packages": []})",
      R"({"version": 1, "keys": [], "revoked_keys": [], "revoked_packages": [], "x": 1})",
      R"({"version": 1, "keys": [{"key_id": "mfr-0000000000000000", "public_key": ")" + good_key +
          R"("}], "revoked_keys": [], "revoked_packages": []})",
      R"({"version": 1, "keys": [], "revoked_keys": ["nope"], "revoked_packages": []})",
      R"({"version": 1, "keys": [], "revoked_keys": [], "revoked_packages": ["ab"]})",
  };
  for (const std::string& text : cases) {
    testing::write_file(dir / platform::kTrustStoreFile, text);
    auto store = TrustStore::open(dir.path());
    ASSERT_FALSE(store.ok()) << "accepted: " << text;
    EXPECT_EQ(store.error().code, ErrorCode(PlatformErrc::kMalformed)) << text;
  }
  // The same key under its own id loads.
  testing::write_file(dir / platform::kTrustStoreFile,
                      R"({"version": 1, "keys": [{"key_id": ")" + a.key_id() +
                          R"(", "public_key": ")" + good_key +
                          R"("}], "revoked_keys": [], "revoked_packages": []})");
  auto store = TrustStore::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_NE(store->trusted_key(a.key_id()), nullptr);
}

TEST(TrustStore, AChangeThatCannotBeSavedIsUndone) {
  testing::ScratchDir dir("trust");
  auto store = TrustStore::open(dir / "gone");  // a directory that does not exist
  ASSERT_TRUE(store.ok());
  SigningKey a = SigningKey::generate();
  auto added = store->add_key(a.public_key());
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code, ErrorCode(BaseErrc::kIo));
  EXPECT_EQ(store->trusted_key(a.key_id()), nullptr);
  EXPECT_FALSE(store->revoke_key(a.key_id()).ok());
  EXPECT_FALSE(store->key_revoked(a.key_id()));
}

}  // namespace
}  // namespace troupe

namespace troupe::platform {
namespace {

// The store never writes a file its next open would refuse (the node could not start again):
// a change past the cap fails too-large and is undone; the store on disk still opens.
TEST(TrustStore, NeverGrowsPastWhatItCanOpenAgain) {
  testing::ScratchDir dir("trust-cap");
  // A store just under the cap (16 MiB), written as save() writes it.
  std::string text = "{\n  \"keys\": [],\n  \"revoked_keys\": [],\n  \"revoked_packages\": [";
  std::uint64_t n = 0;
  char hash[80];
  while (text.size() < (std::size_t{16} << 20) - 200) {
    std::snprintf(hash, sizeof hash, "%s\n    \"%064llx\"", n == 0 ? "" : ",",
                  static_cast<unsigned long long>(n));
    text += hash;
    ++n;
  }
  text += "\n  ],\n  \"version\": 1\n}\n";
  {
    std::ofstream out(dir / kTrustStoreFile, std::ios::binary);
    out << text;
  }
  ASSERT_EQ(::chmod((dir / kTrustStoreFile).c_str(), 0600), 0);
  auto store = TrustStore::open(dir.path());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  Result<void> last = Result<void>{};
  std::uint64_t added = 0;
  for (std::uint64_t i = 0; last.ok() && i < 10; ++i) {
    std::snprintf(hash, sizeof hash, "%064llx", static_cast<unsigned long long>(n + i));
    last = store->revoke_package(hash);
    if (last.ok()) ++added;
  }
  ASSERT_FALSE(last.ok()) << "never reached the cap";
  EXPECT_EQ(last.error().code, ErrorCode(PlatformErrc::kTooLarge)) << last.error().to_string();
  auto again = TrustStore::open(dir.path());
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->revoked_packages().size(), n + added);
}

}  // namespace
}  // namespace troupe::platform
