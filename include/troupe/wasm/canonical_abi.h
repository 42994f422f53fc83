// The Component Model canonical ABI for the value types the actr:workload world uses: bool,
// u32, u64, s64, string (UTF-8), list<T> (list<u8> kept as bytes), record, variant, and the
// specializations enum, option and result (built as variants). AbiType describes a type and
// knows its size, alignment and flat (core value) representation; load/store move an AbiValue
// between the host and a guest's linear memory, flat lift/lower between core values and
// AbiValues.
//
// Everything read from the guest is checked before use: pointers and lengths against the
// memory bounds (without 32-bit wrap-around), alignment, UTF-8, variant discriminants, and
// every pointer that cabi_realloc returns. A violation is an WasmErrc::kAbiViolation error for that
// call, never a read or write outside the guest's memory. Stateless; thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "troupe/base/bytes.h"
#include "troupe/base/result.h"

namespace troupe::wasm {

class AbiType {
 public:
  enum class Kind : std::uint8_t {
    kBool,
    kU8,
    kU32,
    kU64,
    kS64,
    kString,
    kList,
    kRecord,
    kVariant
  };

  static AbiType boolean() { return AbiType(Kind::kBool); }
  static AbiType u8() { return AbiType(Kind::kU8); }
  static AbiType u32() { return AbiType(Kind::kU32); }
  static AbiType u64() { return AbiType(Kind::kU64); }
  static AbiType s64() { return AbiType(Kind::kS64); }
  static AbiType string() { return AbiType(Kind::kString); }
  static AbiType list(AbiType element);
  static AbiType record(std::vector<AbiType> fields);
  // One entry per case: the payload type, or nullopt for a case without payload.
  static AbiType variant(std::vector<std::optional<AbiType>> cases);
  static AbiType enumeration(std::size_t cases);
  static AbiType option(AbiType some);
  // result<ok, err>; either side may be absent (`_`).
  static AbiType result(std::optional<AbiType> ok, std::optional<AbiType> err);

  Kind kind() const { return kind_; }
  std::uint32_t size() const { return size_; }
  std::uint32_t alignment() const { return align_; }
  // The core value types (i32 / i64) this type flattens to, in order.
  const std::vector<std::uint8_t>& flat() const { return flat_; }
  const AbiType& element() const { return children_[0]; }
  const std::vector<AbiType>& fields() const { return children_; }
  // Byte offset of record field i (computed with the layout).
  std::uint32_t field_offset(std::size_t i) const { return offsets_[i]; }
  std::size_t case_count() const { return has_payload_.size(); }
  // Payload of variant case i, or nullptr.
  const AbiType* case_payload(std::size_t i) const;
  std::uint32_t discriminant_size() const;
  std::uint32_t payload_offset() const;

  static constexpr std::uint8_t kI32 = 0;
  static constexpr std::uint8_t kI64 = 1;

 private:
  explicit AbiType(Kind k);
  void compute_layout();

  Kind kind_;
  std::uint32_t size_ = 0;
  std::uint32_t align_ = 1;
  std::vector<AbiType> children_;  // list: [element]; record: fields; variant: payloads present
  std::vector<int> has_payload_;   // variant: index into children_ per case, -1 for none
  std::vector<std::uint32_t> offsets_;  // record: field offsets
  std::vector<std::uint8_t> flat_;
};

// A value of some AbiType. Which member is meaningful follows the type's kind.
struct AbiValue {
  std::uint64_t number = 0;        // bool (0/1), u8, u32, u64, s64 (two's complement)
  Bytes bytes;                     // string, list<u8>
  std::vector<AbiValue> items;     // list (other than u8), record fields, variant payload (0/1)
  std::uint32_t discriminant = 0;  // variant case

  static AbiValue of(std::uint64_t n) { return AbiValue{n, {}, {}, 0}; }
  static AbiValue text(Bytes s) { return AbiValue{0, std::move(s), {}, 0}; }
  static AbiValue of_items(std::vector<AbiValue> v) { return AbiValue{0, {}, std::move(v), 0}; }
  static AbiValue of_case(std::uint32_t c) { return AbiValue{0, {}, {}, c}; }
  static AbiValue of_case(std::uint32_t c, AbiValue payload);
  friend bool operator==(const AbiValue&, const AbiValue&) = default;
};

// A guest's linear memory and its allocator, as the ABI needs them.
class GuestMemory {
 public:
  virtual ~GuestMemory() = default;
  // The memory as it is now; may move or grow after realloc.
  virtual std::span<std::uint8_t> bytes() = 0;
  // The guest's cabi_realloc. The result is checked by the caller, not trusted.
  virtual Result<std::uint32_t> realloc(std::uint32_t old_ptr, std::uint32_t old_size,
                                        std::uint32_t align, std::uint32_t new_size) = 0;
  // Called before a lift makes the host hold `bytes` more for a guest value (string and
  // list<u8> contents; kHostValueBytes per other list element, record field and variant
  // payload). An error stops the lift with it: so an owner can cap what one call materializes
  // in total, which the per-value caps alone do not (a list may repeat one range many times).
  // The default takes everything.
  virtual Result<void> materialize(std::uint64_t /*bytes*/) { return {}; }
};
// What the host counts for each lifted value that is not bytes: about its size in memory.
inline constexpr std::uint64_t kHostValueBytes = 80;

// Reads a value of type `t` stored at `ptr`.
Result<AbiValue> load(GuestMemory& mem, const AbiType& t, std::uint32_t ptr);
// Writes `v` at `ptr` (which must have room for t.size()); strings and lists are allocated
// in the guest through realloc.
Result<void> store(GuestMemory& mem, const AbiType& t, const AbiValue& v, std::uint32_t ptr);

// The violations load/store report for a range the guest handed over, and for a pointer
// cabi_realloc answered, outside memory: for code that reads and writes guest memory in place
// (the dispatch path), so that it reports them in the same words.
Error range_outside_memory(std::uint64_t ptr, std::uint64_t len, std::uint64_t memory_size);
Error realloc_outside_memory(std::uint64_t ptr, std::uint64_t len);

// Core values of a flattened signature, in order; i32 values are held zero-extended.
using FlatValues = std::vector<std::uint64_t>;
Result<AbiValue> lift_flat(GuestMemory& mem, const AbiType& t, const FlatValues& flat,
                           std::size_t& index);
Result<void> lower_flat(GuestMemory& mem, const AbiType& t, const AbiValue& v, FlatValues& out);

inline constexpr std::size_t kMaxFlatParams = 16;
inline constexpr std::size_t kMaxFlatResults = 1;

}  // namespace troupe::wasm
