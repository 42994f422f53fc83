#include "troupe/node/enrolled_guest_identity.h"

namespace troupe {

wasm::HostResult<std::string> EnrolledGuestIdentity::credential() {
  auto c = identities_.credential(actor_);
  if (c.ok()) return std::move(c).value().jws;
  // not-found cannot happen for an enrolled actor; expired is the case the guest can meet.
  return wasm::HostError{wasm::HostErrorKind::kNotFound, c.error().detail};
}

}  // namespace troupe
