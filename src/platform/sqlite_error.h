// sqlite_error: turns a SQLite result code into a typed Error with a one-line detail, the one
// place the platform maps SQLite's codes to troupe's (internal to src/platform). Pure functions
// over a connection's last error; call them on the thread that made the failing call, before
// the next call on that connection (SQLite keeps one last message per connection).
#pragma once

#include <sqlite3.h>

#include <string_view>

#include "troupe/base/error.h"

namespace troupe {

// `what` says what was being done ("open store", "put"). `db` may be null (the message then
// comes from the code alone). The mapping:
//   SQLITE_CORRUPT, SQLITE_NOTADB          -> malformed (platform): the file is not a sound store
//   SQLITE_FULL                             -> io, "... database or disk is full"
//   SQLITE_BUSY, SQLITE_LOCKED              -> unavailable (another process holds the store)
//   SQLITE_TOOBIG                           -> too-large
//   SQLITE_CANTOPEN_SYMLINK                 -> refused (a symlink on the database's path)
//   SQLITE_NOMEM                            -> unavailable
//   IOERR, CANTOPEN, READONLY, PERM, AUTH   -> io
//   anything else (SQL, misuse, constraint) -> internal: a bug in troupe's own statements
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

}  // namespace troupe
