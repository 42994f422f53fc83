// LeasedGuestStorage: a WebAssembly actor's troupe:host/storage (wasm::GuestStorage) served
// from its platform store (StoreLease, storage_service.h). Each invocation of the guest runs in
// one DispatchTransaction: WasmActor begins it, and commits it only when the invocation
// succeeded (the output gate). Store errors reach the guest as host-error cases; an internal
// failure (I/O, a damaged file) is logged in full here and reaches the guest without its
// detail (no node path ever enters a guest).
// Threading and lifetime: those of wasm::GuestStorage — one actor incarnation's, used by its
// activation only; destroying it rolls back an open transaction and then releases the lease.
#pragma once

#include <optional>

#include "troupe/platform/dispatch_transaction.h"
#include "troupe/platform/storage_service.h"
#include "troupe/wasm/guest_services.h"

namespace troupe {

class LeasedGuestStorage final : public wasm::GuestStorage {
 public:
  explicit LeasedGuestStorage(StoreLease lease) : lease_(std::move(lease)) {}

  wasm::HostResult<std::optional<std::string>> get(std::string_view key) override;
  wasm::HostResult<std::monostate> put(std::string_view key, std::string_view value) override;
  wasm::HostResult<bool> remove(std::string_view key) override;
  wasm::HostResult<std::vector<std::string>> list_keys(std::string_view prefix,
                                                       std::uint32_t limit) override;
  void begin_dispatch() override;
  Result<void> commit_dispatch() override;
  void rollback_dispatch() override;

  // The host-error a store error becomes for the guest.
  static wasm::HostError to_host_error(const Error& e, std::string_view what);

 private:
  StoreLease lease_;
  std::optional<DispatchTransaction> tx_;  // declared after lease_: ends before the store
  std::optional<Error> begin_failed_;      // the invocation's writes fail with it
};

}  // namespace troupe
