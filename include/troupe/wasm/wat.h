// WebAssembly text (WAT) to binary, through WABT's parser. For tests (hostile guests are
// written in WAT) and developer tools; the node itself only loads binaries.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"

namespace troupe::wasm {

Result<std::vector<std::uint8_t>> wat_to_wasm(std::string_view wat);

}  // namespace troupe::wasm
