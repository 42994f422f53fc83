// Bytes: an owned, contiguous byte buffer. A std::string underneath because payloads are
// routinely text at the edges (CLI, HTTP) and std::string has the small-buffer optimisation;
// it holds arbitrary bytes including NUL.
#pragma once

#include <string>
#include <string_view>

namespace troupe {

using Bytes = std::string;
using BytesView = std::string_view;

}  // namespace troupe
