// serve_guest_services: the troupe:host storage, signing and identity imports of a guest,
// answered from the services its incarnation was given (guest_services.h) — the canonical-ABI
// values in and out, a service's HostError as the interface's `host-error` case. An import of
// an interface the guest was not given is not served here (nullopt): the actor refuses such a
// guest at start, and the instance's default answers it otherwise.
// Threading: that of the services (an actor's own incarnation calls it, one call at a time).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/wasm/canonical_abi.h"
#include "troupe/wasm/guest_services.h"
#include "troupe/wasm/workload_types.h"

namespace troupe::wasm {

std::optional<Result<std::optional<AbiValue>>> serve_guest_services(GuestServices& services,
                                                                    std::string_view iface,
                                                                    const workload::Function& f,
                                                                    std::vector<AbiValue>& args);

}  // namespace troupe::wasm
