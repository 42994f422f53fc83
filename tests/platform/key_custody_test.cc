// KeyCustody: keys made and kept by the node, sealed at rest, refused when damaged or moved,
// rotated with their old public keys kept, and used from several threads at once.
#include "troupe/platform/key_custody.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "scratch_dir.h"
#include "troupe/platform/key_name.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

bool verifies(const Ed25519Signature& signature, std::string_view message,
              const Ed25519PublicKey& key) {
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

class KeyCustodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto master = MasterKey::load_or_create(scratch_ / "master");
    ASSERT_TRUE(master.ok()) << master.error().to_string();
    master_ = std::make_shared<const MasterKey>(std::move(master).value());
    reopen();
  }
  void reopen(const std::shared_ptr<const MasterKey>& master = nullptr) {
    custody_.reset();
    auto opened = KeyCustody::open(keys_dir(), master ? master : master_, UnixClock(clock_, kT0));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    custody_ = std::move(opened).value();
  }
  std::string keys_dir() const { return scratch_ / "keys"; }
  std::string record_path(std::string_view name) const {
    return keys_dir() + "/" + key_record_file_name(name);
  }

  static constexpr std::int64_t kT0 = 1'800'000'000;
  ScratchDir scratch_;
  ManualClock clock_;
  std::shared_ptr<const MasterKey> master_;
  std::unique_ptr<KeyCustody> custody_;
};

TEST_F(KeyCustodyTest, AKeyIsMadeOnceSealedInA0600RecordAndSurvivesReopen) {
  auto made = custody_->get_or_create("acme:echo:1.0.0/alice");
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  EXPECT_EQ(made->name, "acme:echo:1.0.0/alice");
  EXPECT_EQ(made->created, kT0);
  EXPECT_EQ(made->key_id, ed25519_key_id(made->public_key));
  EXPECT_EQ(made->key_id.size(), 16u);
  struct stat st {};
  ASSERT_EQ(::stat(record_path("acme:echo:1.0.0/alice").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The record holds no readable key material: not the public key, not the name's secret.
  const std::string record = ScratchDir::read(record_path("acme:echo:1.0.0/alice"));
  EXPECT_EQ(record.find(std::string(reinterpret_cast<const char*>(made->public_key.data()), 32)),
            std::string::npos);

  auto again = custody_->get_or_create("acme:echo:1.0.0/alice");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key, made->public_key);

  clock_.advance(std::chrono::seconds(100));
  reopen();
  auto reopened = custody_->get_or_create("acme:echo:1.0.0/alice");
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ(reopened->public_key, made->public_key);
  EXPECT_EQ(reopened->created, kT0);
  auto signature = custody_->sign("acme:echo:1.0.0/alice", "after the restart");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(verifies(*signature, "after the restart", made->public_key));
}

TEST_F(KeyCustodyTest, SignaturesVerifyWithLibsodiumOnThePublicKey) {
  ASSERT_TRUE(custody_->get_or_create("a").ok());
  auto key = custody_->public_key("a");
  ASSERT_TRUE(key.ok());
  const std::string message(64, 'm');
  auto signature = custody_->sign("a", message);
  ASSERT_TRUE(signature.ok()) << signature.error().to_string();
  EXPECT_TRUE(verifies(*signature, message, *key));
  EXPECT_FALSE(verifies(*signature, message + "!", *key));
  // Each actor its own key.
  ASSERT_TRUE(custody_->get_or_create("b").ok());
  EXPECT_NE(*custody_->public_key("b"), *key);
  EXPECT_FALSE(verifies(*custody_->sign("b", message), message, *key));
}

// A node that has used many keys over its life does not keep them all loaded (each holds
// sodium_malloc guard pages: a reviewer ran a node out of memory mappings with 16,000 named
// native actors). Past kMaxLoadedKeys, keys no call is using are unloaded, and reload from
// their records — the same key — at their next use.
TEST_F(KeyCustodyTest, KeysNotInUseAreUnloadedPastTheCapAndReloadTheSame) {
  const std::size_t n = KeyCustody::kMaxLoadedKeys + 200;
  std::vector<Ed25519PublicKey> keys;
  for (std::size_t i = 0; i < n; ++i) {
    auto made = custody_->get_or_create("k" + std::to_string(i));
    ASSERT_TRUE(made.ok()) << made.error().to_string();
    keys.push_back(made->public_key);
    ASSERT_LE(custody_->loaded(), KeyCustody::kMaxLoadedKeys) << i;
  }
  for (std::size_t i : {std::size_t{0}, n / 2, n - 1}) {
    const std::string message = "after " + std::to_string(i);
    auto signature = custody_->sign("k" + std::to_string(i), message);
    ASSERT_TRUE(signature.ok()) << signature.error().to_string();
    EXPECT_TRUE(verifies(*signature, message, keys[i])) << i;
  }
}

TEST_F(KeyCustodyTest, UnknownKeysAreNotFoundAndNotMadeBySignOrRead) {
  EXPECT_EQ(custody_->sign("nobody", "m").error().code, BaseErrc::kNotFound);
  EXPECT_EQ(custody_->public_key("nobody").error().code, BaseErrc::kNotFound);
  EXPECT_EQ(custody_->info("nobody").error().code, BaseErrc::kNotFound);
  EXPECT_EQ(custody_->rotate("nobody").error().code, BaseErrc::kNotFound);
  EXPECT_EQ(custody_->remove("nobody").error().code, BaseErrc::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(record_path("nobody")));
}

TEST_F(KeyCustodyTest, BadNamesAreRefused) {
  for (const std::string& name :
       {std::string(), std::string("a\nb"), std::string("tab\there"), std::string(513, 'n'),
        std::string("\xff\xfe"), std::string("c1\xc2\x85"), std::string("nul\0x", 5)}) {
    auto made = custody_->get_or_create(name);
    ASSERT_FALSE(made.ok()) << name;
    EXPECT_EQ(made.error().code, BaseErrc::kInvalidArgument) << name;
  }
  // A name is never a path: slashes and dots stay inside the key directory.
  auto dotted = custody_->get_or_create("../../etc/passwd");
  ASSERT_TRUE(dotted.ok());
  EXPECT_TRUE(std::filesystem::exists(record_path("../../etc/passwd")));
  EXPECT_EQ(std::filesystem::path(record_path("../../etc/passwd")).parent_path(), keys_dir());
}

TEST_F(KeyCustodyTest, AFlippedBitAnywhereInARecordIsAnErrorNeverANewKey) {
  auto made = custody_->get_or_create("alice");
  ASSERT_TRUE(made.ok());
  const std::string path = record_path("alice");
  const std::string good = ScratchDir::read(path);
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x10;
    ScratchDir::write(path, bad);
    reopen();
    auto got = custody_->get_or_create("alice");
    ASSERT_FALSE(got.ok()) << "byte " << i;
    EXPECT_TRUE(got.error().code == PlatformErrc::kDamaged ||
                got.error().code == PlatformErrc::kMasterKeyMismatch)
        << "byte " << i << ": " << got.error().to_string();
    EXPECT_EQ(custody_->sign("alice", "m").error().code, got.error().code);
    EXPECT_EQ(ScratchDir::read(path), bad) << "a damaged record must be left for inspection";
  }
  ScratchDir::write(path, good.substr(0, good.size() - 1));
  reopen();
  EXPECT_EQ(custody_->get_or_create("alice").error().code, PlatformErrc::kDamaged);
  ScratchDir::write(path, good);
  reopen();
  auto restored = custody_->get_or_create("alice");
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->public_key, made->public_key);
}

TEST_F(KeyCustodyTest, ARecordMovedToAnotherActorsNameIsRefused) {
  auto alice = custody_->get_or_create("alice");
  auto bob = custody_->get_or_create("bob");
  ASSERT_TRUE(alice.ok() && bob.ok());
  std::filesystem::rename(record_path("alice"), record_path("bob"));
  reopen();
  auto got = custody_->get_or_create("bob");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, PlatformErrc::kDamaged) << got.error().to_string();
  EXPECT_NE(got.error().detail.find("another key"), std::string::npos) << got.error().detail;
  EXPECT_EQ(custody_->sign("bob", "m").error().code, PlatformErrc::kDamaged);
  // The header's name rewritten to bob's too: the seal (which binds the name) refuses it.
  std::string forged = ScratchDir::read(record_path("bob"));
  const std::size_t at = forged.find("alice");
  ASSERT_NE(at, std::string::npos);
  forged.replace(at, 5, "bob");
  forged[17] = 3;  // the name's length (u16 at bytes 16..17)
  ScratchDir::write(record_path("bob"), forged);
  reopen();
  EXPECT_EQ(custody_->get_or_create("bob").error().code, PlatformErrc::kDamaged);
  auto listed = custody_->list();
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code, PlatformErrc::kDamaged);
}

TEST_F(KeyCustodyTest, AnotherMasterKeyIsAMismatchNotANewKey) {
  ASSERT_TRUE(custody_->get_or_create("alice").ok());
  const std::string before = ScratchDir::read(record_path("alice"));
  auto other = MasterKey::load_or_create(scratch_ / "other-master");
  ASSERT_TRUE(other.ok());
  reopen(std::make_shared<const MasterKey>(std::move(other).value()));
  auto got = custody_->get_or_create("alice");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, PlatformErrc::kMasterKeyMismatch) << got.error().to_string();
  EXPECT_EQ(custody_->list().error().code, PlatformErrc::kMasterKeyMismatch);
  EXPECT_EQ(ScratchDir::read(record_path("alice")), before);
}

TEST_F(KeyCustodyTest, ARecordFileOfTheWrongModeIsRefused) {
  ASSERT_TRUE(custody_->get_or_create("alice").ok());
  ASSERT_EQ(::chmod(record_path("alice").c_str(), 0644), 0);
  reopen();
  auto got = custody_->sign("alice", "m");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, BaseErrc::kRefused) << got.error().to_string();
}

TEST_F(KeyCustodyTest, RotateMakesANewKeyAndKeepsTheOldPublicKeyListed) {
  auto first = custody_->get_or_create("alice");
  ASSERT_TRUE(first.ok());
  auto old_signature = custody_->sign("alice", "before");
  clock_.advance(std::chrono::seconds(50));
  auto rotated = custody_->rotate("alice");
  ASSERT_TRUE(rotated.ok()) << rotated.error().to_string();
  EXPECT_NE(rotated->public_key, first->public_key);
  EXPECT_NE(rotated->key_id, first->key_id);
  EXPECT_EQ(rotated->created, kT0 + 50);
  ASSERT_EQ(rotated->retired.size(), 1u);
  EXPECT_EQ(rotated->retired[0].public_key, first->public_key);
  EXPECT_EQ(rotated->retired[0].created, kT0);
  EXPECT_EQ(rotated->retired[0].retired, kT0 + 50);
  // Old signatures still verify with the kept key; new ones come from the new key.
  EXPECT_TRUE(verifies(*old_signature, "before", rotated->retired[0].public_key));
  auto new_signature = custody_->sign("alice", "after");
  EXPECT_TRUE(verifies(*new_signature, "after", rotated->public_key));
  EXPECT_FALSE(verifies(*new_signature, "after", first->public_key));
  EXPECT_EQ(custody_->sign_with_key("alice", first->key_id, "m").error().code, BaseErrc::kRefused);
  EXPECT_TRUE(custody_->sign_with_key("alice", rotated->key_id, "m").ok());

  reopen();
  auto listed = custody_->list();
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].public_key, rotated->public_key);
  ASSERT_EQ((*listed)[0].retired.size(), 1u);
  EXPECT_EQ((*listed)[0].retired[0].public_key, first->public_key);
}

TEST_F(KeyCustodyTest, RotationKeepsTheNewestRetiredKeysUpToTheCap) {
  auto first = custody_->get_or_create("alice");
  ASSERT_TRUE(first.ok());
  std::vector<Ed25519PublicKey> keys{first->public_key};
  for (std::size_t i = 0; i < KeyCustody::kMaxRetiredKeys + 3; ++i) {
    auto rotated = custody_->rotate("alice");
    ASSERT_TRUE(rotated.ok()) << rotated.error().to_string();
    keys.push_back(rotated->public_key);
  }
  reopen();
  auto info = custody_->info("alice");
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  ASSERT_EQ(info->retired.size(), KeyCustody::kMaxRetiredKeys);
  EXPECT_EQ(info->public_key, keys.back());
  EXPECT_EQ(info->retired.back().public_key, keys[keys.size() - 2]);
  EXPECT_EQ(info->retired.front().public_key, keys[keys.size() - 1 - KeyCustody::kMaxRetiredKeys]);
}

TEST_F(KeyCustodyTest, ListNamesEveryKeyAndIgnoresStrangers) {
  for (const char* name : {"c", "a", "b"}) ASSERT_TRUE(custody_->get_or_create(name).ok());
  ScratchDir::write(keys_dir() + "/README", "not a record");
  auto listed = custody_->list();
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].name, "a");
  EXPECT_EQ((*listed)[1].name, "b");
  EXPECT_EQ((*listed)[2].name, "c");
  EXPECT_EQ((*listed)[1].key_id, custody_->info("b")->key_id);
}

TEST_F(KeyCustodyTest, RemoveDeletesTheRecordAndTheKey) {
  auto first = custody_->get_or_create("temp");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(custody_->remove("temp").ok());
  EXPECT_FALSE(std::filesystem::exists(record_path("temp")));
  EXPECT_EQ(custody_->sign("temp", "m").error().code, BaseErrc::kNotFound);
  auto second = custody_->get_or_create("temp");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->public_key, first->public_key);
}

TEST_F(KeyCustodyTest, ASecondStoreOnTheSameDirectoryIsRefusedWhileTheFirstIsOpen) {
  ASSERT_TRUE(custody_->get_or_create("alice").ok());
  auto second = KeyCustody::open(keys_dir(), master_, UnixClock(clock_, kT0));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, BaseErrc::kUnavailable) << second.error().to_string();
  custody_.reset();
  auto third = KeyCustody::open(keys_dir(), master_, UnixClock(clock_, kT0));
  ASSERT_TRUE(third.ok()) << third.error().to_string();
  EXPECT_TRUE((*third)->sign("alice", "m").ok());
}

TEST_F(KeyCustodyTest, OpenRemovesWhatAKilledWriteLeftAndNothingElse) {
  const std::string leftover = keys_dir() + "/." + key_record_file_name("alice") + ".tmp-12345";
  const std::string stranger = keys_dir() + "/.notes.tmp-1";
  const std::string unfinished_name = keys_dir() + "/." + key_record_file_name("bob") + ".tmp-x";
  for (const std::string& path : {leftover, stranger, unfinished_name}) {
    ScratchDir::write(path, "partial");
  }
  reopen();
  EXPECT_FALSE(std::filesystem::exists(leftover));
  EXPECT_TRUE(std::filesystem::exists(stranger));
  EXPECT_TRUE(std::filesystem::exists(unfinished_name));
}

// Worker threads sign and create keys for different actors at once, and some for the same one:
// every thread sees one key per name, and every signature verifies. Runs under TSan.
TEST_F(KeyCustodyTest, ConcurrentGetOrCreateSignRotateAndList) {
  constexpr int kThreads = 6;
  constexpr int kNames = 4;
  constexpr int kRounds = 40;
  std::vector<std::map<std::string, Ed25519PublicKey>> seen(kThreads);
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  // Made before any thread starts: the signers sign with it from their first round.
  ASSERT_TRUE(custody_->get_or_create("rotating").ok());
  std::thread rotator([&] {
    while (!stop.load()) {
      if (!custody_->rotate("rotating").ok()) failures.fetch_add(1);
      if (!custody_->list().ok()) failures.fetch_add(1);
    }
  });
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string name = "actor-" + std::to_string((t + round) % kNames);
        auto info = custody_->get_or_create(name);
        if (!info.ok()) {
          failures.fetch_add(1);
          continue;
        }
        auto [it, fresh] = seen[t].emplace(name, info->public_key);
        if (!fresh && it->second != info->public_key) failures.fetch_add(1);
        const std::string message = "round " + std::to_string(round);
        auto signature = custody_->sign(name, message);
        if (!signature.ok() || !verifies(*signature, message, info->public_key)) {
          failures.fetch_add(1);
        }
        if (!custody_->sign("rotating", message).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  stop.store(true);
  rotator.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 1; t < kThreads; ++t) {
    for (const auto& [name, key] : seen[t]) {
      if (seen[0].count(name) != 0) {
        EXPECT_EQ(seen[0][name], key) << name;
      }
    }
  }
  auto listed = custody_->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), kNames + 1u);
}

}  // namespace
}  // namespace troupe
