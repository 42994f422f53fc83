// ActorIdentities: the credentials of the actors a node runs from packages — who is enrolled,
// the credential each holds now, and their renewal ahead of expiry (credential_renewal.h's
// policy), all on the injectable clock.
//
// - enroll() is called when an actor's incarnation starts: the first call for an actor id
//   issues its credential (the identity service binds it to the actor's custodial key, made
//   here if missing); later calls (restarts) return the credential it holds.
// - renew_due() is the renewal pass the node runs periodically (and a test runs after moving
//   a ManualClock): for each credential due, it asks `still_trusted` (the signing key and the
//   package not revoked) and issues a new one. It returns what the node must act on: renewed
//   (tell the actor: on-credential-renewed), expiring (renewal keeps failing and expiry is
//   near: on-credential-expiring, once per credential), refused (revoked: stop the actor with
//   that reason), expired (past exp without a renewal; reported once).
// - forget() drops a stopped actor, and (at remove_forgotten_keys) removes its key when the key
//   was its own for this run only (an unnamed actor's); rotate_key() gives an actor a new custodial
//   key and a new credential at once.
//
// Threading: every call is safe from any thread; a mutex guards the table, and issuing (a
// signature, maybe a key written to disk) runs outside it. Lifetime: the IdentityService and
// KeyCustody must outlive this; the predicates are called while renew_due runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/platform/credential.h"
#include "troupe/platform/identity_service.h"
#include "troupe/platform/key_custody.h"
#include "troupe/platform/unix_clock.h"

namespace troupe {

struct Enrollment {
  ActorId actor;
  std::string actor_type;      // manufacturer:name:version, from the signed manifest
  std::string package_hash;    // 64 hex digits
  std::string signing_key_id;  // the package's signer, "mfr-..."
  std::string key_name;        // the actor's custodial key in KeyCustody
  bool ephemeral_key = false;  // removed when the actor is forgotten (an unnamed actor's)
};

// One enrolled actor, as `troupe identity show` and `troupe keys` see it.
struct EnrolledIdentity {
  Enrollment enrollment;
  Credential credential;
};

struct IdentityEvent {
  enum class Kind { kRenewed, kExpiring, kRefused, kExpired };
  Kind kind = Kind::kRenewed;
  ActorId actor;
  std::int64_t expires_at = 0;  // the credential's exp (the new one for kRenewed)
  std::string reason;           // kRefused, kExpiring: why
};

class ActorIdentities {
 public:
  using StillTrusted =
      std::function<bool(const std::string& signing_key_id, const std::string& package_hash)>;

  ActorIdentities(const IdentityService& service, KeyCustody& keys, UnixClock clock,
                  StillTrusted still_trusted);

  // The actor's credential, issued at its first enrollment. Errors: those of
  // KeyCustody::get_or_create and IdentityService::issue.
  Result<Credential> enroll(const Enrollment& enrollment);

  // The actor's current credential. Errors: not-found (not enrolled), unavailable (it expired
  // and could not be renewed).
  Result<Credential> credential(ActorId actor) const;
  std::optional<EnrolledIdentity> find(ActorId actor) const;
  std::vector<EnrolledIdentity> all() const;

  // The renewal pass at the clock's now (see the header comment).
  std::vector<IdentityEvent> renew_due();
  // When renew_due next has anything to do (Unix seconds; INT64_MAX when nothing is enrolled).
  std::int64_t next_check() const;
  // The clock renew_due and next_check read (Unix seconds).
  std::int64_t now() const { return clock_.now(); }
  // Every enrolled actor's id (for a sweep of the stopped ones).
  std::vector<ActorId> actors() const;

  // A new custodial key for the actor (the old public key stays for verification) and a new
  // credential bound to it. Errors: not-found (not enrolled), and the custody's and issuer's.
  Result<Credential> rotate_key(ActorId actor);

  // Drops the actor (cheap: no disk I/O); its key too when ephemeral, at the next
  // remove_forgotten_keys(). Unknown ids are ignored.
  void forget(ActorId actor);
  // Removes the ephemeral keys of the actors forgotten so far (a file removal each, flushed:
  // milliseconds; the node calls it from its renewal loop, never a worker or the control
  // thread).
  void remove_forgotten_keys();
  std::size_t size() const;

 private:
  struct Entry {
    Enrollment enrollment;
    Credential credential;
    bool told_expiring = false;  // for this credential
    bool told_expired = false;   // for this credential
  };
  CredentialRequest request_of(const Enrollment& e) const;

  const IdentityService& service_;
  KeyCustody& keys_;
  UnixClock clock_;
  StillTrusted still_trusted_;
  std::mutex rotate_mutex_;  // serializes rotate_key
  mutable std::mutex mutex_;
  std::map<ActorId, Entry> entries_;         // guarded by mutex_
  std::vector<std::string> keys_to_remove_;  // guarded by mutex_
};

}  // namespace troupe
