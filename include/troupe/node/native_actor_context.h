// NativeActorContext: what the node serves one native actor beyond the runtime — its own
// key-value store (storage()) and signing with its custodial key (signer()) — from the same
// services guests reach through troupe:host/storage and troupe:host/signing: the node's
// StorageService (the same ActorStore, with the same key, value and list caps and a byte quota
// capped by [platform] max_storage_quota_bytes) and its KeyCustody (the key never leaves the
// node: the actor gets sign and public-key only).
//
// - Deny by default: a kind declares what it needs when it is registered (NativeGrants, below;
//   KindRegistry::add). storage() of a kind that did not declare storage, or signer() of one
//   that did not declare signing, fails permission-denied: never a database, never a key.
// - Where: the store is <data dir>/storage/native/<kind>/<name>/store.sqlite, the key is named
//   "native/<kind>/<name>" in the node's key custody — apart from every package's stores and
//   keys. Both are kept under the actor's registered name, as Akka Persistence keys state by a
//   persistence id and Erlang a DETS table by its file: a granted kind must be spawned with a
//   name (native_kind_factory refuses an unnamed one), and the same kind and name find the same
//   data and key again after a restart of the actor or of the node.
// - Opened at the first call and held until the context is destroyed (with the actor
//   instance, which frees the store for the next incarnation). Call storage() and signer() from
//   on_start or a handler, never from the actor's constructor or its factory: a supervisor may
//   build the next incarnation while the previous one still holds the store, and the call would
//   fail unavailable. A failed open is not remembered: the next call tries again.
// - Writes: each put and delete is its own SQLite transaction, on disk (synchronous=FULL) before
//   it returns, and checked against the quota (a put past it fails quota-exceeded and writes
//   nothing). transaction() commits several writes together or none of them. Unlike a guest's
//   invocation, a native handler is NOT one implicit transaction: its replies and tells leave
//   while it runs (native actors have no output gate), so committing after the handler would
//   tell of writes that might still fail. A handler that wants all-or-nothing writes puts them
//   in transaction() and replies after it returned.
// - Native actors run inside the node's process: grants keep what each kind may reach declared
//   and checked, they are not a sandbox against hostile C++ (WebAssembly guests are).
//
// Threading: one context belongs to one actor incarnation; only that actor's hooks and
// handlers use it (one at a time, from whichever worker runs the actor), like the ActorStore it
// hands out. Lifetime: made by the kind's factory for each incarnation (native_kind_factory.h)
// and owned by the actor instance (a member); the PlatformServices it draws on must outlive it
// (the node destroys its actors first). What storage() and signer() return is valid while the
// context lives. Move-only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"
#include "troupe/platform/actor_store.h"
#include "troupe/platform/ed25519_key.h"
#include "troupe/platform/key_custody.h"
#include "troupe/platform/storage_service.h"

namespace troupe {

class PlatformServices;

// What a native kind may use; declared when the kind is registered. Default: nothing.
struct NativeGrants {
  bool storage = false;
  // The kind's quota, capped by the node's [platform] max_storage_quota_bytes. With storage, at
  // least 1 (a store that can hold nothing is a mistake, refused at registration).
  std::uint64_t storage_quota_bytes = 0;
  bool signing = false;

  bool any() const { return storage || signing; }
};

// Signing with the actor's custodial key, held by the node's KeyCustody: sign and read the
// public key, nothing else (no export, no rotate, no other key).
class NativeSigner {
 public:
  // The largest message sign() takes (the same cap as a guest's), so one call stays short.
  static constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 20;

  // A detached Ed25519 signature (crypto_sign_verify_detached verifies it with public_key()).
  // Errors: too-large (over kMaxMessageBytes), and KeyCustody::sign's.
  Result<Ed25519Signature> sign(BytesView message);
  // The current key: the one sign() uses, after a rotation too.
  Result<Ed25519PublicKey> public_key();
  const std::string& key_name() const { return key_name_; }

 private:
  friend class NativeActorContext;
  NativeSigner(KeyCustody& custody, std::string key_name)
      : custody_(custody), key_name_(std::move(key_name)) {}

  KeyCustody& custody_;
  std::string key_name_;
};

class NativeActorContext {
 public:
  // A context with nothing granted: storage() and signer() fail permission-denied.
  NativeActorContext() = default;
  // The context of the actor `name` of kind `kind`, granted `grants`, drawing on `platform`
  // (null: a node without platform services; a granted call then fails unavailable). Nothing
  // is opened here. Use native_kind_factory, which checks the kind and the name first.
  NativeActorContext(std::string kind, std::string name, NativeGrants grants,
                     PlatformServices* platform);
  NativeActorContext(NativeActorContext&&) noexcept = default;
  NativeActorContext& operator=(NativeActorContext&&) noexcept = default;
  NativeActorContext(const NativeActorContext&) = delete;
  NativeActorContext& operator=(const NativeActorContext&) = delete;
  ~NativeActorContext();

  // The actor's store, opened at the first call. Errors: permission-denied (storage not
  // granted), unavailable (no platform services; the store held by a live actor), and those
  // of StorageService::open_store (invalid-argument, refused, malformed, io).
  Result<ActorStore*> storage();
  // The actor's signer; its key is made (or loaded) at the first call, so a damaged record
  // fails here. Errors: permission-denied (signing not granted), unavailable (no platform
  // services), and those of KeyCustody::get_or_create (damaged, master-key-mismatch, io, ...).
  Result<NativeSigner*> signer();

  // Runs `body` on the store inside one transaction: every put and delete it makes commits
  // together when it returns success (on disk when this returns), and none is kept when it
  // returns an error or throws; reads inside see its own writes. Returns the body's error, the
  // commit's (io: nothing kept), or storage()'s. Not reentrant (a nested call fails internal).
  Result<void> transaction(const std::function<Result<void>(ActorStore&)>& body);

  const std::string& kind() const { return kind_; }
  const std::string& name() const { return name_; }
  const NativeGrants& grants() const { return grants_; }

  // The custodial key name of the native actor `name` of kind `kind`: "native/<kind>/<name>".
  // Packaged actors' keys start with a signing key id ("mfr-"), unnamed ones' with
  // "ephemeral/", the node's own with "node/": no native key name reaches them.
  static std::string key_name(const std::string& kind, const std::string& name);
  // Whether a granted actor's kind and name can hold a store and a key: a name is given, and
  // both are path components (actor_store_path.h: 1..64 bytes of [A-Za-z0-9._-], not . or ..),
  // which also keeps key_name injective. Errors: invalid-argument, saying which and why.
  static Result<void> check_names(const std::string& kind, const std::string& name);

 private:
  std::string kind_;
  std::string name_;
  NativeGrants grants_;
  PlatformServices* platform_ = nullptr;
  std::optional<StoreLease> lease_;
  std::unique_ptr<NativeSigner> signer_;
};

}  // namespace troupe
