// GuestServices: what the node serves one WebAssembly actor beyond the workload contract — its
// own key-value storage, signing with its custodial key and its credential (wit/troupe-host.wit,
// interfaces storage, signing and identity). The wasm layer only calls these; the platform layer
// implements them (the node adapts its per-actor store and key custody), so a guest never holds a
// database or a private key itself. A service that is absent was not granted: a guest that imports
// it is refused at spawn (WasmActor::on_start), never at its first call.
//
// Threading and lifetime: one GuestServices belongs to one actor incarnation; only that actor's
// activation calls it (one call at a time, from whichever worker runs the actor). It is made
// at the incarnation's start (WasmActorOptions::services) and destroyed with it, which
// releases what it holds (the store's lease) before the next incarnation makes its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"

namespace troupe::wasm {

// troupe:host/errors.host-error, case by case (the WIT variant's order).
enum class HostErrorKind : std::uint32_t {
  kDenied = 0,
  kQuotaExceeded = 1,
  kNotFound = 2,
  kInvalidArgument = 3,
  kInternal = 4,
};
struct HostError {
  HostErrorKind kind = HostErrorKind::kInternal;
  std::string message;  // one line, for the guest
};
template <class T>
using HostResult = std::variant<T, HostError>;

// The actor's storage. Writes join the invocation in progress (a dispatch or a hook): WasmActor
// calls begin_dispatch before it and commit_dispatch when it succeeded (rollback_dispatch when
// it failed or trapped); only after the commit are the tells it made and its reply released.
class GuestStorage {
 public:
  virtual ~GuestStorage() = default;
  virtual HostResult<std::optional<std::string>> get(std::string_view key) = 0;
  virtual HostResult<std::monostate> put(std::string_view key, std::string_view value) = 0;
  virtual HostResult<bool> remove(std::string_view key) = 0;
  virtual HostResult<std::vector<std::string>> list_keys(std::string_view prefix,
                                                         std::uint32_t limit) = 0;
  virtual void begin_dispatch() = 0;
  // An error: nothing of the dispatch was kept (the store is its committed state).
  virtual Result<void> commit_dispatch() = 0;
  virtual void rollback_dispatch() = 0;
};

// Signing with the actor's custodial key, which never leaves the node.
class GuestSigner {
 public:
  virtual ~GuestSigner() = default;
  virtual HostResult<std::string> sign(std::string_view message) = 0;  // 64-byte Ed25519
  // 32 bytes; an error traps the guest (the WIT function has no error case).
  virtual Result<std::string> public_key() = 0;
  // The largest message sign() takes (more: invalid-argument), so one call stays short.
  static constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 20;
};

// The actor's credential from the node's identity service (a compact JWS), current at the
// time of the call: renewals replace it.
class GuestIdentity {
 public:
  virtual ~GuestIdentity() = default;
  virtual HostResult<std::string> credential() = 0;
};

struct GuestServices {
  std::unique_ptr<GuestStorage> storage;    // null: storage not granted
  std::unique_ptr<GuestSigner> signing;     // null: signing not granted
  std::unique_ptr<GuestIdentity> identity;  // null: identity not granted
};

// Makes one incarnation's services for the actor `self`; an error fails that incarnation's
// start.
using GuestServicesFactory = std::function<Result<GuestServices>(ActorId self)>;

}  // namespace troupe::wasm
