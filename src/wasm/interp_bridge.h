// Internal: the only code that touches WABT's interpreter (the interpreter tier). Debian's
// wabt 1.0.32 interp headers do not compile as C++20 with g++ 12 (a destructor written with a
// template-id), so interp_bridge.cc is built as C++17 and this header keeps to C++17.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core_instance.h"

namespace troupe::wasm::bridge {

class InterpModule final : public core::CoreInstance {
 public:
  // nullptr with `error` set when the binary cannot be instantiated (or its start traps).
  // max_pages (when not 0) caps every memory's maximum: memory.grow past it returns -1.
  static std::unique_ptr<InterpModule> instantiate(const std::vector<std::uint8_t>& binary,
                                                   const core::Resolver& resolve,
                                                   std::uint32_t max_pages, std::string& error);
  ~InterpModule() override;

  int function(const std::string& export_name) const override;
  std::size_t param_count(int function) const override;
  std::size_t result_count(int function) const override;
  using CoreInstance::call;
  bool call(int function, const std::uint64_t* args, std::uint64_t* results,
            std::string& trap) override;
  int memory(const std::string& export_name) const override;
  Bytes memory_bytes(int memory) override;
  int global(const std::string& export_name) const override;
  bool set_global(int global, std::uint64_t value) override;
  std::uint64_t get_global(int global) override;

 private:
  struct Impl;
  explicit InterpModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe::wasm::bridge
