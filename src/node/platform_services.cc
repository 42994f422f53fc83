#include "troupe/node/platform_services.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "troupe/platform/master_key.h"
#include "troupe/platform/private_file.h"
#include "troupe/platform/signing_key.h"

namespace troupe {

namespace {
// The prefix of unnamed actors' key names (actor_key_name); named ones start with "mfr-".
constexpr std::string_view kEphemeralPrefix = "ephemeral/";
}  // namespace

std::string PlatformServices::actor_key_name(const std::string& signing_key_id,
                                             const std::string& type, const std::string& name) {
  if (!name.empty()) return signing_key_id + "/" + type + "/" + name;
  unsigned char token[16];
  randombytes_buf(token, sizeof token);
  char hex[2 * sizeof token + 1];
  sodium_bin2hex(hex, sizeof hex, token, sizeof token);
  return std::string(kEphemeralPrefix) + signing_key_id + "/" + type + "/" + hex;
}

Result<std::unique_ptr<PlatformServices>> PlatformServices::open(
    const std::string& data_dir, const platform::PlatformConfig& config,
    const std::string& issuer) {
  std::unique_ptr<PlatformServices> p(new PlatformServices());
  p->config_ = config;
  // PrivateDir makes each directory 0700 and refuses one of another owner or that others may
  // write: trust decisions, sealed keys and actors' data are this node's alone.
  const std::string trust_dir = data_dir + "/" + kTrustDir;
  if (auto dir = PrivateDir::open(trust_dir); !dir.ok()) return dir.error();
  auto trust = platform::TrustStore::open(trust_dir);
  if (!trust.ok()) return trust.error();
  p->trust_ = std::make_unique<platform::TrustStore>(std::move(trust).value());

  auto master = MasterKey::load_or_create(data_dir + "/" + kMasterKeyDir);
  if (!master.ok()) return master.error();
  auto keys = KeyCustody::open(data_dir + "/" + kKeysDir,
                               std::make_shared<const MasterKey>(std::move(master).value()),
                               UnixClock(p->clock_));
  if (!keys.ok()) return keys.error();
  p->keys_ = std::move(keys).value();
  // Unnamed actors' keys of an earlier run (a crash skips their removal at stop): no actor
  // will ask for them again.
  p->remove_ephemeral_keys();
  auto identity = IdentityService::open(
      *p->keys_, UnixClock(p->clock_),
      IdentityServiceOptions{issuer, "node/identity-service", config.credential_ttl_seconds});
  if (!identity.ok()) return identity.error();
  p->identity_ = std::make_unique<IdentityService>(std::move(identity).value());
  PlatformServices* self = p.get();
  p->identities_ =
      std::make_unique<ActorIdentities>(*p->identity_, *p->keys_, UnixClock(p->clock_),
                                        [self](const std::string& key_id, const std::string& hash) {
                                          return self->still_trusted(key_id, hash);
                                        });

  p->storage_dir_ = data_dir + "/" + kStorageDir;
  if (auto dir = PrivateDir::open(p->storage_dir_); !dir.ok()) return dir.error();
  // Checked now (ownership, mode, no symlink), so a bad storage root fails the start.
  if (auto root = StorageService::open(p->storage_dir_, config.max_storage_quota_bytes);
      !root.ok()) {
    return root.error();
  }
  return p;
}

void PlatformServices::remove_ephemeral_keys() {
  // A record that fails its checks stops the sweep, not the node: calls reaching it fail.
  auto listed = keys_->list();
  if (!listed.ok()) {
    spdlog::warn("keys of unnamed actors not removed: {}", listed.error().to_string());
    return;
  }
  for (const KeyInfo& k : *listed) {
    if (k.name.starts_with(kEphemeralPrefix)) (void)keys_->remove(k.name);
  }
}

Result<StorageService*> PlatformServices::storage_for(const std::string& key_id) {
  // "mfr-" + 16 lowercase hex: a safe path component by construction.
  bool well_formed = key_id.size() == 20 && key_id.rfind("mfr-", 0) == 0;
  for (std::size_t i = 4; well_formed && i < key_id.size(); ++i) {
    const char c = key_id[i];
    well_formed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!well_formed) return Error{BaseErrc::kInvalidArgument, "not a signing key id"};
  std::lock_guard lock(storage_mutex_);
  auto it = storage_.find(key_id);
  if (it != storage_.end()) return it->second.get();
  const std::string root = storage_dir_ + "/" + key_id;
  if (auto dir = PrivateDir::open(root); !dir.ok()) return dir.error();
  auto service = StorageService::open(root, config_.max_storage_quota_bytes);
  if (!service.ok()) return service.error();
  return storage_.emplace(key_id, std::move(service).value()).first->second.get();
}

Result<StorageService*> PlatformServices::native_storage() {
  std::lock_guard lock(storage_mutex_);
  if (native_storage_) return native_storage_.get();
  const std::string root = storage_dir_ + "/" + kNativeStorageDir;
  if (auto dir = PrivateDir::open(root); !dir.ok()) return dir.error();
  auto service = StorageService::open(root, config_.max_storage_quota_bytes);
  if (!service.ok()) return service.error();
  native_storage_ = std::move(service).value();
  return native_storage_.get();
}

Result<platform::VerifiedPackage> PlatformServices::verify(const std::string& path) const {
  std::shared_lock lock(trust_mutex_);
  return platform::verify_package(path, *trust_);
}

bool PlatformServices::still_trusted(const std::string& key_id,
                                     const std::string& package_hash) const {
  std::shared_lock lock(trust_mutex_);
  return trust_->trusted_key(key_id) != nullptr && !trust_->package_revoked(package_hash);
}

Result<std::string> PlatformServices::trust_key(const std::string& public_key_text) {
  auto key = platform::decode_public_key(public_key_text);
  if (!key.ok()) return key.error();
  std::unique_lock lock(trust_mutex_);
  return trust_->add_key(*key);
}

Result<void> PlatformServices::revoke_key(const std::string& key_id) {
  std::unique_lock lock(trust_mutex_);
  return trust_->revoke_key(key_id);
}

Result<void> PlatformServices::revoke_package(const std::string& package_hash) {
  std::unique_lock lock(trust_mutex_);
  return trust_->revoke_package(package_hash);
}

TrustListing PlatformServices::trust_listing() const {
  std::shared_lock lock(trust_mutex_);
  TrustListing out;
  for (const auto& [id, key] : trust_->keys()) {
    if (trust_->key_revoked(id)) continue;  // listed under revoked, not as trusted
    out.keys.emplace_back(id, platform::encode_public_key(key));
  }
  out.revoked_keys.assign(trust_->revoked_keys().begin(), trust_->revoked_keys().end());
  out.revoked_packages.assign(trust_->revoked_packages().begin(), trust_->revoked_packages().end());
  return out;
}

}  // namespace troupe
