#include "limit_flags.h"

namespace troupe::cli {

void add_limit_flags(CLI::App* cmd, LimitFlags& flags) {
  static const char* const kHelp[wasm::kLimitKeys] = {
      "fuel per invocation: one unit per function entry and loop iteration",
      "wall-clock limit per invocation in milliseconds",
      "linear-memory limit in 64 KiB pages",
      "elements per table",
      "nested guest calls",
      "largest reply of a dispatch in bytes",
  };
  const wasm::Limits defaults;
  for (const wasm::LimitInfo& info : wasm::limit_infos()) {
    const auto i = static_cast<std::size_t>(info.key);
    flags.option[i] =
        cmd->add_option(info.flag, flags.text[i],
                        std::string(kHelp[i]) + ": " + wasm::limit_expectation(info) +
                            " (default " + wasm::get_limit(defaults, info.key).to_string() + ")");
  }
}

Result<wasm::LimitRequest> parse_limit_flags(const LimitFlags& flags) {
  wasm::LimitRequest out;
  for (const wasm::LimitInfo& info : wasm::limit_infos()) {
    const auto i = static_cast<std::size_t>(info.key);
    if (flags.option[i] == nullptr || flags.option[i]->count() == 0) continue;
    auto v = wasm::parse_limit(info, flags.text[i], info.flag);
    if (!v.ok()) return v.error();
    out[i] = *v;
  }
  return out;
}

}  // namespace troupe::cli
