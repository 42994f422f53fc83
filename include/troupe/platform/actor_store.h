// ActorStore: one actor's key-value store, a SQLite database of its own (WAL, one table `kv`,
// keys in byte order). What the node serves as `troupe:host/storage` to guests and to native
// actors through the same service.
//
// Caps (constants below; a request over one fails `too-large` and changes nothing):
//   key 1..kMaxStoreKeyBytes bytes, value 0..kMaxStoreValueBytes, list-keys limit at most
//   kMaxStoreListKeys (a prefix is at most a key's size).
// Quota: the store's bytes are the sum over its entries of key size + value size (SQLite's own
// page and WAL overhead is not counted; the file is larger). The database file is capped at
// store_file_cap_bytes(quota) (4 × quota + 4 MiB; the WAL is truncated to 4 MiB after each
// checkpoint): a put that would grow it past the cap — many tiny entries, each costing SQLite
// more than its bytes — fails `quota-exceeded`, and SQLite rolls back the write (inside a
// dispatch, the dispatch's writes). It is recounted from the table at
// open, so it is exact across restarts, and kept exact by every put and delete after that. A
// put whose result would exceed the quota fails `quota-exceeded` and writes nothing; a delete
// always succeeds (it only frees). A store opened with less quota than it holds (a lowered
// manifest or node maximum) keeps its data: deletes work, puts fail until it fits.
// Durability: synchronous=FULL — a commit is on disk before commit() returns, so a reply
// released after it (the output gate, dispatch_transaction.h) never tells of a write that a
// power cut could undo.
// Exclusive: the database is opened in SQLite's exclusive locking mode, so a second
// connection, from this process or another, fails `unavailable` instead of sharing it (the WAL
// index lives in heap memory, and no -shm file is made).
//
// Outside a DispatchTransaction each put and delete is its own transaction. Inside one, all of
// them commit or roll back together (dispatch_transaction.h).
//
// Threading: not thread-safe. One actor's store is used by that actor's activation only, on
// whichever worker thread runs it; the scheduler's hand-off between activations orders the
// uses. Lifetime: owned through a StoreLease (storage_service.h); a DispatchTransaction must
// end before its store is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/platform/sqlite_connection.h"
#include "troupe/platform/sqlite_statement.h"
#include "troupe/platform/sqlite_transaction.h"

namespace troupe {

inline constexpr std::size_t kMaxStoreKeyBytes = 1024;
inline constexpr std::size_t kMaxStoreValueBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::uint32_t kMaxStoreListKeys = 1000;

// The most a store's database file may grow to for a quota (see above).
std::uint64_t store_file_cap_bytes(std::uint64_t quota_bytes);

class ActorStore {
 public:
  // Opens the database at `path` (created and checked by StorageService: callers outside it
  // must have made the file safe themselves) with `quota_bytes` granted.
  // Errors: malformed (the file is not a sound SQLite database), unavailable (held by another
  // connection), io.
  static Result<std::unique_ptr<ActorStore>> open(const std::string& path,
                                                  std::uint64_t quota_bytes);

  ActorStore(const ActorStore&) = delete;
  ActorStore& operator=(const ActorStore&) = delete;
  ~ActorStore();

  // nullopt when the key is absent.
  Result<std::optional<Bytes>> get(BytesView key);
  Result<void> put(BytesView key, BytesView value);
  // Whether the key was there.
  Result<bool> remove(BytesView key);
  // Keys starting with `prefix`, in byte order, at most `limit` of them.
  Result<std::vector<Bytes>> list_keys(BytesView prefix, std::uint32_t limit);

  std::uint64_t used_bytes() const { return used_bytes_; }
  std::uint64_t quota_bytes() const { return quota_bytes_; }
  const std::string& path() const { return path_; }

 private:
  friend class DispatchTransaction;
  struct Statements;

  ActorStore(std::string path, std::uint64_t quota_bytes, SqliteConnection db);
  // Whether the file is at (or within a few pages of) its page cap.
  bool file_at_cap();

  // The dispatch transaction's half (dispatch_transaction.h).
  void begin_dispatch();
  Result<void> commit_dispatch();
  void rollback_dispatch();

  // Before a write: inside a dispatch, opens its SQLite transaction on first use (a dispatch
  // that does not write costs nothing); refuses when SQLite dropped it after an error.
  Result<void> prepare_write();
  // prepare_write, then the write's own transaction outside a dispatch (none inside one).
  Result<std::optional<SqliteTransaction>> begin_write();
  // After a failed statement inside a dispatch: SQLite may have rolled the whole transaction
  // back by itself (a full disk); then the dispatch's writes are gone and it must fail.
  void note_failure();
  Result<void> finish_single_write(SqliteTransaction& tx, std::uint64_t used_before);

  std::string path_;
  std::uint64_t quota_bytes_;
  std::uint64_t used_bytes_ = 0;
  SqliteConnection db_;
  std::unique_ptr<Statements> statements_;

  bool in_dispatch_ = false;
  bool dispatch_broken_ = false;
  std::optional<SqliteTransaction> dispatch_tx_;
  std::uint64_t used_at_dispatch_begin_ = 0;
};

}  // namespace troupe
