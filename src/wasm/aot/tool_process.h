// Internal: runs one of the AOT tier's tools (wasm2c, the C compiler) as a child process under
// limits, so a module crafted to make them run away (in time, memory or output) costs a bounded
// amount and fails cleanly. The child gets RLIMIT_CPU, RLIMIT_AS and RLIMIT_FSIZE before exec
// and its own process group; the parent kills the whole group when the wall-clock limit passes.
// Thread-safe (each call is independent); blocks the calling thread until the child is gone.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "troupe/wasm/aot.h"

namespace troupe::wasm::aot {

struct ToolRun {
  int status = -1;  // exit status; -1 when it could not start or did not exit normally
  // Why it did not exit normally, when status is -1: "the output limit", "the CPU-time
  // limit", "the wall-clock limit", "signal N", "cannot start", or an end it could not see.
  std::string stopped_by;
  std::string output;  // stdout and stderr (the first 64 KiB)
};

// Runs argv (argv[0] looked up in PATH) with stdin from /dev/null and stdout and stderr into
// `log`, a file created for it.
ToolRun run_tool(const std::vector<std::string>& argv, const std::filesystem::path& log,
                 const AotToolLimits& limits);

}  // namespace troupe::wasm::aot
