// Internal: troupe's wasm-rt.h runtime (src/wasm/aot/troupe_rt.c) and the host interface
// header (troupe_aot.h), embedded at build time; AotCompiler writes them next to each
// module's generated C.
#pragma once

#include <string_view>

namespace troupe::wasm::aot_sources {

extern const std::string_view kRuntime;
extern const std::string_view kHeader;

}  // namespace troupe::wasm::aot_sources
