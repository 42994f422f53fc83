// Internal: one instantiated core module, whichever tier runs it (interp_bridge.h for WABT's
// interpreter, aot.cc for code built by wasm2c and the C compiler). Instance drives the
// contract over it; the conformance runner drives spec modules over it. Kept to C++17 and
// plain types, because the interpreter's side is built as C++17.
// Core values travel as uint64_t: i32 and f32 zero-extended (f32/f64 as their bits).
// Not thread-safe: one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace troupe::wasm::core {

// Called for an imported function: fill `results` (one per core result) and return true, or
// set `trap` and return false to trap the guest.
using HostCallback = std::function<bool(const std::vector<std::uint64_t>& params,
                                        std::vector<std::uint64_t>& results, std::string& trap)>;
// Gives the callback for import module.name; an empty callback traps when called.
using Resolver = std::function<HostCallback(const std::string& module, const std::string& name)>;

class CoreInstance {
 public:
  virtual ~CoreInstance() = default;

  virtual bool has_function(const std::string& export_name) const = 0;
  // False with `trap` set when the guest trapped.
  virtual bool call(const std::string& export_name, const std::vector<std::uint64_t>& args,
                    std::vector<std::uint64_t>& results, std::string& trap) = 0;
  // The exported memory `name`: its bytes now (they move when the guest grows it).
  virtual std::uint8_t* memory_data(const std::string& name) = 0;
  virtual std::uint64_t memory_size(const std::string& name) = 0;
  // An exported global, as a core value; set_global is false (and changes nothing) and
  // get_global false when there is none (set_global also when it is immutable).
  virtual bool set_global(const std::string& name, std::uint64_t value) = 0;
  virtual bool get_global(const std::string& name, std::uint64_t& value) = 0;
};

}  // namespace troupe::wasm::core
