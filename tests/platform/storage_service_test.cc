#include "troupe/platform/storage_service.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/temp_storage_root.h"
#include "troupe/platform/dispatch_transaction.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

class StorageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<StorageService>> service = StorageService::open(root_.path(), 1000);
    ASSERT_TRUE(service.ok()) << service.error().to_string();
    service_ = std::move(*service);
  }
  static mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string actor_dir(const std::string& type, const std::string& name) const {
    return root_.path() + "/" + type + "/" + name;
  }
  void expect_open_refused(const ActorStoreId& id, ErrorCode code, std::string_view mention) {
    Result<StoreLease> lease = service_->open_store(id, 100);
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.error().code, code) << lease.error().to_string();
    EXPECT_NE(lease.error().detail.find(mention), std::string::npos) << lease.error().detail;
    EXPECT_EQ(service_->live_stores(), 0u);
  }

  TempStorageRoot root_;
  std::unique_ptr<StorageService> service_;
};

TEST_F(StorageServiceTest, PlacesEachStoreInPrivateDirectoriesAndFiles) {
  Result<StoreLease> lease = service_->open_store({"acme:billing:1.0.0", "ledger"}, 100);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  ASSERT_TRUE(lease->store().put("k", "v").ok());
  const std::string dir = actor_dir("acme:billing:1.0.0", "ledger");
  EXPECT_EQ(lease->store().path(), dir + "/store.sqlite");
  EXPECT_EQ(mode_of(root_.path() + "/acme:billing:1.0.0"), 0700u);
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir + "/store.sqlite"), 0600u);
  EXPECT_EQ(mode_of(dir + "/store.sqlite-wal"), 0600u);  // SQLite copies the database's mode
}

TEST_F(StorageServiceTest, NamedActorsFindTheirDataAgainAndOthersDoNot) {
  {
    Result<StoreLease> lease = service_->open_store({"acme:billing:1", "a"}, 100);
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE(lease->store().put("k", "from a").ok());
  }
  EXPECT_EQ(service_->live_stores(), 0u);
  for (const ActorStoreId& other : std::vector<ActorStoreId>{
           {"acme:billing:1", "b"}, {"acme:billing:2", "a"}, {"unsigned:ab", "a"}}) {
    Result<StoreLease> lease = service_->open_store(other, 100);
    ASSERT_TRUE(lease.ok());
    EXPECT_FALSE(lease->store().get("k")->has_value()) << other.type << " " << other.name;
  }
  // A restart of the node: a new service on the same root.
  service_.reset();
  Result<std::unique_ptr<StorageService>> service = StorageService::open(root_.path(), 1000);
  ASSERT_TRUE(service.ok());
  Result<StoreLease> lease = (*service)->open_store({"acme:billing:1", "a"}, 100);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->store().get("k")->value(), "from a");
  EXPECT_EQ(lease->store().used_bytes(), 7u);
}

TEST_F(StorageServiceTest, QuotaIsTheRequestCappedByTheNodeMaximum) {
  Result<StoreLease> small = service_->open_store({"acme:a:1", "n"}, 10);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->store().quota_bytes(), 10u);
  Result<StoreLease> capped = service_->open_store({"acme:b:1", "n"}, 1u << 30);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->store().quota_bytes(), 1000u);
  EXPECT_EQ(capped->store().put("k", Bytes(1000, 'x')).error().code, PlatformErrc::kQuotaExceeded);
}

TEST_F(StorageServiceTest, TwoLiveOwnersOfOneStoreAreRefused) {
  Result<StoreLease> first = service_->open_store({"acme:billing:1", "a"}, 100);
  ASSERT_TRUE(first.ok());
  {
    Result<StoreLease> second = service_->open_store({"acme:billing:1", "a"}, 100);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, BaseErrc::kUnavailable);
    EXPECT_NE(second.error().detail.find("held by a live actor"), std::string::npos);
  }
  EXPECT_EQ(service_->live_stores(), 1u);
  // A moved lease is still the one owner; its destruction frees the store.
  StoreLease moved = std::move(*first);
  EXPECT_EQ(service_->live_stores(), 1u);
  { StoreLease gone = std::move(moved); }
  EXPECT_EQ(service_->live_stores(), 0u);
  Result<StoreLease> again = service_->open_store({"acme:billing:1", "a"}, 100);
  EXPECT_TRUE(again.ok());
}

TEST_F(StorageServiceTest, ConcurrentOpensOfOneStoreGiveOneOwner) {
  constexpr int kThreads = 8;
  std::vector<std::optional<Result<StoreLease>>> results(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i].emplace(service_->open_store({"acme:a:1", "n"}, 10));
    });
  }
  for (std::thread& t : threads) t.join();
  int owners = 0;
  for (auto& r : results) {
    if (r->ok()) {
      ++owners;
    } else {
      EXPECT_EQ(r->error().code, BaseErrc::kUnavailable);
    }
  }
  EXPECT_EQ(owners, 1);
}

TEST_F(StorageServiceTest, BadTypesAndNamesAreRefusedBeforeTouchingTheDisk) {
  expect_open_refused({"acme:billing:1", ".."}, BaseErrc::kInvalidArgument, "actor name");
  expect_open_refused({"../x:billing:1", "a"}, BaseErrc::kInvalidArgument, "manufacturer");
  expect_open_refused({"acme/x", "a"}, BaseErrc::kInvalidArgument, "native kind");
  expect_open_refused({"acme:x", "a"}, BaseErrc::kInvalidArgument, "neither");
  EXPECT_TRUE(fs::is_empty(root_.path()));
}

TEST_F(StorageServiceTest, SymlinksPlantedOnThePathAreRefused) {
  TempStorageRoot elsewhere;
  // The type directory, the actor directory, the database and its WAL as symlinks.
  fs::create_directory_symlink(elsewhere.path(), root_.path() + "/acme:t:1");
  expect_open_refused({"acme:t:1", "a"}, BaseErrc::kRefused, "acme:t:1 is a symlink");

  ASSERT_TRUE(fs::create_directory(root_.path() + "/acme:u:1"));
  fs::permissions(root_.path() + "/acme:u:1", fs::perms::owner_all);
  fs::create_directory_symlink(elsewhere.path(), actor_dir("acme:u:1", "a"));
  expect_open_refused({"acme:u:1", "a"}, BaseErrc::kRefused, "/a is a symlink");

  ASSERT_TRUE(service_->open_store({"acme:u:1", "b"}, 100).ok());  // made, then closed
  const std::string b = actor_dir("acme:u:1", "b");
  fs::remove(b + "/store.sqlite");
  std::ofstream(elsewhere.path() + "/victim") << "not the node's";
  fs::create_symlink(elsewhere.path() + "/victim", b + "/store.sqlite");
  expect_open_refused({"acme:u:1", "b"}, BaseErrc::kRefused, "store.sqlite is a symlink");

  fs::remove(b + "/store.sqlite");
  fs::create_symlink(elsewhere.path() + "/victim", b + "/store.sqlite-wal");
  expect_open_refused({"acme:u:1", "b"}, BaseErrc::kRefused, "store.sqlite-wal is a symlink");
  // A WAL left without its database: SQLite would replay it into the new one.
  fs::remove(b + "/store.sqlite-wal");
  fs::remove(b + "/store.sqlite");
  std::ofstream(b + "/store.sqlite-wal") << "stray frames";
  fs::permissions(b + "/store.sqlite-wal", fs::perms::owner_read | fs::perms::owner_write);
  expect_open_refused({"acme:u:1", "b"}, BaseErrc::kRefused, "left over without its database");
  expect_open_refused({"acme:u:1", "b"}, BaseErrc::kRefused, "left over without its database");
  // A hard link to someone's file in place of the database.
  fs::remove(b + "/store.sqlite-wal");
  fs::remove(b + "/store.sqlite");
  fs::permissions(elsewhere.path() + "/victim", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_hard_link(elsewhere.path() + "/victim", b + "/store.sqlite");
  expect_open_refused({"acme:u:1", "b"}, BaseErrc::kRefused, "2 hard links");
  // Nothing was written through any of them.
  std::ifstream victim(elsewhere.path() + "/victim");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(victim), {}), "not the node's");
}

TEST_F(StorageServiceTest, LooseModesAreRefused) {
  ASSERT_TRUE(service_->open_store({"acme:m:1", "a"}, 100).ok());
  const std::string dir = actor_dir("acme:m:1", "a");
  ASSERT_EQ(::chmod((dir + "/store.sqlite").c_str(), 0644), 0);
  expect_open_refused({"acme:m:1", "a"}, BaseErrc::kRefused, "mode 0644: it must be 0600");
  ASSERT_EQ(::chmod((dir + "/store.sqlite").c_str(), 0600), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
  expect_open_refused({"acme:m:1", "a"}, BaseErrc::kRefused, "mode 0750: it must be 0700");
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_TRUE(service_->open_store({"acme:m:1", "a"}, 100).ok());
}

TEST(StorageServiceRoot, MissingSymlinkedOrLooseRootIsRefused) {
  TempStorageRoot root;
  Result<std::unique_ptr<StorageService>> missing =
      StorageService::open(root.path() + "/missing", 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, BaseErrc::kNotFound);

  ASSERT_TRUE(fs::create_directory(root.path() + "/real"));
  fs::create_directory_symlink(root.path() + "/real", root.path() + "/link");
  for (const std::string& path : {root.path() + "/link", root.path() + "/link/"}) {
    Result<std::unique_ptr<StorageService>> linked = StorageService::open(path, 100);
    ASSERT_FALSE(linked.ok()) << path;
    EXPECT_EQ(linked.error().code, BaseErrc::kRefused);
    EXPECT_NE(linked.error().detail.find("is a symlink"), std::string::npos);
  }
  // A symlink further up the path, too.
  ASSERT_TRUE(fs::create_directory(root.path() + "/real/store"));
  Result<std::unique_ptr<StorageService>> above =
      StorageService::open(root.path() + "/link/store", 100);
  ASSERT_FALSE(above.ok());
  EXPECT_EQ(above.error().code, BaseErrc::kRefused);

  Result<std::unique_ptr<StorageService>> dotdot =
      StorageService::open(root.path() + "/real/../real", 100);
  ASSERT_FALSE(dotdot.ok());
  EXPECT_EQ(dotdot.error().code, BaseErrc::kInvalidArgument);

  ASSERT_EQ(::chmod((root.path() + "/real").c_str(), 0777), 0);
  Result<std::unique_ptr<StorageService>> loose = StorageService::open(root.path() + "/real", 100);
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.error().code, BaseErrc::kRefused);
  EXPECT_NE(loose.error().detail.find("group and others may not write"), std::string::npos);
  ASSERT_EQ(::chmod((root.path() + "/real").c_str(), 0755), 0);
  EXPECT_TRUE(StorageService::open(root.path() + "/real", 100).ok());
}

TEST(StorageServiceRoot, RootOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the root to nobody";
  TempStorageRoot root;
  ASSERT_EQ(::chown(root.path().c_str(), 65534, 65534), 0);
  Result<std::unique_ptr<StorageService>> service = StorageService::open(root.path(), 100);
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.error().code, BaseErrc::kRefused);
  EXPECT_NE(service.error().detail.find("belongs to another user (uid 65534)"), std::string::npos);
}

TEST_F(StorageServiceTest, DirectoryOrFileOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown to nobody";
  {
    Result<StoreLease> made = service_->open_store({"acme:o:1", "a"}, 100);
    ASSERT_TRUE(made.ok());
  }
  const std::string dir = actor_dir("acme:o:1", "a");
  ASSERT_EQ(::chown((dir + "/store.sqlite").c_str(), 65534, 65534), 0);
  expect_open_refused({"acme:o:1", "a"}, BaseErrc::kRefused, "belongs to another user");
  ASSERT_EQ(::chown((dir + "/store.sqlite").c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  expect_open_refused({"acme:o:1", "a"}, BaseErrc::kRefused, "belongs to another user");
}

// A real full disk: a small tmpfs (root only). A put that meets it fails with a clean `io`
// error and the committed data and counter stay intact. A handler that swallows the error and
// goes on cannot commit half a dispatch: after commit() the store holds either every write
// that reported success or none of them, and a restart sees the same.
TEST(StorageServiceFullDisk, FullDiskFailsCleanlyAndNeverCommitsHalfADispatch) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempStorageRoot mount_point;
  if (::mount("tmpfs", mount_point.path().c_str(), "tmpfs", 0, "size=256k,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mount_point.path()};
  constexpr std::uint64_t kQuota = std::uint64_t{1} << 30;
  const ActorStoreId id{"acme:full:1", "a"};
  std::vector<Bytes> expected = {"committed"};
  {
    Result<std::unique_ptr<StorageService>> service =
        StorageService::open(mount_point.path(), kQuota);
    ASSERT_TRUE(service.ok()) << service.error().to_string();
    Result<StoreLease> lease = (*service)->open_store(id, kQuota);
    ASSERT_TRUE(lease.ok()) << lease.error().to_string();
    ActorStore& store = lease->store();
    ASSERT_TRUE(store.put("committed", "safe").ok());
    const std::uint64_t committed_bytes = store.used_bytes();

    Result<DispatchTransaction> tx = DispatchTransaction::begin(store);
    ASSERT_TRUE(tx.ok());
    std::vector<Bytes> written;
    std::uint64_t written_bytes = 0;
    Result<void> failure;
    for (int i = 0; i < 400 && failure.ok(); ++i) {
      const Bytes key = "big" + std::to_string(i);
      failure = store.put(key, Bytes(16 << 10, static_cast<char>('a' + i % 26)));
      if (failure.ok()) {
        written.push_back(key);
        written_bytes += key.size() + (16 << 10);
      }
    }
    ASSERT_FALSE(failure.ok()) << "256 KiB took 6.4 MiB of puts";
    EXPECT_EQ(failure.error().code, BaseErrc::kIo) << failure.error().to_string();
    EXPECT_NE(failure.error().detail.find("full"), std::string::npos) << failure.error().detail;
    // The handler goes on as if nothing happened.
    if (store.put("after", "x").ok()) {
      written.push_back("after");
      written_bytes += 6;
    }
    Result<void> committed = tx->commit();
    if (committed.ok()) {
      expected.insert(expected.end(), written.begin(), written.end());
      EXPECT_EQ(store.used_bytes(), committed_bytes + written_bytes);
    } else {
      EXPECT_EQ(store.used_bytes(), committed_bytes);
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(*store.list_keys("", kMaxStoreListKeys), expected);
    EXPECT_EQ(store.get("committed")->value(), "safe");
  }
  // Reopened (a restart): the same state.
  Result<std::unique_ptr<StorageService>> service =
      StorageService::open(mount_point.path(), kQuota);
  ASSERT_TRUE(service.ok());
  Result<StoreLease> lease = (*service)->open_store(id, kQuota);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_EQ(lease->store().get("committed")->value(), "safe");
  EXPECT_EQ(*lease->store().list_keys("", kMaxStoreListKeys), expected);
}

}  // namespace
}  // namespace troupe
