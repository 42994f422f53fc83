#include "troupe/platform/storage_service.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

namespace troupe {

struct StorageService::LiveSet {
  std::mutex mutex;
  std::set<std::pair<std::string, std::string>> ids;  // (type, name) of every live lease

  void erase(const ActorStoreId& id) {
    const std::lock_guard lock(mutex);
    ids.erase({id.type, id.name});
  }
};

StorageService::StorageService(std::string root, std::uint64_t max_quota_bytes, OwnedFd root_fd)
    : root_(std::move(root)),
      max_quota_bytes_(max_quota_bytes),
      root_fd_(std::move(root_fd)),
      live_(std::make_shared<LiveSet>()) {}

StorageService::~StorageService() = default;

Result<std::unique_ptr<StorageService>> StorageService::open(std::string root,
                                                             std::uint64_t max_quota_bytes) {
  // Stores are used from worker threads, one thread at a time each (SQLITE_OPEN_NOMUTEX):
  // that needs a SQLite built thread-safe.
  if (sqlite3_threadsafe() == 0) {
    return Error{BaseErrc::kUnavailable, "this SQLite library is built without thread support"};
  }
  Result<OwnedFd> fd = open_storage_root(root);
  if (!fd.ok()) return fd.error();
  return std::unique_ptr<StorageService>(
      new StorageService(std::move(root), max_quota_bytes, std::move(*fd)));
}

std::size_t StorageService::live_stores() const {
  const std::lock_guard lock(live_->mutex);
  return live_->ids.size();
}

Result<StoreLease> StorageService::open_store(const ActorStoreId& id,
                                              std::uint64_t requested_quota_bytes) {
  Result<ActorStoreDirs> dirs = actor_store_dirs(id);
  if (!dirs.ok()) return dirs.error();
  const std::string type_path = root_ + (root_.back() == '/' ? "" : "/") + dirs->type_dir;
  const std::string actor_path = type_path + '/' + dirs->actor_dir;
  const std::string file_path = actor_store_file_path(root_, *dirs);

  // Claim the id first, so two starts racing for one store cannot both open it.
  {
    const std::lock_guard lock(live_->mutex);
    if (!live_->ids.insert({id.type, id.name}).second) {
      return Error{BaseErrc::kUnavailable,
                   "the store of " + id.type + " '" + id.name + "' is held by a live actor"};
    }
  }
  struct Claim {
    LiveSet* live;
    const ActorStoreId* id;
    ~Claim() {
      if (live != nullptr) live->erase(*id);
    }
  } claim{live_.get(), &id};

  Result<OwnedFd> type_dir = open_private_subdir(root_fd_.get(), dirs->type_dir, type_path, true);
  if (!type_dir.ok()) return type_dir.error();
  Result<OwnedFd> actor_dir =
      open_private_subdir(type_dir->get(), dirs->actor_dir, actor_path, true);
  if (!actor_dir.ok()) return actor_dir.error();
  Result<bool> file = ensure_private_file(actor_dir->get(), kStoreFileName, file_path, true);
  if (!file.ok()) return file.error();
  // SQLite makes these itself beside the database; one planted before we open is refused, and
  // so is one beside a database we just created (SQLite would replay a stray WAL into it).
  for (const char* suffix : {"-wal", "-journal", "-shm"}) {
    const std::string name = std::string(kStoreFileName) + suffix;
    Result<bool> present =
        check_private_file_if_present(actor_dir->get(), name, file_path + suffix);
    if (!present.ok()) return present.error();
    if (*present && !*file) {
      // Remove the empty database just made, so the next attempt is refused the same way.
      ::unlinkat(actor_dir->get(), std::string(kStoreFileName).c_str(), 0);
      return Error{BaseErrc::kRefused, file_path + suffix + " is left over without its database"};
    }
  }

  Result<std::unique_ptr<ActorStore>> store =
      ActorStore::open(file_path, std::min(requested_quota_bytes, max_quota_bytes_));
  if (!store.ok()) return store.error();
  claim.live = nullptr;  // the lease owns the claim now
  return StoreLease(live_, id, std::move(*store));
}

StoreLease::StoreLease(std::shared_ptr<StorageService::LiveSet> live, ActorStoreId id,
                       std::unique_ptr<ActorStore> store)
    : live_(std::move(live)), id_(std::move(id)), store_(std::move(store)) {}

StoreLease& StoreLease::operator=(StoreLease&& other) noexcept {
  if (this != &other) {
    release();
    live_ = std::move(other.live_);
    id_ = std::move(other.id_);
    store_ = std::move(other.store_);
  }
  return *this;
}

StoreLease::~StoreLease() { release(); }

void StoreLease::release() {
  // Close the database before freeing the id, so the next owner never meets this connection's
  // exclusive lock.
  store_.reset();
  if (live_ != nullptr) {
    live_->erase(id_);
    live_.reset();
  }
}

}  // namespace troupe
