#include "troupe/node/custodial_guest_signer.h"

#include <spdlog/spdlog.h>

namespace troupe {

namespace {
std::string as_bytes(const auto& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}
}  // namespace

Result<std::unique_ptr<CustodialGuestSigner>> CustodialGuestSigner::open(KeyCustody& custody,
                                                                         std::string key_name) {
  auto info = custody.get_or_create(key_name);
  if (!info.ok()) return info.error();
  return std::unique_ptr<CustodialGuestSigner>(
      new CustodialGuestSigner(custody, std::move(key_name), info->public_key));
}

wasm::HostResult<std::string> CustodialGuestSigner::sign(std::string_view message) {
  auto sig = custody_.sign(key_name_, message);
  if (!sig.ok()) {
    spdlog::warn("signing for {} failed: {}", key_name_, sig.error().to_string());
    return wasm::HostError{wasm::HostErrorKind::kInternal,
                           "signing failed (" + std::string(sig.error().code.name()) + ")"};
  }
  return as_bytes(*sig);
}

std::string CustodialGuestSigner::public_key() {
  // The current key: a rotation since open must not leave the guest with a stale one.
  auto key = custody_.public_key(key_name_);
  if (key.ok()) public_key_ = *key;
  return as_bytes(public_key_);
}

}  // namespace troupe
