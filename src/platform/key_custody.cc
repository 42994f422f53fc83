#include "troupe/platform/key_custody.h"

#include <dirent.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "key_record.h"
#include "printable.h"
#include "troupe/platform/key_name.h"
#include "troupe/platform/platform_error.h"
#include "troupe/platform/private_file.h"

namespace troupe {
using platform::printable;

// One key's state. `mutex` guards everything below it: shared while signing or reading,
// exclusive while loading, rotating or removing.
struct KeyCustody::Entry {
  enum class Status { kUnloaded, kLive, kGone };
  std::shared_mutex mutex;
  Status status = Status::kUnloaded;
  KeyRecord record;
  std::string key_id;
};

struct KeyCustody::State {
  State(PrivateDir d, std::shared_ptr<const MasterKey> m, UnixClock c)
      : dir(std::move(d)), master(std::move(m)), clock(c) {}
  PrivateDir dir;
  std::shared_ptr<const MasterKey> master;
  UnixClock clock;
  // Guards the map only; never held while an entry's mutex is taken.
  std::shared_mutex map_mutex;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries;
};

namespace {

KeyInfo info_of(std::string_view name, const KeyRecord& record, const std::string& key_id) {
  return KeyInfo{std::string(name), key_id, record.public_key, record.created, record.retired};
}

Result<KeyRecord> read_record(const PrivateDir& dir, const MasterKey& master, std::string_view name,
                              const std::string& file_name) {
  auto bytes = read_private_file(dir, file_name, private_file_rule(1, KeyRecord::kMaxFileBytes));
  if (!bytes.ok()) {
    if (bytes.error().code == BaseErrc::kNotFound) {
      return Error{BaseErrc::kNotFound, "no key '" + std::string(name) + "'"};
    }
    return bytes.error();
  }
  return open_key_record(master, name, *bytes);
}

// The names in `dir` that `keep` accepts, at most `cap` of them. Errors: too-large, io.
template <class Keep>
Result<std::vector<std::string>> scan_dir(const PrivateDir& dir, Keep keep, std::size_t cap) {
  const int scan_fd = ::dup(dir.fd());
  if (scan_fd < 0) return Error{BaseErrc::kIo, "dup " + dir.path() + ": " + std::strerror(errno)};
  DIR* scan = ::fdopendir(scan_fd);
  if (scan == nullptr) {
    ::close(scan_fd);
    return Error{BaseErrc::kIo, "scan " + dir.path() + ": " + std::strerror(errno)};
  }
  ::rewinddir(scan);
  std::vector<std::string> names;
  while (dirent* item = ::readdir(scan)) {
    if (!keep(std::string_view(item->d_name))) continue;
    if (names.size() == cap) {
      ::closedir(scan);
      return Error{BaseErrc::kTooLarge,
                   dir.path() + " holds over " + std::to_string(cap) + " matching files"};
    }
    names.emplace_back(item->d_name);
  }
  ::closedir(scan);
  return names;
}

// A temporary file write_private_file left for a record: ".HASH.key.tmp-DIGITS".
bool is_record_temporary(std::string_view name) {
  constexpr std::string_view kMarker = ".tmp-";
  if (name.size() < 2 || name[0] != '.') return false;
  const std::size_t marker = name.find(kMarker);
  if (marker == std::string_view::npos) return false;
  const std::string_view digits = name.substr(marker + kMarker.size());
  return is_key_record_file_name(name.substr(1, marker - 1)) && !digits.empty() &&
         digits.size() <= 10 && digits.find_first_not_of("0123456789") == std::string_view::npos;
}

Result<KeyRecord> fresh_record(std::int64_t now) {
  KeyRecord record;
  auto secret = SecretBuffer::allocate(crypto_sign_SECRETKEYBYTES);
  if (!secret.ok()) return secret.error();
  record.secret_key = std::move(secret).value();
  crypto_sign_keypair(record.public_key.data(), record.secret_key.data());
  record.created = now;
  return record;
}

}  // namespace

Result<std::unique_ptr<KeyCustody>> KeyCustody::open(const std::string& dir,
                                                     std::shared_ptr<const MasterKey> master,
                                                     UnixClock clock) {
  if (auto ok = ensure_sodium(); !ok.ok()) return ok.error();
  if (master == nullptr) return Error{BaseErrc::kInvalidArgument, "key custody needs a master key"};
  auto opened = PrivateDir::open(dir);
  if (!opened.ok()) return opened.error();
  // The lock goes with the directory's descriptor, which the store keeps until it goes.
  if (::flock(opened->fd(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error{BaseErrc::kUnavailable, "another key store has " + dir + " open"};
    }
    return Error{BaseErrc::kIo, "lock " + dir + ": " + std::strerror(errno)};
  }
  // Holding the lock, no write of this directory is in flight: what a killed write left is
  // garbage (a sealed record that never took its place).
  auto leftovers = scan_dir(*opened, is_record_temporary, kMaxListedKeys);
  if (!leftovers.ok()) return leftovers.error();
  for (const std::string& name : *leftovers) {
    struct stat st {};
    if (::fstatat(opened->fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && st.st_uid == ::geteuid()) {
      ::unlinkat(opened->fd(), name.c_str(), 0);
    }
  }
  std::unique_ptr<KeyCustody> custody(new KeyCustody());
  custody->state_ = std::make_unique<State>(std::move(opened).value(), std::move(master), clock);
  return custody;
}

KeyCustody::~KeyCustody() = default;

void KeyCustody::forget(std::string_view name, const std::shared_ptr<Entry>& entry) {
  std::unique_lock lock(state_->map_mutex);
  auto it = state_->entries.find(std::string(name));
  if (it != state_->entries.end() && it->second == entry) state_->entries.erase(it);
}

Result<std::shared_ptr<KeyCustody::Entry>> KeyCustody::load_entry(std::string_view name,
                                                                  bool create) {
  std::shared_ptr<Entry> entry;
  for (;;) {
    {
      std::shared_lock lock(state_->map_mutex);
      auto it = state_->entries.find(std::string(name));
      if (it != state_->entries.end()) entry = it->second;
    }
    if (entry == nullptr) {
      std::unique_lock lock(state_->map_mutex);
      if (state_->entries.size() >= kMaxLoadedKeys) {
        // Unload the keys no call holds: only the map refers to them, and new references are
        // taken under this lock, so none appears while we look. Each reloads from its record.
        std::erase_if(state_->entries, [](const auto& e) { return e.second.use_count() == 1; });
      }
      auto& slot = state_->entries[std::string(name)];
      if (slot == nullptr) slot = std::make_shared<Entry>();
      entry = slot;
    }
    Entry::Status status;
    {
      std::shared_lock lock(entry->mutex);
      status = entry->status;
    }
    if (status == Entry::Status::kLive) return entry;
    if (status == Entry::Status::kUnloaded) break;
    // Removed, or failed to load, under us: drop it from the map (its remover may not have
    // yet) and start from the disk again.
    forget(name, entry);
    entry = nullptr;
  }
  std::unique_lock lock(entry->mutex);
  if (entry->status != Entry::Status::kUnloaded) return entry;
  const std::string file_name = key_record_file_name(name);
  const MasterKey& master = *state_->master;
  // Read the record; make one only when there is none. A create that loses a race to another
  // writer of the same file reads the winner's record on the second pass.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto read = read_record(state_->dir, master, name, file_name);
    if (read.ok()) {
      entry->record = std::move(read).value();
      entry->key_id = ed25519_key_id(entry->record.public_key);
      entry->status = Entry::Status::kLive;
      return entry;
    }
    if (!create || read.error().code != BaseErrc::kNotFound) {
      entry->status = Entry::Status::kGone;
      lock.unlock();
      forget(name, entry);
      return read.error();
    }
    auto record = fresh_record(state_->clock.now());
    if (!record.ok()) return record.error();
    auto sealed = seal_key_record(master, name, *record);
    if (!sealed.ok()) return sealed.error();
    auto written = write_private_file(state_->dir, file_name, *sealed, WriteMode::kCreateOnly);
    if (!written.ok()) {
      entry->status = Entry::Status::kGone;
      lock.unlock();
      forget(name, entry);
      return written.error();
    }
    if (!written->exists) {
      entry->record = std::move(record).value();
      entry->key_id = ed25519_key_id(entry->record.public_key);
      entry->status = Entry::Status::kLive;
      return entry;
    }
  }
  entry->status = Entry::Status::kGone;
  lock.unlock();
  forget(name, entry);
  return Error{BaseErrc::kIo, "the record of key '" + std::string(name) +
                                  "' appeared and vanished while it was made"};
}

Result<std::shared_ptr<KeyCustody::Entry>> KeyCustody::live_entry(std::string_view name,
                                                                  bool create) {
  if (auto ok = check_key_name(name); !ok.ok()) return ok.error();
  // An entry found gone was removed (or failed to load) under us: look again, which reads the
  // disk afresh. Bounded: each pass either returns or saw another thread's remove.
  for (;;) {
    auto entry = load_entry(name, create);
    if (!entry.ok()) return entry.error();
    std::shared_lock lock((*entry)->mutex);
    if ((*entry)->status == Entry::Status::kLive) return entry;
  }
}

template <class T, class Read>
Result<T> KeyCustody::read_live(std::string_view name, bool create, Read&& read) {
  for (;;) {
    auto entry = live_entry(name, create);
    if (!entry.ok()) return entry.error();
    std::shared_lock lock((*entry)->mutex);
    if ((*entry)->status != Entry::Status::kLive) continue;
    return read(**entry);
  }
}

namespace {
Ed25519Signature sign_detached(const SecretBuffer& secret, std::string_view message) {
  Ed25519Signature signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret.data());
  return signature;
}
}  // namespace

Result<KeyInfo> KeyCustody::get_or_create(std::string_view name) {
  return read_live<KeyInfo>(name, /*create=*/true, [&](const Entry& e) -> Result<KeyInfo> {
    return info_of(name, e.record, e.key_id);
  });
}

Result<KeyInfo> KeyCustody::info(std::string_view name) {
  return read_live<KeyInfo>(name, /*create=*/false, [&](const Entry& e) -> Result<KeyInfo> {
    return info_of(name, e.record, e.key_id);
  });
}

Result<Ed25519PublicKey> KeyCustody::public_key(std::string_view name) {
  return read_live<Ed25519PublicKey>(
      name, /*create=*/false,
      [](const Entry& e) -> Result<Ed25519PublicKey> { return e.record.public_key; });
}

Result<Ed25519Signature> KeyCustody::sign(std::string_view name, std::string_view message) {
  return read_live<Ed25519Signature>(name, /*create=*/false,
                                     [&](const Entry& e) -> Result<Ed25519Signature> {
                                       return sign_detached(e.record.secret_key, message);
                                     });
}

Result<Ed25519Signature> KeyCustody::sign_with_key(std::string_view name, std::string_view key_id,
                                                   std::string_view message) {
  return read_live<Ed25519Signature>(
      name, /*create=*/false, [&](const Entry& e) -> Result<Ed25519Signature> {
        if (e.key_id != key_id) {
          return Error{BaseErrc::kRefused, "key '" + std::string(name) + "' is now " + e.key_id +
                                               ", not " + std::string(key_id)};
        }
        return sign_detached(e.record.secret_key, message);
      });
}

Result<KeyInfo> KeyCustody::rotate(std::string_view name) {
  for (;;) {
    auto entry = live_entry(name, /*create=*/false);
    if (!entry.ok()) return entry.error();
    Entry& e = **entry;
    std::unique_lock lock(e.mutex);
    if (e.status != Entry::Status::kLive) continue;
    const std::int64_t now = state_->clock.now();
    auto next = fresh_record(now);
    if (!next.ok()) return next.error();
    next->retired = e.record.retired;
    next->retired.push_back(RetiredPublicKey{e.record.public_key, e.record.created, now});
    if (next->retired.size() > KeyCustody::kMaxRetiredKeys) {
      next->retired.erase(next->retired.begin(), next->retired.end() - KeyCustody::kMaxRetiredKeys);
    }
    auto sealed = seal_key_record(*state_->master, name, *next);
    if (!sealed.ok()) return sealed.error();
    auto written =
        write_private_file(state_->dir, key_record_file_name(name), *sealed, WriteMode::kReplace);
    if (!written.ok()) return written.error();
    e.record = std::move(next).value();
    e.key_id = ed25519_key_id(e.record.public_key);
    return info_of(name, e.record, e.key_id);
  }
}

Result<void> KeyCustody::remove(std::string_view name) {
  for (;;) {
    auto entry = live_entry(name, /*create=*/false);
    if (!entry.ok()) return entry.error();
    Entry& e = **entry;
    std::unique_lock lock(e.mutex);
    if (e.status != Entry::Status::kLive) continue;
    if (auto ok = remove_private_file(state_->dir, key_record_file_name(name)); !ok.ok()) {
      if (ok.error().code != BaseErrc::kNotFound) return ok.error();
    }
    e.status = Entry::Status::kGone;
    e.record = KeyRecord{};  // frees (and wipes) the secret key now
    lock.unlock();
    forget(name, *entry);
    return {};
  }
}

Result<std::vector<KeyInfo>> KeyCustody::list() {
  const PrivateDir& dir = state_->dir;
  auto scanned = scan_dir(
      dir, [](std::string_view name) { return is_key_record_file_name(name); }, kMaxListedKeys);
  if (!scanned.ok()) return scanned.error();
  std::vector<std::string>& files = *scanned;
  std::sort(files.begin(), files.end());
  std::vector<KeyInfo> out;
  out.reserve(files.size());
  for (const std::string& file : files) {
    auto bytes = read_private_file(dir, file, private_file_rule(1, KeyRecord::kMaxFileBytes));
    if (!bytes.ok()) {
      if (bytes.error().code == BaseErrc::kNotFound) continue;  // removed meanwhile
      return bytes.error();
    }
    auto name = key_record_name(*bytes);
    if (!name.ok())
      return Error{PlatformErrc::kDamaged, dir.path_of(file) + ": " + name.error().detail};
    if (key_record_file_name(*name) != file) {
      return Error{PlatformErrc::kDamaged, dir.path_of(file) + " holds the record of key " +
                                               printable(*name) +
                                               ", which belongs in another file"};
    }
    auto record = open_key_record(*state_->master, *name, *bytes);
    if (!record.ok()) return record.error();
    out.push_back(info_of(*name, *record, ed25519_key_id(record->public_key)));
  }
  std::sort(out.begin(), out.end(),
            [](const KeyInfo& a, const KeyInfo& b) { return a.name < b.name; });
  return out;
}

std::size_t KeyCustody::loaded() const {
  std::shared_lock lock(state_->map_mutex);
  return state_->entries.size();
}

}  // namespace troupe
