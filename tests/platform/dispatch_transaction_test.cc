#include "troupe/platform/dispatch_transaction.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "platform/temp_storage_root.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

class DispatchTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    Result<std::unique_ptr<ActorStore>> store = ActorStore::open(path_, 100);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(*store);
  }
  // The committed state: every key with its value, in order.
  std::vector<std::pair<Bytes, Bytes>> contents() {
    std::vector<std::pair<Bytes, Bytes>> out;
    Result<std::vector<Bytes>> keys = store_->list_keys("", kMaxStoreListKeys);
    EXPECT_TRUE(keys.ok());
    if (!keys.ok()) return out;
    for (const Bytes& key : *keys) {
      out.emplace_back(key, store_->get(key)->value());
    }
    return out;
  }

  TempStorageRoot root_;
  std::string path_ = root_.path() + "/store.sqlite";
  std::unique_ptr<ActorStore> store_;
};

TEST_F(DispatchTransactionTest, CommitKeepsEveryWriteAndReadsSeeThemBefore) {
  ASSERT_TRUE(store_->put("old", "1").ok());
  {
    Result<DispatchTransaction> tx = DispatchTransaction::begin(*store_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(store_->put("a", "x").ok());
    ASSERT_TRUE(store_->put("b", "y").ok());
    ASSERT_TRUE(*store_->remove("old"));
    EXPECT_EQ(store_->get("a")->value(), "x");
    EXPECT_FALSE(store_->get("old")->has_value());
    EXPECT_EQ(*store_->list_keys("", 10), (std::vector<Bytes>{"a", "b"}));
    ASSERT_TRUE(tx->commit().ok());
  }
  reopen();
  EXPECT_EQ(contents(), (std::vector<std::pair<Bytes, Bytes>>{{"a", "x"}, {"b", "y"}}));
  EXPECT_EQ(store_->used_bytes(), 4u);
}

// A handler that fails or traps: its transaction goes without a commit.
TEST_F(DispatchTransactionTest, RollbackLeavesExactlyTheCommittedStateQuotaIncluded) {
  ASSERT_TRUE(store_->put("keep", Bytes(46, 'k')).ok());  // 50 of 100
  const auto before = contents();
  {
    Result<DispatchTransaction> tx = DispatchTransaction::begin(*store_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(*store_->remove("keep"));                  // frees 50...
    ASSERT_TRUE(store_->put("new", Bytes(97, 'n')).ok());  // ...which this uses: 100
    EXPECT_EQ(store_->used_bytes(), 100u);
  }  // trap: no commit
  EXPECT_EQ(contents(), before);
  EXPECT_EQ(store_->used_bytes(), 50u);
  // The counter is the committed one: 50 more fit, 51 do not.
  EXPECT_EQ(store_->put("x", Bytes(50, 'x')).error().code, PlatformErrc::kQuotaExceeded);
  ASSERT_TRUE(store_->put("x", Bytes(49, 'x')).ok());
  reopen();
  EXPECT_EQ(store_->used_bytes(), 100u);
  EXPECT_FALSE(store_->get("new")->has_value());
}

TEST_F(DispatchTransactionTest, ExplicitRollbackAndAFailedPutInsideADispatch) {
  Result<DispatchTransaction> tx = DispatchTransaction::begin(*store_);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(store_->put("a", Bytes(50, 'a')).ok());
  // A put past the quota inside the dispatch writes nothing and leaves the dispatch usable.
  EXPECT_EQ(store_->put("b", Bytes(50, 'b')).error().code, PlatformErrc::kQuotaExceeded);
  EXPECT_FALSE(store_->get("b")->has_value());
  EXPECT_EQ(store_->used_bytes(), 51u);
  tx->rollback();
  tx->rollback();  // idempotent
  EXPECT_TRUE(contents().empty());
  EXPECT_EQ(store_->used_bytes(), 0u);
  // The next dispatch starts clean and commits.
  Result<DispatchTransaction> next = DispatchTransaction::begin(*store_);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(store_->put("c", "1").ok());
  ASSERT_TRUE(next->commit().ok());
  EXPECT_EQ(next->commit().error().code, BaseErrc::kInternal);  // one commit only
  reopen();
  EXPECT_EQ(contents(), (std::vector<std::pair<Bytes, Bytes>>{{"c", "1"}}));
}

TEST_F(DispatchTransactionTest, OneOpenDispatchPerStore) {
  Result<DispatchTransaction> tx = DispatchTransaction::begin(*store_);
  ASSERT_TRUE(tx.ok());
  Result<DispatchTransaction> second = DispatchTransaction::begin(*store_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, BaseErrc::kInternal);
  ASSERT_TRUE(store_->put("a", "1").ok());
  ASSERT_TRUE(tx->commit().ok());
  EXPECT_EQ(store_->get("a")->value(), "1");
}

TEST_F(DispatchTransactionTest, DispatchWithoutWritesCommitsNothing) {
  ASSERT_TRUE(store_->put("a", "1").ok());
  Result<DispatchTransaction> tx = DispatchTransaction::begin(*store_);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(store_->get("a")->value(), "1");
  ASSERT_TRUE(tx->commit().ok());
  EXPECT_EQ(store_->used_bytes(), 2u);
}

// A process that dies mid-dispatch (a crash, a kill) leaves only what was committed: the next
// open sees the dispatches that committed and none of the one that did not.
TEST_F(DispatchTransactionTest, CrashRestartSeesExactlyTheCommittedState) {
  ASSERT_TRUE(store_->put("a", "1").ok());
  store_.reset();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<ActorStore>> store = ActorStore::open(path_, 100);
    if (!store.ok()) ::_exit(2);
    {
      Result<DispatchTransaction> tx = DispatchTransaction::begin(**store);
      if (!tx.ok() || !(*store)->put("b", "2").ok() || !tx->commit().ok()) ::_exit(3);
    }
    Result<DispatchTransaction> tx = DispatchTransaction::begin(**store);
    if (!tx.ok() || !(*store)->put("c", "3").ok() || !(*store)->remove("a").ok()) ::_exit(4);
    ::_exit(0);  // dies mid-dispatch: no commit, no rollback, no close
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  reopen();
  EXPECT_EQ(contents(), (std::vector<std::pair<Bytes, Bytes>>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(store_->used_bytes(), 4u);
}

// One large dispatch grows the WAL past the 4 MiB limit; after the checkpoint it is cut back.
TEST_F(DispatchTransactionTest, WalShrinksBackAfterALargeDispatch) {
  store_.reset();
  Result<std::unique_ptr<ActorStore>> opened = ActorStore::open(path_, std::uint64_t{64} << 20);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  store_ = std::move(*opened);
  {
    Result<DispatchTransaction> tx = DispatchTransaction::begin(*store_);
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(store_->put("big" + std::to_string(i), Bytes(kMaxStoreValueBytes, 'x')).ok());
    }
    ASSERT_TRUE(tx->commit().ok());
  }
  ASSERT_TRUE(store_->put("small", "1").ok());
  struct stat st {};
  ASSERT_EQ(::stat((path_ + "-wal").c_str(), &st), 0);
  EXPECT_LE(st.st_size, 4 << 20);
  EXPECT_EQ(store_->used_bytes(), 8 * (4 + kMaxStoreValueBytes) + 6);
}

}  // namespace
}  // namespace troupe
