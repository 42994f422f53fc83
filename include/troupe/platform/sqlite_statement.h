// SqliteStatement: one prepared SQLite statement, finalized when the object goes. Bind, step
// until done, reset: a statement kept between uses must be reset (reset() or a completed step
// loop) so it holds no read transaction open.
//
// Threading and lifetime: those of the SqliteConnection it was prepared on (one thread at a
// time; destroy before the connection). Column views stay valid until the next step, reset
// or destruction.
#pragma once

#include <cstdint>
#include <string_view>

#include "troupe/base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace troupe {

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are 1-based, as in SQL. bind_blob does not copy (SQLITE_STATIC: puts of large
  // values stay one copy): the caller keeps the bytes alive until the statement is reset.
  Result<void> bind_blob(int index, std::string_view bytes);
  Result<void> bind_int64(int index, std::int64_t value);

  // One step: true when a row is ready, false when the statement is done. On an error the
  // statement is reset.
  Result<bool> step();
  // Steps a statement that returns no rows to completion, then resets it.
  Result<void> run();
  // Resets and clears bindings; never fails (a step's error was already reported).
  void reset();

  std::string_view column_blob(int index) const;
  std::int64_t column_int64(int index) const;
  bool column_is_null(int index) const;

 private:
  friend class SqliteConnection;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace troupe
