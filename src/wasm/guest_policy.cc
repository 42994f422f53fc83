#include "troupe/wasm/guest_policy.h"

#include <charconv>
#include <cstdint>

namespace troupe::wasm {
namespace {

constexpr std::uint64_t kInt64Max = 9223372036854775807ULL;  // TOML integers are signed

Error bad_value(const LimitInfo& info, std::string_view what) {
  return Error{BaseErrc::kInvalidArgument,
               std::string(what) + " must be " + limit_expectation(info)};
}

}  // namespace

const std::array<LimitInfo, kLimitKeys>& limit_infos() {
  // Ranges: what each tier can honour. The interpreter caps call depth lower still
  // (kInterpMaxCallDepth); the AOT runtime grows a table to at most 2^24 elements.
  static const std::array<LimitInfo, kLimitKeys> infos{{
      {LimitKey::kFuel, "fuel", "--fuel", 1, kInt64Max, true},
      {LimitKey::kTimeoutMs, "timeout_ms", "--timeout-ms", 1, 3'600'000, true},
      {LimitKey::kMemoryPages, "memory_pages", "--memory-pages", 1, kAllPages, true},
      {LimitKey::kTableElements, "table_elements", "--table-elements", 1, 1u << 24, true},
      {LimitKey::kCallDepth, "call_depth", "--call-depth", 1, 100'000, false},
      {LimitKey::kReplyBytes, "reply_bytes", "--reply-bytes", 1, 1u << 30, false},
  }};
  return infos;
}

const LimitInfo& limit_info(LimitKey key) { return limit_infos()[static_cast<std::size_t>(key)]; }

std::string limit_expectation(const LimitInfo& info) {
  std::string s = "an integer in " + std::to_string(info.min) + ".." + std::to_string(info.max);
  if (info.may_be_unlimited) s += " or \"unlimited\"";
  return s;
}

std::string LimitValue::to_string() const {
  return unlimited ? "unlimited" : std::to_string(number);
}

Result<LimitValue> parse_limit(const LimitInfo& info, std::string_view text,
                               std::string_view what) {
  if (text == "unlimited") {
    if (!info.may_be_unlimited) return bad_value(info, what);
    return LimitValue{true, 0};
  }
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no sign and no spaces, and reports a value past 2^64 - 1 as out of range.
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc() || ptr != end) return bad_value(info, what);
  return limit_number(info, n, what);
}

Result<LimitValue> limit_number(const LimitInfo& info, std::uint64_t n, std::string_view what) {
  if (n < info.min || n > info.max) return bad_value(info, what);
  return LimitValue{false, n};
}

LimitValue get_limit(const Limits& l, LimitKey key) {
  switch (key) {
    case LimitKey::kFuel:
      return l.fuel == kUnlimitedFuel ? LimitValue{true, 0} : LimitValue{false, l.fuel};
    case LimitKey::kTimeoutMs:
      return l.timeout == kNoDeadline
                 ? LimitValue{true, 0}
                 : LimitValue{false, static_cast<std::uint64_t>(l.timeout.count())};
    case LimitKey::kMemoryPages:
      return l.memory_pages == kAllPages ? LimitValue{true, 0} : LimitValue{false, l.memory_pages};
    case LimitKey::kTableElements:
      return l.table_elements == kUnlimitedTableElements ? LimitValue{true, 0}
                                                         : LimitValue{false, l.table_elements};
    case LimitKey::kCallDepth:
      return {false, l.max_call_depth};
    case LimitKey::kReplyBytes:
      return {false, l.max_reply_bytes};
  }
  return {};
}

void set_limit(Limits& l, LimitKey key, LimitValue v) {
  // Values come range-checked (parse_limit / limit_number): the casts below cannot narrow.
  switch (key) {
    case LimitKey::kFuel:
      l.fuel = v.unlimited ? kUnlimitedFuel : v.number;
      break;
    case LimitKey::kTimeoutMs:
      l.timeout = v.unlimited ? kNoDeadline
                              : std::chrono::milliseconds(static_cast<std::int64_t>(v.number));
      break;
    case LimitKey::kMemoryPages:
      l.memory_pages = v.unlimited ? kAllPages : static_cast<std::uint32_t>(v.number);
      break;
    case LimitKey::kTableElements:
      l.table_elements =
          v.unlimited ? kUnlimitedTableElements : static_cast<std::uint32_t>(v.number);
      break;
    case LimitKey::kCallDepth:
      l.max_call_depth = static_cast<std::uint32_t>(v.number);
      break;
    case LimitKey::kReplyBytes:
      l.max_reply_bytes = static_cast<std::uint32_t>(v.number);
      break;
  }
}

Limits default_maxima() {
  Limits m;
  m.fuel = 100'000'000'000;  // 100x the default
  m.timeout = std::chrono::milliseconds(60'000);
  m.memory_pages = 16384;  // 1 GiB
  m.table_elements = 1'000'000;
  m.max_call_depth = 10'000;
  m.max_reply_bytes = 64u << 20;
  return m;
}

Result<Limits> GuestPolicy::limits_for(const LimitRequest& request) const {
  Limits out = defaults;
  for (const LimitInfo& info : limit_infos()) {
    const std::optional<LimitValue>& asked = request[static_cast<std::size_t>(info.key)];
    if (!asked) continue;
    if (asked->unlimited) {
      if (!info.may_be_unlimited) {
        return Error{BaseErrc::kInvalidArgument,
                     std::string("'") + info.name + "' must be " + limit_expectation(info)};
      }
      if (!allow_unlimited) {
        return Error{BaseErrc::kInvalidArgument,
                     std::string("'") + info.name +
                         "' unlimited: this node does not allow unlimited guests ([wasm] "
                         "allow_unlimited = false)"};
      }
    } else {
      const LimitValue max = get_limit(maxima, info.key);
      if (!max.unlimited && asked->number > max.number) {
        return Error{BaseErrc::kInvalidArgument,
                     std::string("'") + info.name + "' " + std::to_string(asked->number) +
                         " is above this node's maximum of " + std::to_string(max.number) +
                         " ([wasm] max_" + info.name + ")"};
      }
    }
    set_limit(out, info.key, *asked);
  }
  return out;
}

}  // namespace troupe::wasm
