#include "troupe/node/platform_services.h"

#include <mutex>

#include "troupe/platform/master_key.h"
#include "troupe/platform/private_file.h"
#include "troupe/platform/signing_key.h"

namespace troupe {

Result<std::unique_ptr<PlatformServices>> PlatformServices::open(
    const std::string& data_dir, const platform::PlatformConfig& config) {
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

  const std::string storage_dir = data_dir + "/" + kStorageDir;
  if (auto dir = PrivateDir::open(storage_dir); !dir.ok()) return dir.error();
  auto storage = StorageService::open(storage_dir, config.max_storage_quota_bytes);
  if (!storage.ok()) return storage.error();
  p->storage_ = std::move(storage).value();
  return p;
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
    out.keys.emplace_back(id, platform::encode_public_key(key));
  }
  out.revoked_keys.assign(trust_->revoked_keys().begin(), trust_->revoked_keys().end());
  out.revoked_packages.assign(trust_->revoked_packages().begin(), trust_->revoked_packages().end());
  return out;
}

}  // namespace troupe
