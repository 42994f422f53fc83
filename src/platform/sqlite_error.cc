#include "sqlite_error.h"

#include <string>

#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

ErrorCode code_for(int rc) {
  if (rc == SQLITE_CANTOPEN_SYMLINK) return BaseErrc::kRefused;
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return PlatformErrc::kMalformed;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return BaseErrc::kIo;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
      return BaseErrc::kUnavailable;
    case SQLITE_TOOBIG:
      return BaseErrc::kTooLarge;
    default:
      return BaseErrc::kInternal;
  }
}

}  // namespace

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  // The connection's message is more specific ("no such table: kv") but only when it belongs to
  // this code: SQLite keeps the last error of the connection.
  const char* message = (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                              : sqlite3_errstr(rc);
  std::string detail(what);
  detail += ": ";
  detail += message != nullptr ? message : "unknown error";
  detail += " (sqlite " + std::to_string(rc) + ")";
  // One line, whatever SQLite wrote.
  for (char& c : detail) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return Error{code_for(rc), std::move(detail)};
}

}  // namespace troupe
