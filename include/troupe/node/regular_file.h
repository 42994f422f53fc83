// read_regular_file: reads a whole file a user named (a guest module, a payload) without
// trusting what it is. Only regular files are read — a FIFO, a device (/dev/zero), a socket or
// a directory is refused before any read — and never more than a cap, checked on the size
// before reading and again while reading (the file may grow). The open never blocks (a FIFO
// without a writer would otherwise hang the caller). Thread-safe; blocks only on disk I/O.
#pragma once

#include <cstddef>
#include <string>

#include "troupe/base/result.h"

namespace troupe {

// The documented cap on a WebAssembly module file given to `spawn --wasm` or `call --wasm`.
inline constexpr std::size_t kMaxModuleFileBytes = std::size_t{64} << 20;  // 64 MiB
// The cap on a node's TOML config file (a few hundred bytes in practice).
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;  // 1 MiB

// Errors: not-found (missing), invalid-argument (not a regular file), too-large (over
// max_bytes), io (anything else). `what` names the file in messages ("module", "payload").
Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes,
                                      const std::string& what);

}  // namespace troupe
