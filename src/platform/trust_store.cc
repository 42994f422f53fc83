#include "troupe/platform/trust_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "troupe/platform/platform_error.h"
#include "troupe/platform/sha256.h"

namespace troupe::platform {
namespace {

using nlohmann::json;

// Far beyond any real store (a key is ~100 bytes of JSON); past it the file is not ours.
constexpr std::size_t kMaxStoreBytes = std::size_t{16} << 20;

Error io_error(const std::filesystem::path& path, const char* what) {
  return Error{BaseErrc::kIo,
               std::string(what) + " " + path.string() + ": " + std::strerror(errno)};
}

Error damaged(const std::filesystem::path& file, const std::string& why) {
  return Error{PlatformErrc::kMalformed, "trust store " + file.string() + ": " + why};
}

Result<std::string> read_store_file(const std::filesystem::path& file, bool& missing) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      missing = true;
      return std::string();
    }
    return io_error(file, "cannot open");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return damaged(file, "not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxStoreBytes) {
    ::close(fd);
    return damaged(file, "larger than " + std::to_string(kMaxStoreBytes) + " bytes");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != text.size()) return damaged(file, "changed size while being read");
  return text;
}

Result<std::set<std::string, std::less<>>> string_set(const json& doc, const char* key,
                                                      bool (*valid)(std::string_view),
                                                      const std::filesystem::path& file) {
  std::set<std::string, std::less<>> out;
  const json& list = doc.at(key);
  if (!list.is_array()) return damaged(file, std::string(key) + " is not an array");
  for (const json& item : list) {
    if (!item.is_string() || !valid(item.get_ref<const std::string&>())) {
      return damaged(file, std::string(key) + " holds an invalid entry");
    }
    if (!out.insert(item.get<std::string>()).second) {
      return damaged(file, std::string(key) + " holds a duplicate");
    }
  }
  return out;
}

}  // namespace

TrustStore TrustStore::in_memory() { return TrustStore(); }

Result<TrustStore> TrustStore::open(const std::filesystem::path& dir) {
  TrustStore store;
  store.dir_ = dir;
  const auto file = dir / kTrustStoreFile;
  bool missing = false;
  auto text = read_store_file(file, missing);
  if (!text.ok()) return text.error();
  if (missing) return store;
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return damaged(file, "not valid JSON");
  if (!doc.is_object() || doc.size() != 4 || !doc.contains("version") || !doc.contains("keys") ||
      !doc.contains("revoked_keys") || !doc.contains("revoked_packages")) {
    return damaged(file, "expected exactly version, keys, revoked_keys, revoked_packages");
  }
  if (doc["version"] != 1) return damaged(file, "unknown version");
  if (!doc["keys"].is_array()) return damaged(file, "keys is not an array");
  for (const json& entry : doc["keys"]) {
    if (!entry.is_object() || entry.size() != 2 || !entry.contains("key_id") ||
        !entry.contains("public_key") || !entry["key_id"].is_string() ||
        !entry["public_key"].is_string()) {
      return damaged(file, "a key entry is not {key_id, public_key}");
    }
    auto key = decode_public_key(entry["public_key"].get<std::string>());
    if (!key.ok()) return damaged(file, "a public key is not 32 bytes of base64");
    const std::string id = entry["key_id"].get<std::string>();
    if (id != key_id_of(*key)) return damaged(file, "key id " + id + " does not match its key");
    if (!store.keys_.emplace(id, *key).second) return damaged(file, "key " + id + " twice");
  }
  auto revoked_keys = string_set(doc, "revoked_keys", &is_key_id, file);
  if (!revoked_keys.ok()) return revoked_keys.error();
  store.revoked_keys_ = std::move(revoked_keys).value();
  auto revoked_packages = string_set(doc, "revoked_packages", &is_sha256_hex, file);
  if (!revoked_packages.ok()) return revoked_packages.error();
  store.revoked_packages_ = std::move(revoked_packages).value();
  return store;
}

Result<std::string> TrustStore::add_key(const PublicKey& key) {
  const std::string id = key_id_of(key);
  if (key_revoked(id)) return Error{PlatformErrc::kRevoked, "key " + id + " is revoked"};
  if (keys_.count(id) != 0) return id;
  keys_.emplace(id, key);
  if (auto saved = save(); !saved) {
    keys_.erase(id);
    return saved.error();
  }
  return id;
}

Result<void> TrustStore::revoke_key(std::string_view key_id) {
  if (!is_key_id(key_id)) {
    return Error{PlatformErrc::kMalformed, "a key id is mfr- and 16 hex digits"};
  }
  if (key_revoked(key_id)) return {};
  revoked_keys_.emplace(key_id);
  if (auto saved = save(); !saved) {
    revoked_keys_.erase(revoked_keys_.find(key_id));
    return saved.error();
  }
  return {};
}

Result<void> TrustStore::revoke_package(std::string_view package_hash) {
  if (!is_sha256_hex(package_hash)) {
    return Error{PlatformErrc::kMalformed, "a package hash is 64 lowercase hex digits"};
  }
  if (package_revoked(package_hash)) return {};
  revoked_packages_.emplace(package_hash);
  if (auto saved = save(); !saved) {
    revoked_packages_.erase(revoked_packages_.find(package_hash));
    return saved.error();
  }
  return {};
}

const PublicKey* TrustStore::trusted_key(std::string_view key_id) const {
  if (key_revoked(key_id)) return nullptr;
  auto it = keys_.find(key_id);
  return it == keys_.end() ? nullptr : &it->second;
}

bool TrustStore::key_revoked(std::string_view key_id) const {
  return revoked_keys_.find(key_id) != revoked_keys_.end();
}

bool TrustStore::package_revoked(std::string_view package_hash) const {
  return revoked_packages_.find(package_hash) != revoked_packages_.end();
}

Result<void> TrustStore::save() const {
  if (!dir_) return {};
  json doc{{"version", 1},
           {"keys", json::array()},
           {"revoked_keys", revoked_keys_},
           {"revoked_packages", revoked_packages_}};
  for (const auto& [id, key] : keys_) {
    doc["keys"].push_back({{"key_id", id}, {"public_key", encode_public_key(key)}});
  }
  const std::string text = doc.dump(2) + "\n";
  // Never write what open() would refuse: the node could not start again.
  if (text.size() > kMaxStoreBytes) {
    return Error{PlatformErrc::kTooLarge, "the trust store would pass " +
                                              std::to_string(kMaxStoreBytes) +
                                              " bytes: remove revoked packages' keys instead"};
  }
  const auto file = *dir_ / kTrustStoreFile;
  std::string temp = (*dir_ / (std::string(kTrustStoreFile) + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());  // O_EXCL, 0600
  if (fd < 0) return io_error(*dir_, "cannot create a file in");
  std::size_t done = 0;
  bool ok = true;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(temp.c_str(), file.c_str()) != 0) {
    auto err = io_error(file, "cannot write");
    ::unlink(temp.c_str());
    return err;
  }
  // The rename itself must survive a crash.
  if (const int dfd = ::open(dir_->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace troupe::platform
