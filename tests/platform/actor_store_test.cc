#include "troupe/platform/actor_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "platform/temp_storage_root.h"
#include "troupe/platform/dispatch_transaction.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

class ActorStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ActorStore> open(std::uint64_t quota = 1 << 20) {
    Result<std::unique_ptr<ActorStore>> store = ActorStore::open(path_, quota);
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    return store.ok() ? std::move(*store) : nullptr;
  }

  TempStorageRoot root_;
  std::string path_ = root_.path() + "/store.sqlite";
};

TEST_F(ActorStoreTest, GetPutRemove) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Result<std::optional<Bytes>> missing = store->get("k");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store->put("k", "v1").ok());
  EXPECT_EQ(store->get("k")->value(), "v1");
  ASSERT_TRUE(store->put("k", "second").ok());
  EXPECT_EQ(store->get("k")->value(), "second");
  // Any bytes, NUL included; an empty value is a value, not an absence.
  const Bytes binary("\0\xff\x01", 3);
  ASSERT_TRUE(store->put(binary, binary).ok());
  EXPECT_EQ(store->get(binary)->value(), binary);
  ASSERT_TRUE(store->put("empty", "").ok());
  ASSERT_TRUE(store->get("empty")->has_value());
  EXPECT_EQ(store->get("empty")->value(), "");

  Result<bool> removed = store->remove("k");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(store->get("k")->has_value());
  removed = store->remove("k");
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(*removed);
}

TEST_F(ActorStoreTest, ListKeysInByteOrderWithPrefixAndLimit) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (const char* key : {"b", "a/2", "a/10", "a/1", "a", "a0", "ab", "c"}) {
    ASSERT_TRUE(store->put(key, "x").ok());
  }
  ASSERT_TRUE(store->put(Bytes("a\xff", 2), "x").ok());
  ASSERT_TRUE(store->put(Bytes("a\xff\xff", 3), "x").ok());
  ASSERT_TRUE(store->put(Bytes("\xff", 1), "x").ok());

  using Keys = std::vector<Bytes>;
  EXPECT_EQ(*store->list_keys("a/", 100), (Keys{"a/1", "a/10", "a/2"}));
  EXPECT_EQ(*store->list_keys("a/", 2), (Keys{"a/1", "a/10"}));
  EXPECT_EQ(*store->list_keys("a", 100), (Keys{"a", "a/1", "a/10", "a/2", "a0", "ab",
                                               Bytes("a\xff", 2), Bytes("a\xff\xff", 3)}));
  // A prefix ending in 0xff has no simple upper bound: still only keys that start with it.
  EXPECT_EQ(*store->list_keys(Bytes("a\xff", 2), 100),
            (Keys{Bytes("a\xff", 2), Bytes("a\xff\xff", 3)}));
  EXPECT_EQ(*store->list_keys(Bytes("\xff", 1), 100), (Keys{Bytes("\xff", 1)}));
  EXPECT_EQ(store->list_keys("", 100)->size(), 11u);
  EXPECT_EQ(*store->list_keys("", 3), (Keys{"a", "a/1", "a/10"}));
  EXPECT_TRUE(store->list_keys("", 0)->empty());
  EXPECT_TRUE(store->list_keys("zz", 10)->empty());
}

TEST_F(ActorStoreTest, CapsRefuseAndChangeNothing) {
  auto store = open(std::uint64_t{8} << 20);
  ASSERT_NE(store, nullptr);
  const Bytes max_key(kMaxStoreKeyBytes, 'k');
  const Bytes max_value(kMaxStoreValueBytes, 'v');
  ASSERT_TRUE(store->put(max_key, max_value).ok());
  EXPECT_EQ(store->get(max_key)->value(), max_value);

  Result<void> long_key = store->put(max_key + "k", "v");
  ASSERT_FALSE(long_key.ok());
  EXPECT_EQ(long_key.error().code, BaseErrc::kTooLarge);
  EXPECT_NE(long_key.error().detail.find("key is 1025 bytes (at most 1024)"), std::string::npos);
  Result<void> big_value = store->put("k", max_value + "v");
  ASSERT_FALSE(big_value.ok());
  EXPECT_EQ(big_value.error().code, BaseErrc::kTooLarge);
  Result<void> empty_key = store->put("", "v");
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.error().code, BaseErrc::kInvalidArgument);
  EXPECT_EQ(store->get(max_key + "k").error().code, BaseErrc::kTooLarge);
  EXPECT_EQ(store->remove(max_key + "k").error().code, BaseErrc::kTooLarge);
  EXPECT_EQ(store->list_keys(max_key + "k", 1).error().code, BaseErrc::kTooLarge);
  Result<std::vector<Bytes>> over = store->list_keys("", kMaxStoreListKeys + 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, BaseErrc::kTooLarge);
  EXPECT_TRUE(store->list_keys("", kMaxStoreListKeys).ok());

  EXPECT_FALSE(store->get("k")->has_value());
  EXPECT_EQ(store->used_bytes(), max_key.size() + max_value.size());
}

TEST_F(ActorStoreTest, QuotaCountsKeyAndValueBytesToTheExactBoundary) {
  auto store = open(100);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->put("k1", Bytes(48, 'a')).ok());  // 50
  EXPECT_EQ(store->used_bytes(), 50u);
  ASSERT_TRUE(store->put("k2", Bytes(48, 'b')).ok());  // 100: exactly the quota
  EXPECT_EQ(store->used_bytes(), 100u);

  Result<void> over = store->put("k3", "");  // 102
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, PlatformErrc::kQuotaExceeded);
  EXPECT_EQ(ErrorCode(over.error().code).name(), "quota-exceeded");
  EXPECT_NE(over.error().detail.find("102 bytes, over its quota of 100"), std::string::npos)
      << over.error().detail;
  EXPECT_FALSE(store->get("k3")->has_value());
  // Growing an existing entry past the quota: refused, the old value stays.
  Result<void> grow = store->put("k1", Bytes(49, 'c'));
  ASSERT_FALSE(grow.ok());
  EXPECT_EQ(grow.error().code, PlatformErrc::kQuotaExceeded);
  EXPECT_EQ(store->get("k1")->value(), Bytes(48, 'a'));
  EXPECT_EQ(store->used_bytes(), 100u);
  // Replacing with a value of the same or smaller size is fine; a delete frees.
  ASSERT_TRUE(store->put("k1", Bytes(40, 'd')).ok());
  EXPECT_EQ(store->used_bytes(), 92u);
  ASSERT_TRUE(*store->remove("k2"));
  EXPECT_EQ(store->used_bytes(), 42u);
  ASSERT_TRUE(store->put("k3", Bytes(56, 'e')).ok());
  EXPECT_EQ(store->used_bytes(), 100u);
}

// The quota counts key and value bytes; SQLite spends tens of bytes more on each entry. A guest
// filling its quota with tiny entries must not write many times its quota to disk: the file is
// capped (store_file_cap_bytes), the write that reaches the cap fails quota-exceeded and is
// rolled back whole, and the store stays usable.
TEST_F(ActorStoreTest, TinyEntriesCannotGrowTheFilePastItsCap) {
  constexpr std::uint64_t kQuota = 1 << 20;
  auto store = open(kQuota);
  ASSERT_NE(store, nullptr);
  std::uint32_t next = 0;
  Result<void> failed;
  bool capped = false;
  // Batches of 5,000 three-byte keys, one transaction each, until a batch hits the cap.
  for (int batch = 0; batch < 200 && !capped; ++batch) {
    auto tx = DispatchTransaction::begin(*store);
    ASSERT_TRUE(tx.ok()) << tx.error().to_string();
    for (int i = 0; i < 5000; ++i, ++next) {
      const char key[3] = {static_cast<char>(next >> 16), static_cast<char>(next >> 8),
                           static_cast<char>(next)};
      failed = store->put(std::string_view(key, 3), "");
      if (!failed.ok()) {
        capped = true;
        break;
      }
    }
    if (capped) {
      tx->rollback();
    } else {
      ASSERT_TRUE(tx->commit().ok());
    }
  }
  ASSERT_TRUE(capped) << "no cap reached after " << next << " entries";
  EXPECT_EQ(failed.error().code, PlatformErrc::kQuotaExceeded) << failed.error().to_string();
  EXPECT_NE(failed.error().detail.find("cap of"), std::string::npos) << failed.error().detail;
  EXPECT_LT(store->used_bytes(), kQuota) << "the cap, not the quota, stopped it";
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_LE(static_cast<std::uint64_t>(st.st_size), store_file_cap_bytes(kQuota));
  // Usable after: a delete frees, a put of a fresh key fits again, a reopen counts the same.
  const std::uint64_t used = store->used_bytes();
  ASSERT_TRUE(*store->remove(std::string_view("\0\0\0", 3)));
  ASSERT_TRUE(store->put("new", "").ok());
  EXPECT_EQ(store->used_bytes(), used);
  store.reset();
  store = open(kQuota);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->used_bytes(), used);
}

TEST_F(ActorStoreTest, DataAndQuotaCountSurviveReopen) {
  {
    auto store = open(1000);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put("a", "1234").ok());
    ASSERT_TRUE(store->put("b", "56").ok());
    ASSERT_TRUE(store->put("a", "12").ok());
    ASSERT_TRUE(store->put("gone", "x").ok());
    ASSERT_TRUE(*store->remove("gone"));
    EXPECT_EQ(store->used_bytes(), 6u);
  }
  auto store = open(7);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->used_bytes(), 6u);
  EXPECT_EQ(store->get("a")->value(), "12");
  EXPECT_EQ(store->get("b")->value(), "56");
  EXPECT_FALSE(store->get("gone")->has_value());
  // The recount is what the quota checks against.
  EXPECT_EQ(store->put("c", "1").error().code, PlatformErrc::kQuotaExceeded);
  ASSERT_TRUE(store->put("c", "").ok());
}

TEST_F(ActorStoreTest, QuotaLoweredBelowTheDataKeepsItAndAllowsDeletes) {
  {
    auto store = open(100);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put("k", Bytes(50, 'a')).ok());
  }
  auto store = open(10);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("k")->value(), Bytes(50, 'a'));
  EXPECT_EQ(store->put("k", Bytes(20, 'a')).error().code, PlatformErrc::kQuotaExceeded);
  ASSERT_TRUE(*store->remove("k"));
  ASSERT_TRUE(store->put("k", Bytes(9, 'a')).ok());
}

TEST_F(ActorStoreTest, SecondConnectionIsRefusedNotShared) {
  auto first = open();
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<ActorStore>> second = ActorStore::open(path_, 100);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, BaseErrc::kUnavailable) << second.error().to_string();
  // No -shm file: the WAL index of an exclusive connection lives in memory.
  EXPECT_NE(::access((path_ + "-shm").c_str(), F_OK), 0);
}

// Overwrites `bytes` at `offset` of the file.
void scribble(const std::string& path, off_t offset, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), offset), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

TEST_F(ActorStoreTest, GarbageFileIsACleanMalformedError) {
  scribble(path_, 0, std::string(4096, 'x'));
  Result<std::unique_ptr<ActorStore>> store = ActorStore::open(path_, 100);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, PlatformErrc::kMalformed) << store.error().to_string();
  EXPECT_NE(store.error().detail.find(path_), std::string::npos) << store.error().detail;
  EXPECT_EQ(store.error().detail.find('\n'), std::string::npos);
}

TEST_F(ActorStoreTest, CorruptedTablePagesAreACleanError) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(store->put("key" + std::to_string(i), Bytes(100, 'v')).ok());
    }
  }  // closing checkpoints the WAL into the database file
  // Wreck every page after the schema page: the table's b-tree.
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  ASSERT_GT(st.st_size, 4096 * 3);
  for (off_t page = 4096; page + 4096 <= st.st_size; page += 4096) {
    scribble(path_, page, std::string(4096, '\x5a'));
  }
  Result<std::unique_ptr<ActorStore>> store = ActorStore::open(path_, 1 << 20);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, PlatformErrc::kMalformed) << store.error().to_string();
}

// A damaged value the byte recount does not read (its overflow pages): the store opens, and the
// read that meets the damage fails `malformed` instead of returning garbage.
TEST_F(ActorStoreTest, DamagedValueFailsTheReadThatMeetsIt) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put("big", Bytes(200 << 10, 'v')).ok());
    ASSERT_TRUE(store->put("small", "ok").ok());
  }
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  // Page 1 is the schema, page 2 the table, page 3 the key index; the value's overflow chain
  // follows.
  for (off_t page = off_t{3} * 4096; page + 4096 <= st.st_size; page += 4096) {
    scribble(path_, page, std::string(4096, '\xff'));
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  Result<std::optional<Bytes>> small = store->get("small");
  ASSERT_TRUE(small.ok()) << small.error().to_string();
  EXPECT_EQ(small->value(), "ok");
  Result<std::optional<Bytes>> big = store->get("big");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, PlatformErrc::kMalformed) << big.error().to_string();
}

}  // namespace
}  // namespace troupe
