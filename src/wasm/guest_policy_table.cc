#include "troupe/wasm/guest_policy_table.h"

namespace troupe::wasm {

Result<LimitValue> parse_limit_value(const toml::node& value, const LimitInfo& info,
                                     const std::string& what) {
  if (auto word = value.value<std::string>()) {
    if (*word == "unlimited" && info.may_be_unlimited) return LimitValue{true, 0};
  } else if (auto n = value.value_exact<std::int64_t>(); n && *n > 0) {
    return limit_number(info, static_cast<std::uint64_t>(*n), what);
  }
  return Error{BaseErrc::kInvalidArgument, what + " must be " + limit_expectation(info)};
}

// A default must not pass its maximum.
Result<void> parse_wasm_table(const toml::table& table, const std::string& origin,
                              GuestPolicy& policy) {
  std::string unlimited_key;  // the first key set to "unlimited"
  for (auto&& [key, value] : table) {
    const std::string k(key.str());
    const std::string what = origin + ": wasm." + k;
    const LimitInfo* info = nullptr;
    bool is_max = false;
    for (const LimitInfo& i : limit_infos()) {
      if (k == i.name || k == std::string("max_") + i.name) {
        info = &i;
        is_max = k != i.name;
      }
    }
    // The other keys, as limits of their own ranges (none of them per spawn).
    static const LimitInfo kHostCallBytes{{}, "host_call_bytes", "", 65536, 1u << 30, false};
    static const LimitInfo kInstances{{}, "max_guest_instances", "", 1, 1'000'000, true};
    static const LimitInfo kMemoryMb{{}, "max_guest_memory_mb", "", 1, 1ULL << 30, true};
    static const LimitInfo kLogRecord{{}, "log_record_bytes", "", 1, 1u << 20, false};
    static const LimitInfo kLogRate{{}, "log_bytes_per_s", "", 1, 1u << 30, false};
    if (k == "allow_unlimited") {
      auto v = value.value_exact<bool>();
      if (!v) return Error{BaseErrc::kInvalidArgument, what + " must be true or false"};
      policy.allow_unlimited = *v;
      continue;
    }
    const LimitInfo* own = k == kHostCallBytes.name ? &kHostCallBytes
                           : k == kInstances.name   ? &kInstances
                           : k == kMemoryMb.name    ? &kMemoryMb
                           : k == kLogRecord.name   ? &kLogRecord
                           : k == kLogRate.name     ? &kLogRate
                                                    : nullptr;
    if (info == nullptr && own == nullptr) {
      return Error{BaseErrc::kInvalidArgument, origin + ": unknown key wasm." + k};
    }
    auto v = parse_limit_value(value, info ? *info : *own, what);
    if (!v.ok()) return v.error();
    if (v->unlimited && unlimited_key.empty()) unlimited_key = k;
    if (info != nullptr) {
      set_limit(is_max ? policy.maxima : policy.defaults, info->key, *v);
    } else if (own == &kHostCallBytes) {
      policy.defaults.host_call_bytes = v->number;
    } else if (own == &kLogRecord) {
      policy.output.record_bytes = v->number;
    } else if (own == &kLogRate) {
      policy.output.bytes_per_second = v->number;
    } else if (own == &kInstances) {
      policy.caps.max_instances =
          v->unlimited ? kNoInstanceCap : static_cast<std::uint32_t>(v->number);
    } else {
      policy.caps.max_memory_bytes = v->unlimited ? kNoMemoryCap : v->number << 20;
    }
  }
  if (!unlimited_key.empty() && !policy.allow_unlimited) {
    return Error{
        BaseErrc::kInvalidArgument,
        origin + ": wasm." + unlimited_key + " = \"unlimited\" needs wasm.allow_unlimited = true"};
  }
  for (const LimitInfo& i : limit_infos()) {
    const LimitValue d = get_limit(policy.defaults, i.key);
    const LimitValue m = get_limit(policy.maxima, i.key);
    if (!m.unlimited && (d.unlimited || d.number > m.number)) {
      return Error{BaseErrc::kInvalidArgument, origin + ": wasm." + i.name + " (" + d.to_string() +
                                                   ") is above wasm.max_" + i.name + " (" +
                                                   m.to_string() + ")"};
    }
  }
  return {};
}

}  // namespace troupe::wasm
