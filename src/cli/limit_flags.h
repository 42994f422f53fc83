// The WebAssembly limit flags that `troupe spawn --wasm` and `troupe call` share (--fuel,
// --timeout-ms, --memory-pages, --table-elements, --call-depth, --reply-bytes): each takes an
// integer in its range or the word "unlimited" (where that limit has one), never 0. They are
// read as text and checked here, so that a bad value is a usage error before anything runs.
// Plain functions; a LimitFlags lives as long as the CLI::App that fills it.
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <string>

#include "troupe/base/result.h"
#include "troupe/wasm/guest_policy.h"

namespace troupe::cli {

struct LimitFlags {
  std::array<std::string, wasm::kLimitKeys> text;
  std::array<CLI::Option*, wasm::kLimitKeys> option{};
};

// Adds the flags to `cmd`; parsing the command line fills `flags`.
void add_limit_flags(CLI::App* cmd, LimitFlags& flags);
// The values given (an empty one too is checked); kInvalidArgument ("--fuel must be ...") for
// a bad one.
Result<wasm::LimitRequest> parse_limit_flags(const LimitFlags& flags);

}  // namespace troupe::cli
