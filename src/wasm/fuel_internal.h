// The fuel pass on a module already parsed: GuestModule::load has the IR from its own parse
// and validation, and hands it over rather than have the pass parse the binary again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "troupe/base/result.h"

namespace wabt {
struct Module;
}

namespace troupe::wasm {

// Instruments `module` in place (it is consumed) and encodes it. `size_hint` is the size of
// the binary it was read from, to size the output once.
Result<std::vector<std::uint8_t>> instrument_fuel_ir(wabt::Module& module, std::size_t size_hint);

}  // namespace troupe::wasm
