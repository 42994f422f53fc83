// to_error / to_guest_error: the mapping between the workload contract's actr-error (what a
// guest sees and returns) and troupe's Error, lossless for guest-to-guest calls (the case name
// travels in the detail of a kHandlerError). Pure functions; thread-safe.
#pragma once

#include "troupe/base/error.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::wasm {

Error to_error(const workload::GuestError& e);
workload::GuestError to_guest_error(const Error& e);

}  // namespace troupe::wasm
