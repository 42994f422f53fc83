// CustodialGuestSigner: a WebAssembly actor's troupe:host/signing (wasm::GuestSigner) served
// from the node's KeyCustody: the guest names nothing — the key is the one the node keeps
// under this actor's key name (e.g. "acme:kv:1.0.0/alice"), made at the first use and kept
// across restarts. The secret key never leaves KeyCustody; internal failures are logged here
// and reach the guest without their detail.
// Threading and lifetime: those of wasm::GuestSigner (one actor incarnation's, its activation
// only); the KeyCustody must outlive it (the node owns both).
#pragma once

#include <string>

#include "troupe/platform/key_custody.h"
#include "troupe/wasm/guest_services.h"

namespace troupe {

class CustodialGuestSigner final : public wasm::GuestSigner {
 public:
  // Makes (or loads) the key now, so a damaged record fails the actor's start, not a later
  // call. Errors: refused for a name of the node's own keys ("node/..."), which no actor may
  // sign with; those of KeyCustody::get_or_create.
  static Result<std::unique_ptr<CustodialGuestSigner>> open(KeyCustody& custody,
                                                            std::string key_name);

  wasm::HostResult<std::string> sign(std::string_view message) override;
  Result<std::string> public_key() override;

 private:
  CustodialGuestSigner(KeyCustody& custody, std::string key_name)
      : custody_(custody), key_name_(std::move(key_name)) {}

  KeyCustody& custody_;
  std::string key_name_;
};

}  // namespace troupe
