// Instance: one instance of a GuestModule running in WABT's interpreter (the interpreter
// tier). The host calls contract exports with component-level values (the canonical ABI does
// the crossing, including cabi_realloc and post-return calls); the guest's imports of the
// contract and of the WASI subset come back to a HostImports. A trap, or an ABI violation in
// either direction, fails that call with a typed error (kTrap, kAbiViolation) and leaves the
// host untouched; after one, the instance should be discarded (its state is undefined).
// Not thread-safe: one call at a time, like the actor that owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/wasm/canonical_abi.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/workload_types.h"
#include "troupe/wasm/workload_values.h"

namespace troupe::wasm {

class HostImports {
 public:
  virtual ~HostImports() = default;
  // A contract import (actr:workload/host). An error traps the guest's call with that error.
  virtual Result<std::optional<AbiValue>> call_host(const workload::Function& f,
                                                    std::vector<AbiValue> args) = 0;
  // A troupe:host import the instance does not serve itself (storage, signing): `iface` is the
  // interface's name. An error traps the guest's call with that error.
  virtual Result<std::optional<AbiValue>> call_troupe_host(std::string_view iface,
                                                           const workload::Function& f,
                                                           std::vector<AbiValue> args);
  // WASI fd_write to stdout (1) or stderr (2).
  virtual void write_output(int fd, std::string_view bytes) = 0;
  // Called at every fuel checkpoint (each kFuelSlice units a guest runs, before the refuel):
  // the host may suspend the guest here to give its worker back — preemption. An error stops
  // the guest's invocation with that error.
  virtual Result<void> at_fuel_checkpoint() { return {}; }
};

// Per-instance limits. An invocation is one export call with the cabi_realloc and
// post-return calls it makes. Every limit is on by default (docs/WASM.md lists the defaults);
// none is ever 0: "unlimited" is its own value (kUnlimitedFuel, kNoDeadline, kAllPages,
// kUnlimitedTableElements), and Instance::create refuses a 0.
inline constexpr std::uint64_t kUnlimitedFuel = UINT64_MAX;
inline constexpr std::chrono::milliseconds kNoDeadline = std::chrono::milliseconds::max();
inline constexpr std::uint32_t kAllPages = 65536;  // memory_pages: the module's own maximum
inline constexpr std::uint32_t kUnlimitedTableElements = UINT32_MAX;
struct Limits {
  // Fuel per invocation: one unit per function entry and per loop iteration (about 1 s of
  // compiled code by default).
  std::uint64_t fuel = 1'000'000'000;
  // Linear memory, in 64 KiB pages: memory.grow past it returns -1 (the guest may cope); a
  // module that starts with more is refused.
  std::uint32_t memory_pages = 256;
  // Wall-clock time per invocation, checked every kFuelSlice units of fuel.
  std::chrono::milliseconds timeout{2000};
  // Nested guest function calls.
  std::uint32_t max_call_depth = 1000;
  // The largest reply a dispatch may return.
  std::uint32_t max_reply_bytes = 16u << 20;
  // Elements of each table: table.grow past it returns -1; a module that starts with more is
  // refused.
  std::uint32_t table_elements = 10000;
  // What one host call may make the host copy out of the guest, across all its arguments
  // (canonical-ABI strings and lists, each lifted value counted at its host size, WASI
  // iovecs): past it the call traps with kMemoryLimit.
  std::uint64_t host_call_bytes = (16u << 20) + (64u << 10);
};
// The interpreter tier caps the call depth here, below WABT's own call stack (64 KiB of frames,
// about 1,600 deep): past that, WABT 1.0.32 mishandles a call_indirect that overflows it (the call
// returns instead of trapping), so troupe's limit must always fire first.
inline constexpr std::uint32_t kInterpMaxCallDepth = 1500;
// How deeply contract imports may nest (an import lowering its result through a cabi_realloc
// that calls an import...): past this, the guest traps.
inline constexpr int kMaxHostNesting = 8;
// How often (in fuel units) a running guest comes back to the host to check its deadline.
inline constexpr std::uint64_t kFuelSlice = 10000;

// Which engine runs a guest. kAuto: the AOT code when the module has it (AotCompiler has
// built or loaded it), else the interpreter. kAot without AOT code is kUnavailable.
enum class Tier { kAuto, kAot, kInterp };
std::optional<Tier> parse_tier(std::string_view name);  // "auto" | "aot" | "interp"
const char* tier_name(Tier tier);

// The linear memory an instance of `module` under `limits` can reach, in bytes: what it
// reserves from the node-wide budget (guest_budget.h).
std::uint64_t memory_ceiling(const GuestModule& module, const Limits& limits);

// Whether an instance of `module` can start under `limits` at all: kMemoryLimit when its
// memory or a table starts larger than they allow. Instance::create checks it; a spawn checks
// it first, so a module that could never start is refused instead of failing every restart.
Result<void> fits_limits(const GuestModule& module, const Limits& limits);

// What a dispatch answered: the reply bytes, or the guest's actr-error.
struct DispatchReply {
  Bytes reply;
  std::optional<workload::GuestError> error;
};

class Instance final : public GuestMemory {
 public:
  static Result<std::unique_ptr<Instance>> create(const GuestModule& module, HostImports& host,
                                                  Limits limits = {}, Tier tier = Tier::kAuto);
  ~Instance() override;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // Calls the contract export `wit_name` ("dispatch", "on-start", ...); nullopt result for a
  // function without one. kNotFound when the guest does not export it.
  Result<std::optional<AbiValue>> call(std::string_view wit_name,
                                       const std::vector<AbiValue>& args);

  // The contract's dispatch, without building AbiValues: the envelope is lowered straight
  // into guest memory and the result lifted from it, with the same checks as call(). The
  // request id and route must be UTF-8 (they are WIT strings): else kInvalidArgument, and the
  // guest is not called. Without `keep_reply` (nobody waits for it) an ok reply is checked
  // like any other but not copied out: `reply` stays empty.
  Result<DispatchReply> dispatch(std::string_view request_id, std::string_view route,
                                 std::string_view payload, bool keep_reply = true);

  // The current invocation's deadline moves `waited` later, by at most `budget` in all per
  // invocation: the host calls this after the guest waited, suspended on its fiber, for the
  // reply to one of its calls. The deadline bounds the time a guest runs or waits for a
  // worker, plus at most `budget` of such waits; each call has its own timeout.
  void exclude_wait(std::chrono::steady_clock::duration waited,
                    std::chrono::steady_clock::duration budget);
  // kDeadlineExceeded once the current invocation's deadline has passed: the host checks it
  // when a guest resumes from a wait, since a guest that waits much and runs little may reach
  // no fuel checkpoint for a long time.
  Result<void> check_deadline() const;

  // The tier running it: kAot or kInterp.
  Tier tier() const;
  // The most bytes of guest values one host call has made the host hold (see
  // Limits::host_call_bytes): for tests and metrics.
  std::uint64_t peak_host_bytes() const;

  std::span<std::uint8_t> bytes() override;
  Result<std::uint32_t> realloc(std::uint32_t old_ptr, std::uint32_t old_size, std::uint32_t align,
                                std::uint32_t new_size) override;
  Result<void> materialize(std::uint64_t bytes) override;

 private:
  struct State;
  explicit Instance(std::unique_ptr<State> state);
  Result<DispatchReply> lift_dispatch_result(std::uint32_t ptr, bool keep_reply);
  std::unique_ptr<State> s_;
};

}  // namespace troupe::wasm
