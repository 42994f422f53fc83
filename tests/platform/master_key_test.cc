// MasterKey: the key file made once and checked at every start, the passphrase derivation,
// and sealing under it.
#include "troupe/platform/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "scratch_dir.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

// The cheapest Argon2id work libsodium allows: the tests check the derivation, not its cost.
constexpr PassphraseLimits kFastLimits{PassphraseLimits::kMinOps, PassphraseLimits::kMinMemBytes};

class MasterKeyTest : public ::testing::Test {
 protected:
  std::string dir() const { return scratch_ / "keys"; }
  std::string key_file() const { return dir() + "/master.key"; }
  void expect_refused(const std::string& what) {
    auto key = MasterKey::load_or_create(dir());
    ASSERT_FALSE(key.ok()) << what;
    EXPECT_EQ(key.error().code, BaseErrc::kRefused) << key.error().to_string();
    EXPECT_NE(key.error().detail.find(what), std::string::npos) << key.error().detail;
  }
  ScratchDir scratch_;
};

TEST_F(MasterKeyTest, FirstStartMakesA0600KeyFileThatLaterStartsRead) {
  auto first = MasterKey::load_or_create(dir());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(key_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const std::string bytes = ScratchDir::read(key_file());

  auto second = MasterKey::load_or_create(dir());
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->key_id(), first->key_id());
  EXPECT_EQ(ScratchDir::read(key_file()), bytes);  // never rewritten
  // What one seals, the other opens: the same key.
  const unsigned char secret[] = "a secret";
  auto opened = second->open("ad", first->seal("ad", secret, sizeof secret));
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  EXPECT_EQ(std::memcmp(opened->data(), secret, sizeof secret), 0);
}

// A second name for the key file (a hard link elsewhere) is refused, the file kept.
TEST_F(MasterKeyTest, AKeyFileWithAnotherHardLinkIsRefused) {
  ASSERT_TRUE(MasterKey::load_or_create(dir()).ok());
  const std::string other = scratch_ / "elsewhere";
  ASSERT_EQ(::link(key_file().c_str(), other.c_str()), 0);
  expect_refused("2 hard links");
  ASSERT_EQ(::unlink(other.c_str()), 0);
  EXPECT_TRUE(MasterKey::load_or_create(dir()).ok());
}

TEST_F(MasterKeyTest, TwoDirectoriesGetTwoKeys) {
  auto a = MasterKey::load_or_create(dir());
  auto b = MasterKey::load_or_create(scratch_ / "other");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key_id(), b->key_id());
}

TEST_F(MasterKeyTest, AKeyFileReadableOrWritableByOthersIsRefusedAndKept) {
  ASSERT_TRUE(MasterKey::load_or_create(dir()).ok());
  const std::string bytes = ScratchDir::read(key_file());
  for (mode_t mode : {0640, 0604, 0660, 0666, 0644}) {
    ASSERT_EQ(::chmod(key_file().c_str(), mode), 0);
    expect_refused("it must be 0600");
    EXPECT_EQ(ScratchDir::read(key_file()), bytes) << "a refused key file must not be replaced";
  }
}

TEST_F(MasterKeyTest, AKeyFileOfTheWrongSizeIsRefused) {
  ASSERT_TRUE(MasterKey::load_or_create(dir()).ok());
  const std::string bytes = ScratchDir::read(key_file());
  for (const std::string& content : {bytes.substr(0, 31), bytes + "x", std::string()}) {
    ScratchDir::write(key_file(), content);
    ASSERT_EQ(::chmod(key_file().c_str(), 0600), 0);
    expect_refused("bytes (expected 32)");
    EXPECT_EQ(ScratchDir::read(key_file()), content);
  }
}

TEST_F(MasterKeyTest, AKeyFileOfAnotherOwnerIsRefused) {
  ASSERT_TRUE(MasterKey::load_or_create(dir()).ok());
  if (::chown(key_file().c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a file away without privileges: " << std::strerror(errno);
  }
  expect_refused("belongs to another user (uid 65534)");
}

TEST_F(MasterKeyTest, ASymbolicLinkOrADirectoryInPlaceOfTheKeyIsRefused) {
  ASSERT_EQ(::mkdir(dir().c_str(), 0700), 0);
  ScratchDir::write(scratch_ / "elsewhere", std::string(32, 'k'));
  ASSERT_EQ(::chmod((scratch_ / "elsewhere").c_str(), 0600), 0);
  ASSERT_EQ(::symlink((scratch_ / "elsewhere").c_str(), key_file().c_str()), 0);
  expect_refused("symbolic link");
  ASSERT_EQ(::unlink(key_file().c_str()), 0);
  ASSERT_EQ(::mkdir(key_file().c_str(), 0700), 0);
  expect_refused("not a regular file");
}

TEST_F(MasterKeyTest, ADirectoryWritableByOthersIsRefused) {
  ASSERT_EQ(::mkdir(dir().c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir().c_str(), 0777), 0);
  expect_refused("writable by group or others");
}

TEST_F(MasterKeyTest, PassphraseDerivationIsTheSameWithTheSameSaltAndDiffersWithAnother) {
  const std::array<std::uint8_t, 16> salt_a{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  std::array<std::uint8_t, 16> salt_b = salt_a;
  salt_b[15] ^= 1;
  auto a1 = MasterKey::derive("correct horse", salt_a, kFastLimits);
  auto a2 = MasterKey::derive("correct horse", salt_a, kFastLimits);
  auto b = MasterKey::derive("correct horse", salt_b, kFastLimits);
  auto other = MasterKey::derive("correct horsf", salt_a, kFastLimits);
  auto more_work = MasterKey::derive("correct horse", salt_a,
                                     PassphraseLimits{2, PassphraseLimits::kMinMemBytes});
  ASSERT_TRUE(a1.ok() && a2.ok() && b.ok() && other.ok() && more_work.ok());
  EXPECT_EQ(a1->key_id(), a2->key_id());
  EXPECT_NE(a1->key_id(), b->key_id());
  EXPECT_NE(a1->key_id(), other->key_id());
  EXPECT_NE(a1->key_id(), more_work->key_id());
  const unsigned char secret[] = "x";
  EXPECT_TRUE(a2->open("", a1->seal("", secret, 1)).ok());
  EXPECT_EQ(b->open("", a1->seal("", secret, 1)).error().code, PlatformErrc::kDamaged);
}

TEST_F(MasterKeyTest, PassphraseRefusesEmptyAndOutOfBoundsLimits) {
  const std::array<std::uint8_t, 16> salt{};
  EXPECT_EQ(MasterKey::derive("", salt, kFastLimits).error().code, BaseErrc::kInvalidArgument);
  EXPECT_EQ(MasterKey::derive("pw", salt, PassphraseLimits{0, 8192}).error().code,
            BaseErrc::kInvalidArgument);
  EXPECT_EQ(MasterKey::derive("pw", salt, PassphraseLimits{1, 1024}).error().code,
            BaseErrc::kInvalidArgument);
  EXPECT_EQ(MasterKey::derive(std::string(5000, 'p'), salt, kFastLimits).error().code,
            BaseErrc::kInvalidArgument);
}

TEST_F(MasterKeyTest, APassphraseKeepsItsSaltAndAWrongOneIsRefused) {
  auto first = MasterKey::from_passphrase(dir(), "open sesame", kFastLimits);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat((dir() + "/master.salt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Later starts use the stored limits, whatever the caller would use for a new salt.
  auto again = MasterKey::from_passphrase(dir(), "open sesame", PassphraseLimits{});
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->key_id(), first->key_id());
  auto wrong = MasterKey::from_passphrase(dir(), "open sesamE", kFastLimits);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, PlatformErrc::kMasterKeyMismatch) << wrong.error().to_string();
  // Another directory, another salt: the same passphrase gives another key.
  auto elsewhere = MasterKey::from_passphrase(scratch_ / "other", "open sesame", kFastLimits);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(elsewhere->key_id(), first->key_id());
}

TEST_F(MasterKeyTest, ATamperedSaltFileIsRefused) {
  ASSERT_TRUE(MasterKey::from_passphrase(dir(), "pw", kFastLimits).ok());
  const std::string path = dir() + "/master.salt";
  const std::string good = ScratchDir::read(path);
  // The memory limit (bytes 16..23) raised to 2^62: refused before any work is attempted.
  std::string huge = good;
  huge[16] = 0x40;
  ScratchDir::write(path, huge);
  auto key = MasterKey::from_passphrase(dir(), "pw", kFastLimits);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, PlatformErrc::kMalformed) << key.error().to_string();
  // A changed salt byte derives another key, which the stored fingerprint catches.
  std::string salt = good;
  salt[30] ^= 1;
  ScratchDir::write(path, salt);
  EXPECT_EQ(MasterKey::from_passphrase(dir(), "pw", kFastLimits).error().code,
            PlatformErrc::kMasterKeyMismatch);
  std::string magic = good;
  magic[0] = 'X';
  ScratchDir::write(path, magic);
  EXPECT_EQ(MasterKey::from_passphrase(dir(), "pw", kFastLimits).error().code,
            PlatformErrc::kMalformed);
}

TEST_F(MasterKeyTest, ADirectoryServesAKeyFileOrAPassphraseNeverBoth) {
  ASSERT_TRUE(MasterKey::load_or_create(dir()).ok());
  auto pass = MasterKey::from_passphrase(dir(), "pw", kFastLimits);
  ASSERT_FALSE(pass.ok());
  EXPECT_EQ(pass.error().code, BaseErrc::kRefused);
  ASSERT_TRUE(MasterKey::from_passphrase(scratch_ / "p", "pw", kFastLimits).ok());
  auto file = MasterKey::load_or_create(scratch_ / "p");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, BaseErrc::kRefused);
}

TEST_F(MasterKeyTest, OpenRefusesOtherAssociatedDataAndChangedBytes) {
  auto key = MasterKey::load_or_create(dir());
  ASSERT_TRUE(key.ok());
  const unsigned char secret[] = "seed bytes";
  const std::string sealed = key->seal("actor a", secret, sizeof secret);
  EXPECT_EQ(key->open("actor b", sealed).error().code, PlatformErrc::kDamaged);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string changed = sealed;
    changed[i] ^= 0x01;
    EXPECT_EQ(key->open("actor a", changed).error().code, PlatformErrc::kDamaged) << i;
  }
  EXPECT_EQ(key->open("actor a", sealed.substr(0, 39)).error().code, PlatformErrc::kDamaged);
  EXPECT_TRUE(key->open("actor a", sealed).ok());
}

}  // namespace
}  // namespace troupe
