#include "troupe/node/leased_guest_storage.h"

#include <spdlog/spdlog.h>

#include "troupe/platform/platform_error.h"

namespace troupe {

using wasm::HostError;
using wasm::HostErrorKind;

HostError LeasedGuestStorage::to_host_error(const Error& e, std::string_view what) {
  if (e.code == PlatformErrc::kQuotaExceeded) return {HostErrorKind::kQuotaExceeded, e.detail};
  if (e.code == PlatformErrc::kPermissionDenied) return {HostErrorKind::kDenied, e.detail};
  if (e.code == BaseErrc::kInvalidArgument || e.code == BaseErrc::kTooLarge) {
    return {HostErrorKind::kInvalidArgument, e.detail};
  }
  if (e.code == BaseErrc::kNotFound) return {HostErrorKind::kNotFound, e.detail};
  spdlog::warn("storage {} failed: {}", what, e.to_string());
  return {HostErrorKind::kInternal,
          "storage " + std::string(what) + " failed (" + std::string(e.code.name()) + ")"};
}

wasm::HostResult<std::optional<std::string>> LeasedGuestStorage::get(std::string_view key) {
  auto r = lease_.store().get(key);
  if (!r.ok()) return to_host_error(r.error(), "get");
  return std::move(r).value();
}

namespace {
// Writes outside an invocation (a cm32p2 initializer runs before any) would commit one by one,
// past the output gate: they are refused.
HostError outside_invocation() {
  return {HostErrorKind::kDenied, "storage is written only while handling a message or a hook"};
}
}  // namespace

wasm::HostResult<std::monostate> LeasedGuestStorage::put(std::string_view key,
                                                         std::string_view value) {
  if (begin_failed_) return to_host_error(*begin_failed_, "put");
  if (!tx_) return outside_invocation();
  auto r = lease_.store().put(key, value);
  if (!r.ok()) return to_host_error(r.error(), "put");
  return std::monostate{};
}

wasm::HostResult<bool> LeasedGuestStorage::remove(std::string_view key) {
  if (begin_failed_) return to_host_error(*begin_failed_, "delete");
  if (!tx_) return outside_invocation();
  auto r = lease_.store().remove(key);
  if (!r.ok()) return to_host_error(r.error(), "delete");
  return r.value();
}

wasm::HostResult<std::vector<std::string>> LeasedGuestStorage::list_keys(std::string_view prefix,
                                                                         std::uint32_t limit) {
  auto r = lease_.store().list_keys(prefix, limit);
  if (!r.ok()) return to_host_error(r.error(), "list-keys");
  return std::move(r).value();
}

void LeasedGuestStorage::begin_dispatch() {
  tx_.reset();  // a transaction left open (never, by WasmActor's contract) rolls back
  begin_failed_.reset();
  auto tx = DispatchTransaction::begin(lease_.store());
  if (!tx.ok()) {
    // Writes outside a transaction would commit one by one: refuse them instead.
    begin_failed_ = tx.error();
    return;
  }
  tx_.emplace(std::move(tx).value());
}

Result<void> LeasedGuestStorage::commit_dispatch() {
  if (begin_failed_) return *std::exchange(begin_failed_, std::nullopt);
  if (!tx_) return Error{BaseErrc::kInternal, "no storage transaction to commit"};
  auto r = tx_->commit();
  tx_.reset();
  return r;
}

void LeasedGuestStorage::rollback_dispatch() {
  tx_.reset();  // rolls back unless committed
  begin_failed_.reset();
}

}  // namespace troupe
