// Internal: the only code that touches WABT's interpreter. Debian's wabt 1.0.32 interp headers
// do not compile as C++20 with g++ 12 (a destructor written with a template-id), so
// interp_bridge.cc is built as C++17 and this header keeps to C++17 and plain types.
// Core values travel as uint64_t (i32 zero-extended). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace troupe::wasm::bridge {

// Called for an imported function: fill `results` (one per core result) and return true, or
// set `trap` and return false to trap the guest.
using HostCallback = std::function<bool(const std::vector<std::uint64_t>& params,
                                        std::vector<std::uint64_t>& results, std::string& trap)>;
// Gives the callback for import module.name (the module was checked beforehand).
using Resolver = std::function<HostCallback(const std::string& module, const std::string& name)>;

class InterpModule {
 public:
  // nullptr with `error` set when the binary cannot be instantiated (or its start traps).
  // max_pages (when not 0) caps every memory's maximum: memory.grow past it returns -1.
  static std::unique_ptr<InterpModule> instantiate(const std::vector<std::uint8_t>& binary,
                                                   const Resolver& resolve, std::uint32_t max_pages,
                                                   std::string& error);
  ~InterpModule();

  bool has_function(const std::string& export_name) const;
  // False with `trap` set when the guest trapped.
  bool call(const std::string& export_name, const std::vector<std::uint64_t>& args,
            std::vector<std::uint64_t>& results, std::string& trap);
  // The exported memory `name`: its bytes now (they move when the guest grows it).
  std::uint8_t* memory_data(const std::string& name);
  std::uint64_t memory_size(const std::string& name);
  // An exported mutable i32 or i64 global (the limits pass's counters), as a core value;
  // set_global is false and get_global 0 when there is none.
  bool set_global(const std::string& name, std::uint64_t value);
  std::uint64_t get_global(const std::string& name);

 private:
  struct Impl;
  explicit InterpModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe::wasm::bridge
