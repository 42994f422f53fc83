#include "call_command.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "troupe/node/regular_file.h"
#include "troupe/wasm/aot.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/output_limiter.h"
#include "troupe/wasm/workload_types.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::cli {
namespace {

using wasm::AbiValue;
using wasm::workload::ActrErrorCase;

// The host for a guest running alone: logging and context work; anything that needs other
// actors answers the guest with unavailable (a normal error value, not a trap).
class StandaloneHost final : public wasm::HostImports {
 public:
  explicit StandaloneHost(std::string name) : name_(std::move(name)) {}

  Result<std::optional<AbiValue>> call_host(const wasm::workload::Function& f,
                                            std::vector<AbiValue> args) override {
    using O = std::optional<AbiValue>;
    if (f.name == "log-message") {
      const std::string_view text = args[1].bytes;
      if (const std::size_t keep = output_.admit(text.size())) {
        guest_output += "[" + args[0].bytes + "] ";
        guest_output += text.substr(0, keep);
        guest_output += keep < text.size() ? " [cut]\n" : "\n";
      }
      return O{};
    }
    if (f.name == "get-self-id") {
      return O(wasm::workload::to_value(wasm::workload::ActrId{0, 1, {"troupe", name_, "0"}}));
    }
    if (f.name == "get-caller-id") return O(AbiValue::of_case(0));  // none: called from the CLI
    if (f.name == "get-request-id") return O(AbiValue::text(request_id));
    // call, tell, call-raw, discover, streams: result<_, actr-error>-shaped.
    return O(wasm::workload::err(
        {ActrErrorCase::kUnavailable,
         "`troupe call` runs the guest alone; there is no '" + f.name + "' target",
         {}}));
  }
  // The guest's stdout would mix with the reply bytes: it goes to stderr with its log, after
  // the error line if there is one (which must come first).
  // Bounded like a node's log (wasm::OutputLimits): what is dropped is counted, not kept.
  void write_output(int /*fd*/, std::string_view bytes) override {
    guest_output += bytes.substr(0, output_.admit(bytes.size()));
  }
  // A last line for output dropped over the limits, if any.
  std::string dropped_line() {
    auto r = output_.report(true);
    if (!r) return {};
    return "[troupe: dropped " + std::to_string(r->dropped_records) + " records and " +
           std::to_string(r->dropped_bytes) + " bytes of guest output over the limits]\n";
  }

  std::string request_id;
  std::string guest_output;

 private:
  std::string name_;
  wasm::OutputLimiter output_{wasm::OutputLimits{}};
};

int fail(int code, const std::string& kind, const std::string& detail) {
  std::fprintf(stderr, "error: %s: %s\n", kind.c_str(), detail.c_str());
  return code;
}

// Exit code and message for a failed host-side call: 4 refused at load, else 3 (the host
// stopped the invocation); KIND is the error code's name (trap, fuel-exhausted, ...).
int host_failure(const Error& e) {
  return fail(e.code == BaseErrc::kRefused ? 4 : 3, std::string(errc_name(e.code)), e.detail);
}

// For result<_, actr-error> / result<list<u8>, actr-error>: nullopt on ok, else the exit.
std::optional<int> guest_error(const AbiValue& result) {
  auto e = wasm::workload::error_of(result);
  if (!e) return std::nullopt;
  std::string detail = e->service.empty() ? e->message : e->service + ": " + e->message;
  return fail(
      2,
      std::string("guest:") + wasm::workload::actr_error_name(static_cast<std::uint32_t>(e->kind)),
      detail);
}

int run_guest(const CallOptions& o, const wasm::Limits& limits, const std::string& payload,
              StandaloneHost& host, const wasm::GuestModule& module, wasm::Tier tier) {
  auto instance = wasm::Instance::create(module, host, limits, tier);
  if (!instance.ok()) return host_failure(instance.error());
  wasm::Instance& guest = **instance;

  for (const char* hook : {"on-start", "on-ready"}) {
    if (!module.exports_function(hook)) continue;
    auto r = guest.call(hook, {});
    if (!r.ok()) return host_failure(r.error());
    if (auto code = guest_error(**r)) return *code;
  }
  host.request_id = "call-1";
  auto reply =
      guest.call("dispatch", {wasm::workload::envelope(host.request_id, o.route, payload)});
  host.request_id.clear();
  if (!reply.ok()) return host_failure(reply.error());
  if (auto code = guest_error(**reply)) return *code;
  const std::string& out = (**reply).items.at(0).bytes;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (module.exports_function("on-stop")) {
    auto r = guest.call("on-stop", {});
    if (!r.ok()) return host_failure(r.error());
    if (auto code = guest_error(**r)) return *code;
  }
  return 0;
}

// The host's own log lines (spdlog's default logger writes to stdout) during one call: kept
// aside and written to stderr at the end, after the error line if there is one, since stdout
// carries the reply bytes only and the first stderr line is the error.
class HostLogToStderr {
 public:
  HostLogToStderr() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_);
    auto logger = std::make_shared<spdlog::logger>("troupe-call", std::move(sink));
    logger->set_level(previous_->level());
    spdlog::set_default_logger(std::move(logger));
  }
  ~HostLogToStderr() {
    spdlog::set_default_logger(previous_);
    std::string text = lines_.str();
    if (text.size() > kMaxBytes) text = text.substr(0, kMaxBytes) + "[troupe: log cut]\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  HostLogToStderr(const HostLogToStderr&) = delete;
  HostLogToStderr& operator=(const HostLogToStderr&) = delete;

 private:
  static constexpr std::size_t kMaxBytes = 64 * 1024;
  std::ostringstream lines_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace

int run_call(const CallOptions& o) {
  const HostLogToStderr host_log;
  if (!o.data.empty() && !o.data_file.empty()) {
    return fail(1, "usage", "give --data or --data-file, not both");
  }
  std::string payload = o.data;
  if (!o.data_file.empty()) {
    auto d = read_regular_file(o.data_file, kMaxPayloadFileBytes, "payload");
    if (!d.ok()) return fail(1, std::string(errc_name(d.error().code)), d.error().detail);
    payload = std::move(d).value();
  }
  const auto tier = wasm::parse_tier(o.tier);
  if (!tier) return fail(1, "usage", "--tier must be auto, aot or interp");
  auto asked = parse_limit_flags(o.limits);
  if (!asked.ok()) return fail(1, "usage", asked.error().detail);
  wasm::Limits limits;
  for (const wasm::LimitInfo& info : wasm::limit_infos()) {
    const auto& v = (*asked)[static_cast<std::size_t>(info.key)];
    if (v) wasm::set_limit(limits, info.key, *v);
  }
  auto bytes = read_regular_file(o.wasm_file, kMaxModuleFileBytes, "module");
  if (!bytes.ok()) return fail(1, std::string(errc_name(bytes.error().code)), bytes.error().detail);
  std::vector<std::uint8_t> bin(bytes->begin(), bytes->end());
  auto module = wasm::GuestModule::load(bin);
  if (!module.ok()) return host_failure(module.error());
  // auto: AOT when a C compiler is present (built once, then served from the disk cache); a
  // module wasm2c cannot take runs on the interpreter.
  if (*tier != wasm::Tier::kInterp) {
    wasm::AotCompiler& compiler = wasm::AotCompiler::shared();
    if (*tier == wasm::Tier::kAot || compiler.available()) {
      auto code = compiler.compile(*module);
      if (!code.ok() && *tier == wasm::Tier::kAot) {
        return fail(4, "refused", "not runnable on the AOT tier: " + code.error().to_string());
      }
    }
  }

  StandaloneHost host(std::filesystem::path(o.wasm_file).stem().string());
  int code = run_guest(o, limits, payload, host, *module, *tier);
  host.guest_output += host.dropped_line();
  std::fwrite(host.guest_output.data(), 1, host.guest_output.size(), stderr);
  return code;
}

}  // namespace troupe::cli
