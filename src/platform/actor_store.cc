#include "troupe/platform/actor_store.h"

#include <sqlite3.h>

#include <utility>

#include "sqlite_error.h"
#include "troupe/platform/platform_error.h"

namespace troupe {
namespace {

Result<void> check_key(BytesView key, std::string_view what) {
  if (key.empty()) return Error{BaseErrc::kInvalidArgument, std::string(what) + " is empty"};
  if (key.size() > kMaxStoreKeyBytes) {
    return Error{BaseErrc::kTooLarge, std::string(what) + " is " + std::to_string(key.size()) +
                                          " bytes (at most " + std::to_string(kMaxStoreKeyBytes) +
                                          ")"};
  }
  return {};
}

// The smallest byte string greater than every string starting with `prefix`, or nullopt when
// there is none (an empty prefix, or one of only 0xff bytes): the exclusive upper bound of a
// prefix scan, so the scan uses the primary key's order instead of filtering every row.
std::optional<Bytes> prefix_upper_bound(BytesView prefix) {
  Bytes upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (upper.empty()) return std::nullopt;
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return upper;
}

}  // namespace

struct ActorStore::Statements {
  SqliteStatement get;
  SqliteStatement entry_bytes;
  SqliteStatement put;
  SqliteStatement remove;
  SqliteStatement list_bounded;
  SqliteStatement list_open;
};

ActorStore::ActorStore(std::string path, std::uint64_t quota_bytes, SqliteConnection db)
    : path_(std::move(path)), quota_bytes_(quota_bytes), db_(std::move(db)) {}

ActorStore::~ActorStore() {
  // Statements go before the connection; an open dispatch (a caller's bug) is rolled back.
  dispatch_tx_.reset();
  statements_.reset();
}

Result<std::unique_ptr<ActorStore>> ActorStore::open(const std::string& path,
                                                     std::uint64_t quota_bytes) {
  Result<SqliteConnection> db = SqliteConnection::open(path, /*create=*/true);
  if (!db.ok()) return db.error();
  std::unique_ptr<ActorStore> store(new ActorStore(path, quota_bytes, std::move(*db)));
  SqliteConnection& c = store->db_;
  const std::string what = "open store " + path;

  // Defensive mode: the database file cannot be used to corrupt itself through SQL (writable
  // schema, direct page writes), and schema objects run no functions with side effects.
  sqlite3_db_config(c.handle(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(c.handle(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  // Exclusive before WAL: the WAL index then lives in heap memory and the lock is held for the
  // connection's life, so no other connection shares the store.
  if (Result<void> ok = c.exec("PRAGMA locking_mode=EXCLUSIVE", what); !ok.ok()) return ok.error();
  {
    Result<SqliteStatement> wal = c.prepare("PRAGMA journal_mode=WAL");
    if (!wal.ok()) return Error{wal.error().code, what + ": " + wal.error().detail};
    Result<bool> row = wal->step();
    if (!row.ok()) return Error{row.error().code, what + ": " + row.error().detail};
    if (!*row || wal->column_blob(0) != "wal") {
      return Error{BaseErrc::kIo, what + ": SQLite did not switch the store to WAL mode"};
    }
  }
  // The WAL is checkpointed at 1000 pages (SQLite's default) but keeps the size of the largest
  // transaction it held; the limit truncates it back, so a dispatch that once wrote a quota's
  // worth does not keep that much disk for the rest of the actor's life.
  if (Result<void> ok = c.exec("PRAGMA synchronous=FULL; PRAGMA cell_size_check=ON; "
                               "PRAGMA journal_size_limit=4194304",
                               what);
      !ok.ok()) {
    return ok.error();
  }
  // The file's backstop: the quota counts key and value bytes only, and many tiny entries cost
  // SQLite tens of bytes each (cell, rowid, index entry), so a guest filling its quota with
  // one-byte keys would write ~30 times its quota to disk. The database may not grow past
  // store_file_cap_bytes: a write that would fails (quota-exceeded) and is rolled back.
  {
    Result<SqliteStatement> size = c.prepare("PRAGMA page_size");
    if (!size.ok()) return Error{size.error().code, what + ": " + size.error().detail};
    Result<bool> row = size->step();
    if (!row.ok()) return Error{row.error().code, what + ": " + row.error().detail};
    const std::int64_t page = *row ? size->column_int64(0) : 0;
    if (page <= 0) return Error{BaseErrc::kInternal, what + ": no page size"};
    const std::uint64_t pages =
        store_file_cap_bytes(quota_bytes) / static_cast<std::uint64_t>(page);
    const std::string sql = "PRAGMA max_page_count=" + std::to_string(pages);
    if (Result<void> ok = c.exec(sql.c_str(), what); !ok.ok()) return ok.error();
  }
  // A rowid table with a unique index on the key, not WITHOUT ROWID: there a lookup compares
  // against whole cells, reading a large neighbour's overflow pages (up to a 1 MiB value) for
  // every get; here the index holds only keys and a value's pages are read when it is asked for.
  if (Result<void> ok = c.exec(
          "CREATE TABLE IF NOT EXISTS kv (key BLOB NOT NULL UNIQUE, value BLOB NOT NULL)", what);
      !ok.ok()) {
    return ok.error();
  }

  auto prepare = [&c](std::string_view sql) { return c.prepare(sql); };
  Result<SqliteStatement> get = prepare("SELECT value FROM kv WHERE key = ?1");
  Result<SqliteStatement> entry_bytes =
      prepare("SELECT length(key) + length(value) FROM kv WHERE key = ?1");
  Result<SqliteStatement> put = prepare(
      "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value");
  Result<SqliteStatement> remove = prepare("DELETE FROM kv WHERE key = ?1");
  Result<SqliteStatement> list_bounded =
      prepare("SELECT key FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3");
  Result<SqliteStatement> list_open =
      prepare("SELECT key FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?3");
  for (const auto* s : {&get, &entry_bytes, &put, &remove, &list_bounded, &list_open}) {
    if (!s->ok()) return Error{s->error().code, what + ": " + s->error().detail};
  }
  store->statements_ = std::make_unique<Statements>(
      Statements{std::move(*get), std::move(*entry_bytes), std::move(*put), std::move(*remove),
                 std::move(*list_bounded), std::move(*list_open)});

  // The quota counter, recounted from the committed table: exact whatever happened before
  // (a crash between a write and its bookkeeping cannot exist — there is no bookkeeping).
  Result<SqliteStatement> sum =
      c.prepare("SELECT coalesce(sum(length(key) + length(value)), 0) FROM kv");
  if (!sum.ok()) return Error{sum.error().code, what + ": " + sum.error().detail};
  Result<bool> row = sum->step();
  if (!row.ok()) return Error{row.error().code, what + ": " + row.error().detail};
  if (!*row) return Error{BaseErrc::kInternal, what + ": no row from the byte count"};
  store->used_bytes_ = static_cast<std::uint64_t>(sum->column_int64(0));
  return store;
}

std::uint64_t store_file_cap_bytes(std::uint64_t quota_bytes) {
  return 4 * quota_bytes + (std::uint64_t{4} << 20);
}

bool ActorStore::file_at_cap() {
  Result<SqliteStatement> count = db_.prepare("PRAGMA page_count");
  Result<SqliteStatement> max = db_.prepare("PRAGMA max_page_count");
  if (!count.ok() || !max.ok()) return false;
  Result<bool> a = count->step();
  Result<bool> b = max->step();
  if (!a.ok() || !b.ok() || !*a || !*b) return false;
  // A write that failed on the cap stops a few pages short of it.
  return count->column_int64(0) + 64 >= max->column_int64(0);
}

Result<std::optional<Bytes>> ActorStore::get(BytesView key) {
  if (Result<void> ok = check_key(key, "key"); !ok.ok()) return ok.error();
  if (dispatch_broken_) {
    return Error{BaseErrc::kUnavailable, "this dispatch's storage transaction was rolled back"};
  }
  SqliteStatement& s = statements_->get;
  if (Result<void> ok = s.bind_blob(1, key); !ok.ok()) return ok.error();
  Result<bool> row = s.step();
  if (!row.ok()) {
    note_failure();
    return row.error();
  }
  std::optional<Bytes> value;
  if (*row) value = Bytes(s.column_blob(0));
  s.reset();
  return value;
}

Result<void> ActorStore::put(BytesView key, BytesView value) {
  if (Result<void> ok = check_key(key, "key"); !ok.ok()) return ok;
  if (value.size() > kMaxStoreValueBytes) {
    return Error{BaseErrc::kTooLarge, "value is " + std::to_string(value.size()) +
                                          " bytes (at most " + std::to_string(kMaxStoreValueBytes) +
                                          ")"};
  }
  Result<std::optional<SqliteTransaction>> began = begin_write();
  if (!began.ok()) return began.error();
  std::optional<SqliteTransaction> single = std::move(began).value();

  SqliteStatement& old = statements_->entry_bytes;
  if (Result<void> ok = old.bind_blob(1, key); !ok.ok()) return ok;
  Result<bool> found = old.step();
  if (!found.ok()) {
    note_failure();
    return found.error();
  }
  const std::uint64_t old_bytes = *found ? static_cast<std::uint64_t>(old.column_int64(0)) : 0;
  old.reset();
  const std::uint64_t used_before = used_bytes_;
  const std::uint64_t after = used_bytes_ - old_bytes + key.size() + value.size();
  if (after > quota_bytes_) {
    return Error{PlatformErrc::kQuotaExceeded,
                 "put of " + std::to_string(key.size() + value.size()) +
                     " bytes would bring the store to " + std::to_string(after) +
                     " bytes, over its quota of " + std::to_string(quota_bytes_)};
  }

  SqliteStatement& s = statements_->put;
  if (Result<void> ok = s.bind_blob(1, key); !ok.ok()) return ok;
  if (Result<void> ok = s.bind_blob(2, value); !ok.ok()) return ok;
  if (Result<void> ok = s.run(); !ok.ok()) {
    note_failure();
    if ((sqlite3_extended_errcode(db_.handle()) & 0xff) == SQLITE_FULL && file_at_cap()) {
      return Error{PlatformErrc::kQuotaExceeded,
                   "the store's file reached its cap of " +
                       std::to_string(store_file_cap_bytes(quota_bytes_)) +
                       " bytes (small entries cost SQLite more than their bytes); this "
                       "invocation's writes are rolled back"};
    }
    return ok;
  }
  used_bytes_ = after;
  if (single) return finish_single_write(*single, used_before);
  return {};
}

Result<std::optional<SqliteTransaction>> ActorStore::begin_write() {
  if (Result<void> ok = prepare_write(); !ok.ok()) return ok.error();
  if (in_dispatch_) return std::optional<SqliteTransaction>{};  // the dispatch's transaction
  Result<SqliteTransaction> tx = SqliteTransaction::begin(db_);
  if (!tx.ok()) return tx.error();
  return std::optional<SqliteTransaction>(std::move(tx).value());
}

Result<bool> ActorStore::remove(BytesView key) {
  if (Result<void> ok = check_key(key, "key"); !ok.ok()) return ok.error();
  Result<std::optional<SqliteTransaction>> began = begin_write();
  if (!began.ok()) return began.error();
  std::optional<SqliteTransaction> single = std::move(began).value();

  SqliteStatement& old = statements_->entry_bytes;
  if (Result<void> ok = old.bind_blob(1, key); !ok.ok()) return ok.error();
  Result<bool> found = old.step();
  if (!found.ok()) {
    note_failure();
    return found.error();
  }
  if (!*found) {
    old.reset();
    return false;  // `single` rolls back an empty transaction
  }
  const auto old_bytes = static_cast<std::uint64_t>(old.column_int64(0));
  old.reset();

  SqliteStatement& s = statements_->remove;
  if (Result<void> ok = s.bind_blob(1, key); !ok.ok()) return ok.error();
  if (Result<void> ok = s.run(); !ok.ok()) {
    note_failure();
    return ok.error();
  }
  const std::uint64_t used_before = used_bytes_;
  used_bytes_ -= old_bytes;
  if (single) {
    if (Result<void> ok = finish_single_write(*single, used_before); !ok.ok()) return ok.error();
  }
  return true;
}

Result<std::vector<Bytes>> ActorStore::list_keys(BytesView prefix, std::uint32_t limit) {
  if (prefix.size() > kMaxStoreKeyBytes) {
    return Error{BaseErrc::kTooLarge, "prefix is " + std::to_string(prefix.size()) +
                                          " bytes (at most " + std::to_string(kMaxStoreKeyBytes) +
                                          ")"};
  }
  if (limit > kMaxStoreListKeys) {
    return Error{BaseErrc::kTooLarge, "list limit " + std::to_string(limit) +
                                          " is over the cap of " +
                                          std::to_string(kMaxStoreListKeys) + " keys"};
  }
  if (dispatch_broken_) {
    return Error{BaseErrc::kUnavailable, "this dispatch's storage transaction was rolled back"};
  }
  std::vector<Bytes> keys;
  if (limit == 0) return keys;
  const std::optional<Bytes> upper = prefix_upper_bound(prefix);
  SqliteStatement& s = upper ? statements_->list_bounded : statements_->list_open;
  if (Result<void> ok = s.bind_blob(1, prefix); !ok.ok()) return ok.error();
  if (upper) {
    if (Result<void> ok = s.bind_blob(2, *upper); !ok.ok()) return ok.error();
  }
  if (Result<void> ok = s.bind_int64(3, limit); !ok.ok()) return ok.error();
  keys.reserve(std::min<std::uint32_t>(limit, 64));
  for (;;) {
    Result<bool> row = s.step();
    if (!row.ok()) {
      note_failure();
      return row.error();
    }
    if (!*row) break;
    keys.emplace_back(s.column_blob(0));
  }
  s.reset();
  return keys;
}

void ActorStore::begin_dispatch() {
  in_dispatch_ = true;
  dispatch_broken_ = false;
  used_at_dispatch_begin_ = used_bytes_;
}

Result<void> ActorStore::commit_dispatch() {
  in_dispatch_ = false;
  if (dispatch_broken_) {
    rollback_dispatch();
    return Error{BaseErrc::kUnavailable,
                 "this dispatch's storage transaction was rolled back after an earlier error"};
  }
  if (!dispatch_tx_) return {};  // nothing written
  Result<void> committed = dispatch_tx_->commit();
  dispatch_tx_.reset();
  if (!committed.ok()) used_bytes_ = used_at_dispatch_begin_;
  return committed;
}

void ActorStore::rollback_dispatch() {
  in_dispatch_ = false;
  dispatch_broken_ = false;
  dispatch_tx_.reset();  // rolls back
  used_bytes_ = used_at_dispatch_begin_;
}

Result<void> ActorStore::prepare_write() {
  if (!in_dispatch_) return {};
  if (dispatch_broken_) {
    return Error{BaseErrc::kUnavailable, "this dispatch's storage transaction was rolled back"};
  }
  if (dispatch_tx_) return {};
  Result<SqliteTransaction> tx = SqliteTransaction::begin(db_);
  if (!tx.ok()) return tx.error();
  dispatch_tx_.emplace(std::move(*tx));
  return {};
}

void ActorStore::note_failure() {
  if (in_dispatch_ && dispatch_tx_ && !db_.in_transaction()) {
    // SQLite rolled the whole transaction back: the counter must follow, and no later write
    // of this dispatch may run in autocommit as if the earlier ones still stood.
    dispatch_broken_ = true;
    dispatch_tx_.reset();
    used_bytes_ = used_at_dispatch_begin_;
  }
}

Result<void> ActorStore::finish_single_write(SqliteTransaction& tx, std::uint64_t used_before) {
  Result<void> committed = tx.commit();
  if (!committed.ok()) used_bytes_ = used_before;
  return committed;
}

}  // namespace troupe
