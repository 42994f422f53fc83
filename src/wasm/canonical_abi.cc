#include "troupe/wasm/canonical_abi.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "troupe/base/encoding.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {
namespace {

// Host-side caps on what one value may make the host allocate, whatever the guest claims.
constexpr std::uint64_t kMaxStringBytes = (1u << 28) - 1;  // the spec's MAX_STRING_BYTE_LENGTH
constexpr std::uint64_t kMaxListElements = 1u << 24;

std::uint32_t align_to(std::uint32_t n, std::uint32_t a) { return (n + a - 1) / a * a; }

Error violation(std::string what) { return Error{WasmErrc::kAbiViolation, std::move(what)}; }
Error host_bug(std::string what) { return Error{BaseErrc::kInternal, std::move(what)}; }

// True when [ptr, ptr + len) lies inside the memory; 64-bit so that nothing wraps.
bool in_bounds(std::span<std::uint8_t> mem, std::uint64_t ptr, std::uint64_t len) {
  return ptr + len <= mem.size();
}

std::uint64_t read_le(const std::uint8_t* p, std::uint32_t n) {
  std::uint64_t v = 0;
  for (std::uint32_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

void write_le(std::uint8_t* p, std::uint64_t v, std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t scalar_width(AbiType::Kind k) {
  switch (k) {
    case AbiType::Kind::kBool:
    case AbiType::Kind::kU8:
      return 1;
    case AbiType::Kind::kU32:
      return 4;
    case AbiType::Kind::kU64:
    case AbiType::Kind::kS64:
      return 8;
    default:
      return 0;
  }
}

// Checks the range a guest handed over for a string or list and copies/decodes it.
Result<Bytes> load_bytes(GuestMemory& mem, std::uint64_t ptr, std::uint64_t len, bool utf8) {
  if (utf8 && len > kMaxStringBytes) {
    return violation("string of " + std::to_string(len) + " bytes exceeds the limit");
  }
  auto m = mem.bytes();
  if (!in_bounds(m, ptr, len)) return range_outside_memory(ptr, len, m.size());
  if (auto taken = mem.materialize(len); !taken.ok()) return taken.error();
  Bytes out(reinterpret_cast<const char*>(m.data() + ptr), static_cast<std::size_t>(len));
  if (utf8 && !is_valid_utf8(out)) return violation("string is not valid UTF-8");
  return out;
}

Result<AbiValue> load_list_range(GuestMemory& mem, const AbiType& elem, std::uint64_t ptr,
                                 std::uint64_t length) {
  if (elem.kind() == AbiType::Kind::kU8) {
    auto b = load_bytes(mem, ptr, length, false);
    if (!b.ok()) return b.error();
    return AbiValue::text(std::move(b).value());
  }
  if (length > kMaxListElements) {
    return violation("list of " + std::to_string(length) + " elements exceeds the limit");
  }
  if (ptr % elem.alignment() != 0) {
    return violation("list at " + std::to_string(ptr) + " is not aligned to " +
                     std::to_string(elem.alignment()));
  }
  if (!in_bounds(mem.bytes(), ptr, length * elem.size())) {
    return violation("list of " + std::to_string(length) + " elements at " + std::to_string(ptr) +
                     " is outside linear memory");
  }
  if (auto taken = mem.materialize(length * kHostValueBytes); !taken.ok()) return taken.error();
  AbiValue out;
  out.items.reserve(static_cast<std::size_t>(length));
  for (std::uint64_t i = 0; i < length; ++i) {
    auto v = load(mem, elem, static_cast<std::uint32_t>(ptr + i * elem.size()));
    if (!v.ok()) return v.error();
    out.items.push_back(std::move(v).value());
  }
  return out;
}

// A string or list that the guest handed over as (begin, length).
Result<AbiValue> load_range(GuestMemory& mem, const AbiType& t, std::uint64_t begin,
                            std::uint64_t length) {
  if (t.kind() == AbiType::Kind::kList) return load_list_range(mem, t.element(), begin, length);
  auto b = load_bytes(mem, begin, length, true);
  if (!b.ok()) return b.error();
  return AbiValue::text(std::move(b).value());
}

std::optional<Error> check_discriminant(const AbiType& t, std::uint32_t disc) {
  if (disc < t.case_count()) return std::nullopt;
  return violation("variant discriminant " + std::to_string(disc) + " out of range (" +
                   std::to_string(t.case_count()) + " cases)");
}

// The payload type of a host-side variant value, after checking the value fits the type.
Result<const AbiType*> host_case(const AbiType& t, const AbiValue& v) {
  if (v.discriminant >= t.case_count()) return host_bug("variant case out of range");
  const AbiType* payload = t.case_payload(v.discriminant);
  if ((payload != nullptr) != (v.items.size() == 1)) return host_bug("variant payload mismatch");
  return payload;
}

// Allocates `len` bytes (aligned) in the guest and checks what cabi_realloc returned.
Result<std::uint32_t> guest_alloc(GuestMemory& mem, std::uint32_t align, std::uint64_t len) {
  if (len > 0xFFFFFFFFu) return host_bug("value too large for a 32-bit memory");
  auto p = mem.realloc(0, 0, align, static_cast<std::uint32_t>(len));
  if (!p.ok()) return p.error();
  std::uint32_t ptr = *p;
  if (ptr % align != 0) {
    return violation("cabi_realloc returned " + std::to_string(ptr) + ", not aligned to " +
                     std::to_string(align));
  }
  if (!in_bounds(mem.bytes(), ptr, len)) return realloc_outside_memory(ptr, len);
  return ptr;
}

// Stores a string or list's elements in fresh guest memory; returns (ptr, length).
Result<std::pair<std::uint32_t, std::uint32_t>> store_list_range(GuestMemory& mem, const AbiType& t,
                                                                 const AbiValue& v) {
  const bool as_bytes =
      t.kind() == AbiType::Kind::kString || t.element().kind() == AbiType::Kind::kU8;
  if (as_bytes) {
    auto p = guest_alloc(mem, 1, v.bytes.size());
    if (!p.ok()) return p.error();
    if (!v.bytes.empty()) std::memcpy(mem.bytes().data() + *p, v.bytes.data(), v.bytes.size());
    return std::make_pair(*p, static_cast<std::uint32_t>(v.bytes.size()));
  }
  const AbiType& elem = t.element();
  auto p =
      guest_alloc(mem, elem.alignment(), static_cast<std::uint64_t>(v.items.size()) * elem.size());
  if (!p.ok()) return p.error();
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    auto r = store(mem, elem, v.items[i], *p + static_cast<std::uint32_t>(i) * elem.size());
    if (!r.ok()) return r.error();
  }
  return std::make_pair(*p, static_cast<std::uint32_t>(v.items.size()));
}

}  // namespace

// --- violations -------------------------------------------------------------------------------

Error range_outside_memory(std::uint64_t ptr, std::uint64_t len, std::uint64_t memory_size) {
  return violation("range [" + std::to_string(ptr) + ", +" + std::to_string(len) +
                   ") is outside linear memory of " + std::to_string(memory_size) + " bytes");
}

Error realloc_outside_memory(std::uint64_t ptr, std::uint64_t len) {
  return violation("cabi_realloc returned " + std::to_string(ptr) + " for " + std::to_string(len) +
                   " bytes, outside linear memory");
}

// --- types ------------------------------------------------------------------------------------

AbiType::AbiType(Kind k) : kind_(k) { compute_layout(); }

AbiType AbiType::list(AbiType element) {
  AbiType t(Kind::kList);
  t.children_.push_back(std::move(element));
  return t;
}

AbiType AbiType::record(std::vector<AbiType> fields) {
  AbiType t(Kind::kRecord);
  t.children_ = std::move(fields);
  t.compute_layout();
  return t;
}

AbiType AbiType::variant(std::vector<std::optional<AbiType>> cases) {
  AbiType t(Kind::kVariant);
  for (auto& c : cases) {
    if (c) {
      t.has_payload_.push_back(static_cast<int>(t.children_.size()));
      t.children_.push_back(std::move(*c));
    } else {
      t.has_payload_.push_back(-1);
    }
  }
  t.compute_layout();
  return t;
}

AbiType AbiType::enumeration(std::size_t cases) {
  return variant(std::vector<std::optional<AbiType>>(cases));
}

AbiType AbiType::option(AbiType some) {
  std::vector<std::optional<AbiType>> cases;
  cases.emplace_back(std::nullopt);
  cases.emplace_back(std::move(some));
  return variant(std::move(cases));
}

AbiType AbiType::result(std::optional<AbiType> ok, std::optional<AbiType> err) {
  std::vector<std::optional<AbiType>> cases;
  cases.push_back(std::move(ok));
  cases.push_back(std::move(err));
  return variant(std::move(cases));
}

const AbiType* AbiType::case_payload(std::size_t i) const {
  if (i >= has_payload_.size() || has_payload_[i] < 0) return nullptr;
  return &children_[static_cast<std::size_t>(has_payload_[i])];
}

std::uint32_t AbiType::discriminant_size() const {
  std::size_t n = has_payload_.size();
  return n <= 256 ? 1 : n <= 65536 ? 2 : 4;
}

std::uint32_t AbiType::payload_offset() const {
  std::uint32_t case_align = 1;
  for (auto& c : children_) case_align = std::max(case_align, c.alignment());
  return align_to(discriminant_size(), case_align);
}

void AbiType::compute_layout() {
  flat_.clear();
  switch (kind_) {
    case Kind::kBool:
    case Kind::kU8:
      size_ = align_ = 1;
      flat_ = {kI32};
      break;
    case Kind::kU32:
      size_ = align_ = 4;
      flat_ = {kI32};
      break;
    case Kind::kU64:
    case Kind::kS64:
      size_ = align_ = 8;
      flat_ = {kI64};
      break;
    case Kind::kString:
    case Kind::kList:
      size_ = 8;
      align_ = 4;
      flat_ = {kI32, kI32};
      break;
    case Kind::kRecord: {
      std::uint32_t offset = 0;
      align_ = 1;
      offsets_.clear();
      for (auto& f : children_) {
        offset = align_to(offset, f.alignment());
        offsets_.push_back(offset);
        offset += f.size();
        align_ = std::max(align_, f.alignment());
        flat_.insert(flat_.end(), f.flat().begin(), f.flat().end());
      }
      size_ = align_to(offset, align_);
      break;
    }
    case Kind::kVariant: {
      std::uint32_t case_align = 1, case_size = 0;
      std::vector<std::uint8_t> joined;
      for (auto& c : children_) {
        case_align = std::max(case_align, c.alignment());
        case_size = std::max(case_size, c.size());
        // Join position by position: equal types stay, i32 with i64 becomes i64.
        for (std::size_t i = 0; i < c.flat().size(); ++i) {
          if (i < joined.size()) {
            if (joined[i] != c.flat()[i]) joined[i] = kI64;
          } else {
            joined.push_back(c.flat()[i]);
          }
        }
      }
      align_ = std::max(discriminant_size(), case_align);
      size_ = align_to(align_to(discriminant_size(), case_align) + case_size, align_);
      flat_ = {kI32};
      flat_.insert(flat_.end(), joined.begin(), joined.end());
      break;
    }
  }
}

AbiValue AbiValue::of_case(std::uint32_t c, AbiValue payload) {
  AbiValue v = of_case(c);
  v.items.push_back(std::move(payload));
  return v;
}

// --- memory -----------------------------------------------------------------------------------

Result<AbiValue> load(GuestMemory& mem, const AbiType& t, std::uint32_t ptr) {
  if (ptr % t.alignment() != 0) {
    return violation("pointer " + std::to_string(ptr) + " is not aligned to " +
                     std::to_string(t.alignment()));
  }
  if (!in_bounds(mem.bytes(), ptr, t.size())) {
    return violation("value of " + std::to_string(t.size()) + " bytes at " + std::to_string(ptr) +
                     " is outside linear memory");
  }
  const std::uint8_t* p = mem.bytes().data() + ptr;
  switch (t.kind()) {
    case AbiType::Kind::kBool:
      return AbiValue::of(p[0] != 0 ? 1 : 0);
    case AbiType::Kind::kU8:
    case AbiType::Kind::kU32:
    case AbiType::Kind::kU64:
    case AbiType::Kind::kS64:
      return AbiValue::of(read_le(p, scalar_width(t.kind())));
    case AbiType::Kind::kString:
    case AbiType::Kind::kList: {
      return load_range(mem, t, read_le(p, 4), read_le(p + 4, 4));
    }
    case AbiType::Kind::kRecord: {
      if (auto taken = mem.materialize(t.fields().size() * kHostValueBytes); !taken.ok()) {
        return taken.error();
      }
      AbiValue out;
      for (std::size_t i = 0; i < t.fields().size(); ++i) {
        auto v = load(mem, t.fields()[i], ptr + t.field_offset(i));
        if (!v.ok()) return v.error();
        out.items.push_back(std::move(v).value());
      }
      return out;
    }
    case AbiType::Kind::kVariant: {
      auto disc = static_cast<std::uint32_t>(read_le(p, t.discriminant_size()));
      if (auto bad = check_discriminant(t, disc)) return *bad;
      AbiValue out = AbiValue::of_case(disc);
      if (const AbiType* payload = t.case_payload(disc)) {
        if (auto taken = mem.materialize(kHostValueBytes); !taken.ok()) return taken.error();
        auto v = load(mem, *payload, ptr + t.payload_offset());
        if (!v.ok()) return v.error();
        out.items.push_back(std::move(v).value());
      }
      return out;
    }
  }
  return host_bug("unknown type kind");
}

Result<void> store(GuestMemory& mem, const AbiType& t, const AbiValue& v, std::uint32_t ptr) {
  if (ptr % t.alignment() != 0 || !in_bounds(mem.bytes(), ptr, t.size())) {
    return violation("destination " + std::to_string(ptr) + " for " + std::to_string(t.size()) +
                     " bytes is misaligned or outside linear memory");
  }
  switch (t.kind()) {
    case AbiType::Kind::kBool:
    case AbiType::Kind::kU8:
    case AbiType::Kind::kU32:
    case AbiType::Kind::kU64:
    case AbiType::Kind::kS64:
      write_le(mem.bytes().data() + ptr, v.number, scalar_width(t.kind()));
      return {};
    case AbiType::Kind::kString:
    case AbiType::Kind::kList: {
      auto range = store_list_range(mem, t, v);
      if (!range.ok()) return range.error();
      // realloc may have grown (moved) the memory: address it afresh.
      std::uint8_t* p = mem.bytes().data() + ptr;
      write_le(p, range->first, 4);
      write_le(p + 4, range->second, 4);
      return {};
    }
    case AbiType::Kind::kRecord: {
      if (v.items.size() != t.fields().size()) return host_bug("record value has wrong arity");
      for (std::size_t i = 0; i < t.fields().size(); ++i) {
        auto r = store(mem, t.fields()[i], v.items[i], ptr + t.field_offset(i));
        if (!r.ok()) return r;
      }
      return {};
    }
    case AbiType::Kind::kVariant: {
      auto checked = host_case(t, v);
      if (!checked.ok()) return checked.error();
      const AbiType* payload = *checked;
      write_le(mem.bytes().data() + ptr, v.discriminant, t.discriminant_size());
      if (payload) return store(mem, *payload, v.items[0], ptr + t.payload_offset());
      return {};
    }
  }
  return host_bug("unknown type kind");
}

// --- flat -------------------------------------------------------------------------------------

Result<AbiValue> lift_flat(GuestMemory& mem, const AbiType& t, const FlatValues& flat,
                           std::size_t& index) {
  if (index + t.flat().size() > flat.size()) return host_bug("too few flat values");
  switch (t.kind()) {
    case AbiType::Kind::kBool:
      return AbiValue::of((flat[index++] & 0xFFFFFFFFu) != 0 ? 1 : 0);
    case AbiType::Kind::kU8:
      return AbiValue::of(flat[index++] & 0xFFu);
    case AbiType::Kind::kU32:
      return AbiValue::of(flat[index++] & 0xFFFFFFFFu);
    case AbiType::Kind::kU64:
    case AbiType::Kind::kS64:
      return AbiValue::of(flat[index++]);
    case AbiType::Kind::kString:
    case AbiType::Kind::kList: {
      std::uint64_t begin = flat[index++] & 0xFFFFFFFFu;
      std::uint64_t length = flat[index++] & 0xFFFFFFFFu;
      return load_range(mem, t, begin, length);
    }
    case AbiType::Kind::kRecord: {
      if (auto taken = mem.materialize(t.fields().size() * kHostValueBytes); !taken.ok()) {
        return taken.error();
      }
      AbiValue out;
      for (auto& f : t.fields()) {
        auto v = lift_flat(mem, f, flat, index);
        if (!v.ok()) return v.error();
        out.items.push_back(std::move(v).value());
      }
      return out;
    }
    case AbiType::Kind::kVariant: {
      auto disc = static_cast<std::uint32_t>(flat[index] & 0xFFFFFFFFu);
      const std::size_t joined = t.flat().size() - 1;
      const std::size_t payload_start = index + 1;
      index += 1 + joined;  // the whole joined area, whatever the case uses
      if (auto bad = check_discriminant(t, disc)) return *bad;
      AbiValue out = AbiValue::of_case(disc);
      if (const AbiType* payload = t.case_payload(disc)) {
        if (auto taken = mem.materialize(kHostValueBytes); !taken.ok()) return taken.error();
        // Narrow each joined slot back to the case's own type (i64 -> i32 wraps).
        FlatValues own;
        for (std::size_t i = 0; i < payload->flat().size(); ++i) {
          std::uint64_t x = flat[payload_start + i];
          own.push_back(payload->flat()[i] == AbiType::kI32 ? (x & 0xFFFFFFFFu) : x);
        }
        std::size_t k = 0;
        auto v = lift_flat(mem, *payload, own, k);
        if (!v.ok()) return v.error();
        out.items.push_back(std::move(v).value());
      }
      return out;
    }
  }
  return host_bug("unknown type kind");
}

Result<void> lower_flat(GuestMemory& mem, const AbiType& t, const AbiValue& v, FlatValues& out) {
  switch (t.kind()) {
    case AbiType::Kind::kBool:
      out.push_back(v.number != 0 ? 1 : 0);
      return {};
    case AbiType::Kind::kU8:
      out.push_back(v.number & 0xFFu);
      return {};
    case AbiType::Kind::kU32:
      out.push_back(v.number & 0xFFFFFFFFu);
      return {};
    case AbiType::Kind::kU64:
    case AbiType::Kind::kS64:
      out.push_back(v.number);
      return {};
    case AbiType::Kind::kString:
    case AbiType::Kind::kList: {
      auto range = store_list_range(mem, t, v);
      if (!range.ok()) return range.error();
      out.push_back(range->first);
      out.push_back(range->second);
      return {};
    }
    case AbiType::Kind::kRecord: {
      if (v.items.size() != t.fields().size()) return host_bug("record value has wrong arity");
      for (std::size_t i = 0; i < t.fields().size(); ++i) {
        auto r = lower_flat(mem, t.fields()[i], v.items[i], out);
        if (!r.ok()) return r;
      }
      return {};
    }
    case AbiType::Kind::kVariant: {
      auto checked = host_case(t, v);
      if (!checked.ok()) return checked.error();
      const AbiType* payload = *checked;
      out.push_back(v.discriminant);
      const std::size_t start = out.size();
      if (payload) {
        auto r = lower_flat(mem, *payload, v.items[0], out);
        if (!r.ok()) return r;
      }
      // i32 values are held zero-extended, so widening to a joined i64 slot is free; unused
      // slots are zero.
      out.resize(start + t.flat().size() - 1, 0);
      return {};
    }
  }
  return host_bug("unknown type kind");
}

}  // namespace troupe::wasm
