// PlatformServices: the node's trust store, key custody and storage, made in its data directory
// at start — private directories, a master key made once, and a start that fails closed on a
// damaged or foreign directory.
#include "troupe/node/platform_services.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "troupe/platform/platform_error.h"
#include "troupe/platform/signing_key.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

class PlatformServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troupe-platform-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static mode_t mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_;
};

TEST_F(PlatformServicesTest, OpenMakesPrivateDirectoriesAndTheMasterKeyOnce) {
  {
    auto p = PlatformServices::open(dir_, {}, "troupe:node:test");
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    auto storage = (*p)->storage_for("mfr-0123456789abcdef");
    ASSERT_TRUE(storage.ok()) << storage.error().to_string();
    EXPECT_EQ((*storage)->max_quota_bytes(), std::uint64_t{64} << 20);
    EXPECT_EQ(mode(dir_ + "/storage/mfr-0123456789abcdef"), 0700u);
    // A key id is a path component: nothing else is taken for one.
    for (const char* bad :
         {"../x", "mfr-0123456789ABCDEF", "mfr-0123", "", "mfr-0123456789abcdef/"}) {
      EXPECT_FALSE((*p)->storage_for(bad).ok()) << bad;
    }
  }
  for (const char* d : {"trust", "keys", "master", "storage"}) {
    EXPECT_EQ(mode(dir_ + "/" + d), 0700u) << d;
  }
  EXPECT_EQ(mode(dir_ + "/master/master.key"), 0600u);
  std::ifstream in(dir_ + "/master/master.key", std::ios::binary);
  const std::string key{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(key.size(), 32u);
  // A second start keeps the key (the custodial keys sealed under it stay readable).
  auto again = PlatformServices::open(dir_, {}, "troupe:node:test");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  std::ifstream in2(dir_ + "/master/master.key", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in2), {}), key);
}

// Unnamed actors' keys live for one run: removed by remove_ephemeral_keys (the node calls it
// once its actors have stopped) and, after a crash skipped that, at the next open. Named ones
// stay.
TEST_F(PlatformServicesTest, UnnamedActorsKeysDoNotOutliveTheRun) {
  const std::string named = PlatformServices::actor_key_name("mfr-0123456789abcdef", "a:b:1", "n");
  std::string first, second;
  {
    auto p = PlatformServices::open(dir_, {}, "troupe:node:test");
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    first = PlatformServices::actor_key_name("mfr-0123456789abcdef", "a:b:1", "");
    second = PlatformServices::actor_key_name("mfr-0123456789abcdef", "a:b:1", "");
    EXPECT_NE(first, second) << "each unnamed actor draws its own";
    EXPECT_EQ(first.rfind("ephemeral/mfr-0123456789abcdef/a:b:1/", 0), 0u) << first;
    for (const std::string& k : {first, second, named}) {
      ASSERT_TRUE((*p)->keys().get_or_create(k).ok()) << k;
    }
    (*p)->remove_ephemeral_keys();
    EXPECT_EQ((*p)->keys().info(first).error().code, BaseErrc::kNotFound);
    EXPECT_TRUE((*p)->keys().info(named).ok());
    ASSERT_TRUE((*p)->keys().get_or_create(second).ok());  // left behind, as by a crash
  }
  auto again = PlatformServices::open(dir_, {}, "troupe:node:test");
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ((*again)->keys().info(second).error().code, BaseErrc::kNotFound);
  EXPECT_TRUE((*again)->keys().info(named).ok());
}

TEST_F(PlatformServicesTest, TheTrustStorePersistsAndRevocationWins) {
  const platform::SigningKey signer = platform::SigningKey::generate();
  const std::string text = platform::encode_public_key(signer.public_key());
  const std::string id = platform::key_id_of(signer.public_key());
  const std::string hash(64, 'a');
  {
    auto p = PlatformServices::open(dir_, {}, "troupe:node:test");
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    auto added = (*p)->trust_key(text);
    ASSERT_TRUE(added.ok()) << added.error().to_string();
    EXPECT_EQ(*added, id);
    EXPECT_TRUE((*p)->still_trusted(id, hash));
    ASSERT_TRUE((*p)->revoke_package(hash).ok());
    EXPECT_FALSE((*p)->still_trusted(id, hash));
    EXPECT_FALSE((*p)->trust_key("not a key").ok());
  }
  auto p = PlatformServices::open(dir_, {}, "troupe:node:test");
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  TrustListing listing = (*p)->trust_listing();
  ASSERT_EQ(listing.keys.size(), 1u);
  EXPECT_EQ(listing.keys[0].first, id);
  EXPECT_EQ(listing.keys[0].second, text);
  EXPECT_EQ(listing.revoked_packages, std::vector<std::string>{hash});
  ASSERT_TRUE((*p)->revoke_key(id).ok());
  EXPECT_FALSE((*p)->still_trusted(id, std::string(64, 'b')));
  auto readd = (*p)->trust_key(text);
  ASSERT_FALSE(readd.ok());
  EXPECT_EQ(readd.error().code, PlatformErrc::kRevoked);
}

// Fail closed: what the node cannot trust fails its start instead of running without it.
TEST_F(PlatformServicesTest, ADamagedOrLooseDirectoryFailsTheStart) {
  fs::create_directories(dir_ + "/trust");
  ::chmod((dir_ + "/trust").c_str(), 0700);
  std::ofstream(dir_ + "/trust/trust.json") << "{ not json";
  ::chmod((dir_ + "/trust/trust.json").c_str(), 0600);
  auto damaged = PlatformServices::open(dir_, {}, "troupe:node:test");
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code, PlatformErrc::kMalformed) << damaged.error().to_string();
  fs::remove(dir_ + "/trust/trust.json");

  fs::create_directories(dir_ + "/storage");
  ::chmod((dir_ + "/storage").c_str(), 0777);
  auto loose = PlatformServices::open(dir_, {}, "troupe:node:test");
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.error().code, BaseErrc::kRefused) << loose.error().to_string();
  ::chmod((dir_ + "/storage").c_str(), 0700);

  fs::remove_all(dir_ + "/master");
  std::ofstream(dir_ + "/master") << "a file";
  EXPECT_FALSE(PlatformServices::open(dir_, {}, "troupe:node:test").ok());
  fs::remove(dir_ + "/master");

  // A symlink in a service directory's place is refused: nothing is made where it points.
  for (const char* d : {"trust", "keys", "master"}) {
    const std::string elsewhere = dir_ + "/elsewhere-" + d;
    fs::create_directories(elsewhere);
    ::chmod(elsewhere.c_str(), 0700);
    fs::remove_all(dir_ + "/" + d);
    fs::create_directory_symlink(elsewhere, dir_ + "/" + d);
    auto linked = PlatformServices::open(dir_, {}, "troupe:node:test");
    ASSERT_FALSE(linked.ok()) << d;
    EXPECT_EQ(linked.error().code, BaseErrc::kRefused) << linked.error().to_string();
    EXPECT_TRUE(fs::is_empty(elsewhere)) << d;
    fs::remove(dir_ + "/" + d);
  }
}

}  // namespace
}  // namespace troupe
