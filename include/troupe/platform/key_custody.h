// KeyCustody: the node's store of Ed25519 keys it holds on behalf of actors (and of its own
// services, such as the identity service). An actor never holds its key: it asks the node to
// sign, and reads its public key. There is no export — no call returns secret bytes.
//
// - A key is named by the node (key_name.h: e.g. the actor's type and name) and made by the
//   node at the first get_or_create; it rests in the key directory as a record sealed under
//   the master key (src/platform/key_record.h), written atomically (temporary file, flush,
//   rename; mode 0600), so named actors keep their keys across restarts. Decrypted keys live
//   only in sodium_malloc memory and are wiped when removed, when the store goes, or when
//   they are unloaded: past kMaxLoadedKeys loaded keys, those no call is using are dropped
//   from memory (reloaded from their records at the next use), so a node that has signed
//   with many keys over its life does not hold them all (each costs guard pages).
// - rotate makes a new key and keeps the old public keys (at most kMaxRetiredKeys, the oldest
//   dropped first) so what the old keys signed still verifies; list shows them.
// - A record that fails its checks (damaged, moved to another name's file, sealed under
//   another master key) is an error on every call that reaches it — never replaced by a new
//   key. Only a record that does not exist is created.
//
// Threading: every call is safe from any thread. Calls on different keys run in parallel
// (signing takes a shared lock on its own key only); calls on one key are serialised against
// its rotate/remove, while signs with it run in parallel. Calls block on disk I/O when they
// load, create, rotate or remove a record; sign and public_key of a loaded key touch no disk.
// Lifetime: the store must outlive the calls made on it; the UnixClock's Clock must outlive
// the store. One store per key directory: a store holds an exclusive lock on it while open, so
// a second store (in this process or another) is refused rather than racing its writes; that
// lock also makes it safe for open to remove the temporary files a killed write left behind.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/platform/ed25519_key.h"
#include "troupe/platform/master_key.h"
#include "troupe/platform/unix_clock.h"

namespace troupe {

// A key the owner used before a rotation: kept so what it signed still verifies.
struct RetiredPublicKey {
  Ed25519PublicKey public_key{};
  std::int64_t created = 0;  // Unix seconds
  std::int64_t retired = 0;  // Unix seconds
};

// What the store tells about a key: public material and times only.
struct KeyInfo {
  std::string name;
  std::string key_id;  // ed25519_key_id(public_key)
  Ed25519PublicKey public_key{};
  std::int64_t created = 0;               // Unix seconds
  std::vector<RetiredPublicKey> retired;  // oldest first
};

class KeyCustody {
 public:
  static constexpr std::size_t kMaxRetiredKeys = 32;
  static constexpr std::size_t kMaxLoadedKeys = 1024;

  // Opens (creating 0700 when missing) and locks the key directory. Errors: unavailable
  // (another store has it open), refused (directory of another owner or writable by others),
  // io, internal.
  static Result<std::unique_ptr<KeyCustody>> open(const std::string& dir,
                                                  std::shared_ptr<const MasterKey> master,
                                                  UnixClock clock);
  ~KeyCustody();
  KeyCustody(const KeyCustody&) = delete;
  KeyCustody& operator=(const KeyCustody&) = delete;

  // The key named `name`, made (and written) when no record exists.
  // Errors: invalid-argument (a bad name), damaged, master-key-mismatch, refused (a record
  // file of the wrong mode/owner/size), io, internal.
  Result<KeyInfo> get_or_create(std::string_view name);

  // A detached Ed25519 signature of `message` by the current key. Errors: not-found (no such
  // key), and those of get_or_create.
  Result<Ed25519Signature> sign(std::string_view name, std::string_view message);
  // The same, only while the current key is `key_id`: for a signer that wrote the key id into
  // what it signs (a JWS header) and must not have it rotated in between. Errors: refused (the
  // key was rotated; `detail` names the current id), and those of sign.
  Result<Ed25519Signature> sign_with_key(std::string_view name, std::string_view key_id,
                                         std::string_view message);

  Result<Ed25519PublicKey> public_key(std::string_view name);
  // Public key, key id, times and retired keys. Errors: those of sign.
  Result<KeyInfo> info(std::string_view name);

  // Replaces the key with a new one; the old public key joins the retired list. The record on
  // disk is replaced atomically: a failed write leaves the old key in force. Errors: those of
  // sign.
  Result<KeyInfo> rotate(std::string_view name);

  // Every key in the directory, by name. Errors: the first record that fails its checks,
  // too-large (over kMaxListedKeys records), io.
  static constexpr std::size_t kMaxListedKeys = 100000;
  Result<std::vector<KeyInfo>> list();

  // Deletes the key (an unnamed actor's, when it stops). Errors: not-found, invalid-argument,
  // io.
  Result<void> remove(std::string_view name);

  // How many keys are loaded in memory now (at most about kMaxLoadedKeys beyond those in use).
  std::size_t loaded() const;

 private:
  struct Entry;
  KeyCustody() = default;
  // The entry for `name`, loaded from disk (created when `create`). Holds no lock on return.
  Result<std::shared_ptr<Entry>> live_entry(std::string_view name, bool create);
  // Calls `read` with the live entry of `name` under its shared lock (retrying while a rotate
  // or remove replaces it); its Result is the answer.
  template <class T, class Read>
  Result<T> read_live(std::string_view name, bool create, Read&& read);
  Result<std::shared_ptr<Entry>> load_entry(std::string_view name, bool create);
  void forget(std::string_view name, const std::shared_ptr<Entry>& entry);

  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace troupe
