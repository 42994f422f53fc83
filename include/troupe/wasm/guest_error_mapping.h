// to_error / to_guest_error: the mapping between the workload contract's actr-error (what a
// guest sees and returns) and troupe's Error, lossless for guest-to-guest calls (the case name
// travels in the detail of a kHandlerError). Pure functions; thread-safe.
#pragma once

#include "troupe/base/error.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::wasm {

Error to_error(const workload::GuestError& e);
workload::GuestError to_guest_error(const Error& e);
// A reliable data-stream chunk's failure as its sender sees it: a native actor (here or on
// another node) without a handler for chunks is unavailable, as a guest without on-data-stream
// says; anything else as to_guest_error.
workload::GuestError stream_error_to_guest(const Error& e);

}  // namespace troupe::wasm
