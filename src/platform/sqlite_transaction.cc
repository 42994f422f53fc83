#include "troupe/platform/sqlite_transaction.h"

#include <utility>

namespace troupe {

Result<SqliteTransaction> SqliteTransaction::begin(SqliteConnection& db) {
  Result<void> begun = db.exec("BEGIN IMMEDIATE", "begin transaction");
  if (!begun.ok()) return begun.error();
  return SqliteTransaction(db);
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

SqliteTransaction::~SqliteTransaction() { rollback(); }

Result<void> SqliteTransaction::commit() {
  if (db_ == nullptr) return Error{BaseErrc::kInternal, "commit of a finished transaction"};
  Result<void> committed = db_->exec("COMMIT", "commit");
  if (!committed.ok()) {
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite may have rolled it
    // back already (a full disk): either way nothing of it is kept.
    rollback();
    return committed;
  }
  db_ = nullptr;
  return {};
}

void SqliteTransaction::rollback() {
  SqliteConnection* db = std::exchange(db_, nullptr);
  if (db == nullptr || !db->in_transaction()) return;
  // ROLLBACK only fails on a connection SQLite already gave up on; nothing more to undo then.
  (void)db->exec("ROLLBACK", "rollback");
}

}  // namespace troupe
