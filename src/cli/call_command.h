// `troupe call --wasm FILE --route ROUTE [--data TEXT | --data-file FILE]`: runs one guest
// in-process without a node — on-start (and on-ready), one dispatch, on-stop — like
// `wasmtime run` for an actor. Reply bytes go to stdout. Exit codes: 0 success, 1 usage,
// 2 the guest returned an actr-error, 3 the host stopped the invocation (trap, fuel, deadline,
// memory limit, ABI violation),
// 4 the module was refused at load; the first stderr line is then `error: KIND: DETAIL`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace troupe::cli {

// The cap on a `--data-file` payload of `troupe call` (no frame limit applies in-process).
inline constexpr std::size_t kMaxPayloadFileBytes = std::size_t{64} << 20;  // 64 MiB

struct CallOptions {
  std::string wasm_file;
  std::string route;
  std::string data;
  std::string data_file;
  std::uint64_t fuel = 0;          // per invocation; 0 = unlimited
  std::uint32_t memory_pages = 0;  // 0 = the module's own maximum
  std::uint64_t timeout_ms = 0;    // per invocation; 0 = none
  std::string tier = "auto";       // auto | aot | interp
};

int run_call(const CallOptions& options);

}  // namespace troupe::cli
