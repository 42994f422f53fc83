// Internal: one instantiated core module, whichever tier runs it (interp_bridge.h for WABT's
// interpreter, aot.cc for code built by wasm2c and the C compiler). Instance drives the
// contract over it; the conformance runner drives spec modules over it. Kept to C++17 and
// plain types, because the interpreter's side is built as C++17.
// Core values travel as uint64_t slots: i32 and f32 zero-extended (f32/f64 as their bits); a
// v128 takes two slots, low half first (interpreter tier only: the AOT tier refuses v128 at the
// boundary). Parameter and result counts are counted in slots.
// Not thread-safe: one call at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace troupe::wasm::core {

// Called for an imported function: fill `results` (one per core result) and return true, or
// set `trap` and return false to trap the guest.
using HostCallback = std::function<bool(const std::vector<std::uint64_t>& params,
                                        std::vector<std::uint64_t>& results, std::string& trap)>;
// Gives the callback for import module.name; an empty callback traps when called.
using Resolver = std::function<HostCallback(const std::string& module, const std::string& name)>;

// Exports are looked up by name once and then used by index (function(), memory(), global()
// answer -1 when there is no such export of that kind).
class CoreInstance {
 public:
  virtual ~CoreInstance() = default;

  virtual int function(const std::string& export_name) const = 0;
  // function() of each of `names`, in order. `names` must live as long as the process (a
  // static table): the AOT tier remembers the answer per loaded object under its address.
  virtual std::shared_ptr<const std::vector<int>> functions(
      const std::vector<std::string>& names) const {
    auto out = std::make_shared<std::vector<int>>();
    out->reserve(names.size());
    for (const std::string& n : names) out->push_back(function(n));
    return out;
  }
  virtual std::size_t param_count(int function) const = 0;
  virtual std::size_t result_count(int function) const = 0;
  // `args` holds param_count() values, `results` has room for result_count(). False with
  // `trap` set when the guest trapped.
  virtual bool call(int function, const std::uint64_t* args, std::uint64_t* results,
                    std::string& trap) = 0;
  // The same with vectors: missing arguments are zero, `results` is resized to fit.
  bool call(int function, std::vector<std::uint64_t> args, std::vector<std::uint64_t>& results,
            std::string& trap) {
    args.resize(param_count(function), 0);
    results.resize(result_count(function));
    return call(function, args.data(), results.data(), trap);
  }

  virtual int memory(const std::string& export_name) const = 0;
  // The memory's bytes now (they move when the guest grows it).
  struct Bytes {
    std::uint8_t* data;
    std::uint64_t size;
  };
  virtual Bytes memory_bytes(int memory) = 0;

  // Calls `function` with n (at most kMaxLowered) byte strings lowered as the canonical ABI
  // lowers a string or list<u8> argument: for each in order, `realloc`(0, 0, 1, size), then a
  // copy into `memory`; the function gets (pointer, size) per string and has room for its
  // results. The AOT tier does it in one guest entry.
  struct Lowered {
    const void* data;
    std::uint32_t size;
  };
  static constexpr std::size_t kMaxLowered = 8;
  enum class LowerOutcome {
    kReturned,
    kTrapped,      // `trap` says why
    kOutOfBounds,  // realloc answered `bad_ptr` for string `bad`, outside the memory
  };
  virtual LowerOutcome call_lowered(int function, int realloc, int memory, const Lowered* strings,
                                    std::size_t n, std::uint64_t* results, std::string& trap,
                                    std::uint32_t& bad, std::uint32_t& bad_ptr) {
    std::uint64_t args[2 * kMaxLowered];
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t ra[4] = {0, 0, 1, strings[i].size};
      std::uint64_t ptr = 0;
      if (!call(realloc, ra, &ptr, trap)) return LowerOutcome::kTrapped;
      ptr &= 0xFFFFFFFFu;
      const Bytes m = memory_bytes(memory);
      if (ptr + strings[i].size > m.size) {
        bad = static_cast<std::uint32_t>(i);
        bad_ptr = static_cast<std::uint32_t>(ptr);
        return LowerOutcome::kOutOfBounds;
      }
      if (strings[i].size != 0) std::memcpy(m.data + ptr, strings[i].data, strings[i].size);
      args[2 * i] = ptr;
      args[2 * i + 1] = strings[i].size;
    }
    return call(function, args, results, trap) ? LowerOutcome::kReturned : LowerOutcome::kTrapped;
  }

  virtual int global(const std::string& export_name) const = 0;
  // false (and nothing changes) for an immutable global.
  virtual bool set_global(int global, std::uint64_t value) = 0;
  virtual std::uint64_t get_global(int global) = 0;

  bool has_function(const std::string& export_name) const { return function(export_name) >= 0; }
};

}  // namespace troupe::wasm::core
