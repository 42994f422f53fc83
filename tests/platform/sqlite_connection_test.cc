#include "troupe/platform/sqlite_connection.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "platform/temp_storage_root.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/sqlite_transaction.h"

namespace troupe {
namespace {

class SqliteConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<SqliteConnection> db = SqliteConnection::open(path_, /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_.emplace(std::move(*db));
    ASSERT_TRUE(db_->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)", "create").ok());
  }
  std::int64_t count() {
    Result<SqliteStatement> s = db_->prepare("SELECT count(*) FROM t");
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(*s->step());
    return s->column_int64(0);
  }

  TempStorageRoot root_;
  std::string path_ = root_.path() + "/db.sqlite";
  std::optional<SqliteConnection> db_;
};

TEST_F(SqliteConnectionTest, StatementsBindStepAndReset) {
  Result<SqliteStatement> insert = db_->prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
  ASSERT_TRUE(insert.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(insert->bind_int64(1, i).ok());
    const std::string value(i, 'x');  // bound without a copy: alive until the run
    ASSERT_TRUE(insert->bind_blob(2, value).ok());
    ASSERT_TRUE(insert->run().ok());
  }
  Result<SqliteStatement> select = db_->prepare("SELECT v FROM t WHERE k = ?1");
  ASSERT_TRUE(select.ok());
  ASSERT_TRUE(select->bind_int64(1, 2).ok());
  ASSERT_TRUE(*select->step());
  EXPECT_EQ(select->column_blob(0), "xx");
  EXPECT_FALSE(*select->step());
  select->reset();
  // A zero-length blob is a blob, not NULL.
  ASSERT_TRUE(select->bind_int64(1, 0).ok());
  ASSERT_TRUE(*select->step());
  EXPECT_FALSE(select->column_is_null(0));
  EXPECT_EQ(select->column_blob(0), "");
}

TEST_F(SqliteConnectionTest, ErrorsAreTypedOneLineAndSayWhat) {
  Result<SqliteStatement> bad = db_->prepare("SELECT x FROM nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, BaseErrc::kInternal);
  EXPECT_NE(bad.error().detail.find("no such table: nowhere"), std::string::npos)
      << bad.error().detail;

  Result<SqliteStatement> insert = db_->prepare("INSERT INTO t (k, v) VALUES (1, NULL)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE(insert->run().ok());
  Result<void> duplicate = insert->run();
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, BaseErrc::kInternal);
  EXPECT_NE(duplicate.error().detail.find("UNIQUE constraint failed"), std::string::npos);

  Result<SqliteConnection> missing = SqliteConnection::open(root_.path() + "/no/such/db", true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, BaseErrc::kIo);
  EXPECT_NE(missing.error().detail.find("open " + root_.path() + "/no/such/db"), std::string::npos);

  const std::string garbage = root_.path() + "/garbage";
  std::ofstream(garbage) << std::string(4096, 'g');
  Result<SqliteConnection> not_a_db = SqliteConnection::open(garbage, false);
  ASSERT_TRUE(not_a_db.ok());  // SQLite reads the file lazily
  Result<void> read = not_a_db->exec("SELECT * FROM sqlite_schema", "read schema");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, PlatformErrc::kMalformed);
  EXPECT_EQ(read.error().detail.rfind("read schema: file is not a database", 0), 0u)
      << read.error().detail;
  EXPECT_EQ(read.error().detail.find('\n'), std::string::npos);
}

TEST_F(SqliteConnectionTest, SymlinkedDatabaseIsRefused) {
  const std::string link = root_.path() + "/link.sqlite";
  ASSERT_EQ(::symlink(path_.c_str(), link.c_str()), 0);
  Result<SqliteConnection> linked = SqliteConnection::open(link, false);
  ASSERT_FALSE(linked.ok());
  EXPECT_EQ(linked.error().code, BaseErrc::kRefused) << linked.error().to_string();
}

TEST_F(SqliteConnectionTest, TransactionRollsBackUnlessCommitted) {
  {
    Result<SqliteTransaction> tx = SqliteTransaction::begin(*db_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db_->exec("INSERT INTO t (k) VALUES (1)", "insert").ok());
    EXPECT_TRUE(db_->in_transaction());
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(count(), 0);
  {
    Result<SqliteTransaction> tx = SqliteTransaction::begin(*db_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db_->exec("INSERT INTO t (k) VALUES (2)", "insert").ok());
    ASSERT_TRUE(tx->commit().ok());
    EXPECT_FALSE(tx->active());
    EXPECT_EQ(tx->commit().error().code, BaseErrc::kInternal);
  }
  EXPECT_EQ(count(), 1);
  // A second BEGIN inside an open transaction is SQLite's error, typed.
  Result<SqliteTransaction> outer = SqliteTransaction::begin(*db_);
  ASSERT_TRUE(outer.ok());
  Result<SqliteTransaction> inner = SqliteTransaction::begin(*db_);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().code, BaseErrc::kInternal);
  EXPECT_TRUE(db_->in_transaction());  // the outer one is untouched
}

}  // namespace
}  // namespace troupe
