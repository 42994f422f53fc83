// PlatformServices: the platform a node owns, made at its start inside its data directory —
// the trust store (trust/trust.json), the key custody (keys/, records sealed under the master
// key in master/master.key), per-actor storage (storage/), and the identity service with the
// credentials of the actors running from packages (its key is held in the custody). Each directory
// is created 0700 and refused when another user owns it or others may write it; any failure fails
// the node's start (fail closed: a node never runs packages without them). Threading: every member
// may be called from any thread. The trust store is guarded here (a shared lock while a package is
// verified against it, an exclusive one while it changes); KeyCustody and StorageService are
// thread-safe themselves. Lifetime: owned by Node, created before the actor system and destroyed
// after it (actors hold its stores and keys).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "troupe/base/clock.h"
#include "troupe/base/result.h"
#include "troupe/platform/actor_identities.h"
#include "troupe/platform/identity_service.h"
#include "troupe/platform/key_custody.h"
#include "troupe/platform/package_verifier.h"
#include "troupe/platform/platform_config.h"
#include "troupe/platform/storage_service.h"
#include "troupe/platform/trust_store.h"

namespace troupe {

// What `troupe trust ls` shows.
struct TrustListing {
  std::vector<std::pair<std::string, std::string>> keys;  // key id, public key (base64)
  std::vector<std::string> revoked_keys;
  std::vector<std::string> revoked_packages;
};

class PlatformServices {
 public:
  static constexpr const char* kTrustDir = "trust";
  static constexpr const char* kKeysDir = "keys";
  static constexpr const char* kMasterKeyDir = "master";
  static constexpr const char* kStorageDir = "storage";
  static constexpr const char* kNativeStorageDir = "native";  // under kStorageDir

  // Opens (creating when missing) the services under `data_dir`. Errors: refused (a directory
  // or file of another owner or loose mode), malformed (a damaged trust store), unavailable
  // (another process holds the key directory), io.
  // `issuer` names this node in the credentials it issues (iss). At open, keys that unnamed
  // actors of an earlier run held (ActorIdentities: ephemeral) are removed.
  static Result<std::unique_ptr<PlatformServices>> open(const std::string& data_dir,
                                                        const platform::PlatformConfig& config,
                                                        const std::string& issuer);

  const platform::PlatformConfig& config() const { return config_; }
  KeyCustody& keys() { return *keys_; }
  const IdentityService& identity() const { return *identity_; }
  ActorIdentities& identities() { return *identities_; }
  // The custodial key name of a packaged actor: "<signing key id>/<type>/<name>" for a named
  // one (kept across restarts), "ephemeral/<signing key id>/<type>/<32 random hex digits>" for
  // an unnamed one (drawn here: made before the actor exists, so that a worker never writes
  // it; removed when it stops, or at the next start). Named keys start with the key id
  // ("mfr-"), so no actor name reaches the ephemeral ones.
  static std::string actor_key_name(const std::string& signing_key_id, const std::string& type,
                                    const std::string& name);
  // Removes every unnamed actor's key: at open (a crash skipped their removal), and by the
  // node once its actors have stopped.
  void remove_ephemeral_keys();
  // The storage of actors signed by `key_id` (a trusted key's id, "mfr-" + 16 hex digits):
  // each manufacturer key has its own root under storage/, so a package signed by another key
  // that names the same manufacturer, type and actor never opens these stores. Made (0700) at
  // first use. Errors: invalid-argument (not a key id), refused, io.
  Result<StorageService*> storage_for(const std::string& key_id);
  // The storage of native actors (NativeActorContext): storage/native/, stores at
  // <kind>/<name>/store.sqlite — a root apart from every signing key's ("mfr-..." is never
  // "native"). Made (0700) at first use. Errors: refused, io.
  Result<StorageService*> native_storage();

  // verify_package against the current trust store.
  Result<platform::VerifiedPackage> verify(const std::string& path) const;
  // Whether a package verified earlier is still trusted: its key and its hash not revoked.
  bool still_trusted(const std::string& key_id, const std::string& package_hash) const;

  // The key's id. `public_key_text` is a public key file's content (one base64 line).
  Result<std::string> trust_key(const std::string& public_key_text);
  Result<void> revoke_key(const std::string& key_id);
  Result<void> revoke_package(const std::string& package_hash);
  TrustListing trust_listing() const;

 private:
  PlatformServices() = default;

  platform::PlatformConfig config_;
  SteadyClock clock_;  // key custody's time source; declared before it, so it outlives it
  mutable std::shared_mutex trust_mutex_;
  std::unique_ptr<platform::TrustStore> trust_;
  std::unique_ptr<KeyCustody> keys_;
  std::unique_ptr<IdentityService> identity_;
  std::unique_ptr<ActorIdentities> identities_;
  std::string storage_dir_;
  std::mutex storage_mutex_;
  std::map<std::string, std::unique_ptr<StorageService>> storage_;  // by signing key id
  std::unique_ptr<StorageService> native_storage_;                  // guarded by storage_mutex_
};

}  // namespace troupe
