// `troupe call --wasm FILE --route ROUTE [--data TEXT | --data-file FILE]`: runs one guest
// in-process without a node — on-start (and on-ready), one dispatch, on-stop — like
// `wasmtime run` for an actor. Reply bytes go to stdout. Exit codes: 0 success, 1 usage,
// 2 the guest returned an actr-error, 3 the host stopped the invocation (trap, fuel, deadline,
// memory limit, ABI violation),
// 4 the module was refused at load; the first stderr line is then `error: KIND: DETAIL`.
// Limits: a node's defaults (docs/WASM.md) unless a flag asks otherwise; with no node to
// refuse it, any value in range and "unlimited" are accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "limit_flags.h"

namespace troupe::cli {

// The cap on a `--data-file` payload of `troupe call` (no frame limit applies in-process).
inline constexpr std::size_t kMaxPayloadFileBytes = std::size_t{64} << 20;  // 64 MiB

struct CallOptions {
  std::string wasm_file;
  std::string route;
  std::string data;
  std::string data_file;
  LimitFlags limits;          // unset: the defaults a node gives (wasm::Limits)
  std::string tier = "auto";  // auto | aot | interp
};

int run_call(const CallOptions& options);

}  // namespace troupe::cli
