// SqliteTransaction: a transaction on one SqliteConnection that rolls back unless committed —
// the scope guard every multi-statement write uses, so an early return or an error leaves the
// database as it was.
//
// Threading and lifetime: those of the connection (one thread at a time); the transaction must
// end (commit, or destruction) before the connection is destroyed.
#pragma once

#include "troupe/base/result.h"
#include "troupe/platform/sqlite_connection.h"

namespace troupe {

class SqliteTransaction {
 public:
  // BEGIN IMMEDIATE: takes the write lock now, so a later write cannot fail with `busy` halfway.
  static Result<SqliteTransaction> begin(SqliteConnection& db);

  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();

  // On failure the transaction is rolled back (nothing of it is kept) and the error returned.
  Result<void> commit();
  // Idempotent; a no-op after commit.
  void rollback();
  bool active() const { return db_ != nullptr; }

 private:
  explicit SqliteTransaction(SqliteConnection& db) : db_(&db) {}
  SqliteConnection* db_;
};

}  // namespace troupe
