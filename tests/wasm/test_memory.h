// TestMemory: a linear memory the way a guest has one — a byte array that only grows, and an
// allocator handing out fresh ranges — for testing the canonical ABI without an engine.
// `next_answer` makes the next cabi_realloc return a chosen (possibly bad) pointer; `grow_by`
// makes every allocation grow the memory, so the host must re-read its base address.
#pragma once

#include <cstring>
#include <optional>
#include <vector>

#include "troupe/wasm/canonical_abi.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm::testing {

class TestMemory final : public GuestMemory {
 public:
  explicit TestMemory(std::size_t bytes = 65536) : mem_(bytes, 0) {}
  std::span<std::uint8_t> bytes() override { return mem_; }
  Result<std::uint32_t> realloc(std::uint32_t, std::uint32_t, std::uint32_t align,
                                std::uint32_t size) override {
    ++calls;
    if (next_answer) {
      auto a = *next_answer;
      next_answer.reset();
      return a;
    }
    if (grow_by) mem_.resize(mem_.size() + grow_by, 0);
    top_ = (top_ + align - 1) / align * align;
    std::uint32_t p = top_;
    top_ += size;
    if (top_ > mem_.size()) return Error{WasmErrc::kAbiViolation, "out of guest memory"};
    return p;
  }
  void put(std::uint32_t at, const void* data, std::size_t n) { std::memcpy(&mem_[at], data, n); }
  void put_u32(std::uint32_t at, std::uint32_t v) { put(at, &v, 4); }

  std::optional<std::uint32_t> next_answer;
  std::size_t grow_by = 0;
  int calls = 0;

 private:
  std::vector<std::uint8_t> mem_;
  std::uint32_t top_ = 1024;
};

}  // namespace troupe::wasm::testing
