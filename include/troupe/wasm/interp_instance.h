// InterpInstance: one instance of a GuestModule running in WABT's interpreter (the interpreter
// tier). The host calls contract exports with component-level values (the canonical ABI does
// the crossing, including cabi_realloc and post-return calls); the guest's imports of the
// contract and of the WASI subset come back to a HostImports. A trap, or an ABI violation in
// either direction, fails that call with a typed error (kTrap, kAbiViolation) and leaves the
// host untouched; after one, the instance should be discarded (its state is undefined).
// Not thread-safe: one call at a time, like the actor that owns it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/wasm/canonical_abi.h"
#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/workload_types.h"

namespace troupe::wasm {

class HostImports {
 public:
  virtual ~HostImports() = default;
  // A contract import (actr:workload/host). An error traps the guest's call with that error.
  virtual Result<std::optional<AbiValue>> call_host(const workload::Function& f,
                                                    std::vector<AbiValue> args) = 0;
  // WASI fd_write to stdout (1) or stderr (2).
  virtual void write_output(int fd, std::string_view bytes) = 0;
};

struct Limits {
  // Fuel for one invocation (an export call, with the cabi_realloc and post-return calls it
  // makes): one unit per function entry and per loop iteration. 0 = unlimited.
  std::uint64_t fuel = 0;
};

class InterpInstance final : public GuestMemory {
 public:
  static Result<std::unique_ptr<InterpInstance>> create(const GuestModule& module,
                                                        HostImports& host, Limits limits = {});
  ~InterpInstance() override;
  InterpInstance(const InterpInstance&) = delete;
  InterpInstance& operator=(const InterpInstance&) = delete;

  // Calls the contract export `wit_name` ("dispatch", "on-start", ...); nullopt result for a
  // function without one. kNotFound when the guest does not export it.
  Result<std::optional<AbiValue>> call(std::string_view wit_name,
                                       const std::vector<AbiValue>& args);

  std::span<std::uint8_t> bytes() override;
  Result<std::uint32_t> realloc(std::uint32_t old_ptr, std::uint32_t old_size, std::uint32_t align,
                                std::uint32_t new_size) override;

 private:
  struct State;
  explicit InterpInstance(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace troupe::wasm
