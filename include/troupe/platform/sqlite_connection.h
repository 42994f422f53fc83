// SqliteConnection: one open SQLite database handle (SQLite's C API), closed when the object
// goes. Every failure is a typed Error (sqlite_error mapping: corrupt files are `malformed`,
// I/O and a full disk are `io`, a store locked by another process is `unavailable`).
//
// Threading: opened in SQLite's multi-thread mode (SQLITE_OPEN_NOMUTEX): a connection and its
// statements must be used by one thread at a time; handing it to another thread needs a
// happens-before edge (the runtime's scheduler provides one between two activations of an
// actor). Lifetime: statements prepared on a connection must be destroyed before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "troupe/base/result.h"
#include "troupe/platform/sqlite_statement.h"

struct sqlite3;

namespace troupe {

class SqliteConnection {
 public:
  // Opens (creating if `create`) the database file at `path`. SQLite refuses a symlink as the
  // final component (SQLITE_OPEN_NOFOLLOW); callers check the directories themselves.
  static Result<SqliteConnection> open(const std::string& path, bool create);

  SqliteConnection(SqliteConnection&& other) noexcept;
  SqliteConnection& operator=(SqliteConnection&& other) noexcept;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;
  ~SqliteConnection();

  // Runs SQL that returns no rows the caller needs (pragmas, DDL, BEGIN/COMMIT).
  Result<void> exec(const char* sql, std::string_view what);
  Result<SqliteStatement> prepare(std::string_view sql);
  // Whether a transaction is open (false after SQLite rolled one back on its own, e.g. on a
  // full disk).
  bool in_transaction() const;

  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace troupe
