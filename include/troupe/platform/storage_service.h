// StorageService: the node's per-actor storage. It places each actor's database under its
// storage root (actor_store_path.h: derived from the actor's type and name, each component
// checked), makes the directories and file private to the node's user (private_files.h), and
// hands the opened store to the actor as a StoreLease — the one live owner of that store.
//
// - open_store() is called when an actor with the `storage` capability starts (and again at
//   each restart); the quota granted is the manifest's request capped by the node's maximum.
//   The store stays open, and is reused by every dispatch, for as long as the lease lives.
// - The runtime drops the lease when the actor stops; that closes the database. Named actors
//   find their data again at the next open_store() with the same (type, name), in this node
//   run or the next.
// - A second open_store() of a (type, name) whose lease is alive fails `unavailable`: two live
//   actors never share a store. (Across processes SQLite's exclusive lock refuses it too.)
//
// Threading: open_store() and lease destruction may run on any worker thread concurrently (a
// mutex guards the set of live stores; the slow filesystem and SQLite work happens outside
// it). A lease's store is used by its actor's activation only (actor_store.h). Lifetime:
// leases may outlive the service (they share the live set), which the node creates at start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "troupe/base/result.h"
#include "troupe/platform/actor_store.h"
#include "troupe/platform/actor_store_path.h"
#include "troupe/platform/private_files.h"

namespace troupe {

class StoreLease;

class StorageService {
 public:
  // `root` must exist (private_files.h: no symlink on its path, this user's, not writable by
  // group or others). `max_quota_bytes` is the node's cap on any actor's quota.
  static Result<std::unique_ptr<StorageService>> open(std::string root,
                                                      std::uint64_t max_quota_bytes);
  ~StorageService();
  StorageService(const StorageService&) = delete;
  StorageService& operator=(const StorageService&) = delete;

  // Errors: invalid-argument (a type or name the path rules refuse), unavailable (a live lease
  // holds this store, or another process does), refused (a symlink, foreign owner or loose mode
  // on the path), malformed (the database file is corrupt), io.
  Result<StoreLease> open_store(const ActorStoreId& id, std::uint64_t requested_quota_bytes);

  std::size_t live_stores() const;
  const std::string& root() const { return root_; }
  std::uint64_t max_quota_bytes() const { return max_quota_bytes_; }

 private:
  friend class StoreLease;
  struct LiveSet;
  StorageService(std::string root, std::uint64_t max_quota_bytes, OwnedFd root_fd);

  std::string root_;
  std::uint64_t max_quota_bytes_;
  OwnedFd root_fd_;
  std::shared_ptr<LiveSet> live_;
};

// Ownership of one actor's open store. Move-only; destroying it closes the store and frees the
// (type, name) for the next owner.
class StoreLease {
 public:
  StoreLease(StoreLease&& other) noexcept = default;
  StoreLease& operator=(StoreLease&& other) noexcept;
  StoreLease(const StoreLease&) = delete;
  StoreLease& operator=(const StoreLease&) = delete;
  ~StoreLease();

  ActorStore& store() { return *store_; }
  const ActorStoreId& id() const { return id_; }

 private:
  friend class StorageService;
  StoreLease(std::shared_ptr<StorageService::LiveSet> live, ActorStoreId id,
             std::unique_ptr<ActorStore> store);
  void release();

  std::shared_ptr<StorageService::LiveSet> live_;
  ActorStoreId id_;
  std::unique_ptr<ActorStore> store_;
};

}  // namespace troupe
