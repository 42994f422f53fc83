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
  if (key_name.starts_with("node/")) {
    return Error{BaseErrc::kRefused, "the node's own keys sign for no actor"};
  }
  auto info = custody.get_or_create(key_name);
  if (!info.ok()) return info.error();
  return std::unique_ptr<CustodialGuestSigner>(
      new CustodialGuestSigner(custody, std::move(key_name)));
}

wasm::HostResult<std::string> CustodialGuestSigner::sign(std::string_view message) {
  if (message.size() > kMaxMessageBytes) {
    return wasm::HostError{
        wasm::HostErrorKind::kInvalidArgument,
        "a message to sign is at most " + std::to_string(kMaxMessageBytes) + " bytes"};
  }
  auto sig = custody_.sign(key_name_, message);
  if (!sig.ok()) {
    spdlog::warn("signing for {} failed: {}", key_name_, sig.error().to_string());
    return wasm::HostError{wasm::HostErrorKind::kInternal,
                           "signing failed (" + std::string(sig.error().code.name()) + ")"};
  }
  return as_bytes(*sig);
}

Result<std::string> CustodialGuestSigner::public_key() {
  // The current key: the one sign() uses, after a rotation too.
  auto key = custody_.public_key(key_name_);
  if (!key.ok()) {
    spdlog::warn("public key of {}: {}", key_name_, key.error().to_string());
    return Error{key.error().code, "the actor's public key is not available"};
  }
  return as_bytes(*key);
}

}  // namespace troupe
