// The spec suite's trap texts against troupe's trap messages, for the conformance runner
// (spec_runner.cc): an assert_trap, assert_exhaustion or assert_uninstantiable passes only when
// troupe trapped for the reason the script names. docs/CONFORMANCE.md has the table in prose.
// The spec's reference interpreter matches its own messages by prefix ("uninitialized element
// 2" is an "uninitialized element"); troupe's wording is the WABT interpreter's, which the AOT
// tier copies, but the AOT tier has fewer trap codes (wasm2c's): one for every bounds check,
// memory or table, and one for every failed call_indirect. So a troupe message stands for a
// set of spec kinds, per tier. Pure functions over constant tables; no state.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "troupe/wasm/instance.h"

namespace troupe::wasm::spec {

enum class TrapKind {
  kUnreachable,
  kDivideByZero,
  kIntegerOverflow,
  kBadConversion,
  kMemoryBounds,
  kTableBounds,
  kUndefinedElement,
  kUninitializedElement,
  kIndirectMismatch,
  kExhaustion,
};

// The kind a spec text names; nullopt for a text this runner does not know (a failure: an
// unmapped text must not pass by default).
inline std::optional<TrapKind> spec_trap_kind(std::string_view text) {
  struct Entry {
    std::string_view text;
    TrapKind kind;
  };
  static constexpr Entry kSpec[] = {
      {"unreachable", TrapKind::kUnreachable},
      {"integer divide by zero", TrapKind::kDivideByZero},
      {"integer overflow", TrapKind::kIntegerOverflow},
      {"invalid conversion to integer", TrapKind::kBadConversion},
      {"out of bounds memory access", TrapKind::kMemoryBounds},
      {"out of bounds table access", TrapKind::kTableBounds},
      {"undefined element", TrapKind::kUndefinedElement},
      {"uninitialized element", TrapKind::kUninitializedElement},
      {"indirect call type mismatch", TrapKind::kIndirectMismatch},
      {"call stack exhausted", TrapKind::kExhaustion},
  };
  for (const Entry& e : kSpec) {
    if (text.starts_with(e.text)) return e.kind;
  }
  return std::nullopt;
}

// The spec kinds a troupe trap message stands for on `tier` (empty: a message troupe should
// not give for a spec trap, e.g. a host error).
inline std::set<TrapKind> troupe_trap_kinds(std::string_view message, Tier tier) {
  using K = TrapKind;
  const bool aot = tier == Tier::kAot;
  struct Entry {
    std::string_view prefix;
    std::set<TrapKind> interp, aot;
  };
  static const Entry kTroupe[] = {
      {"unreachable executed", {K::kUnreachable}, {K::kUnreachable}},
      {"integer divide by zero", {K::kDivideByZero}, {K::kDivideByZero}},
      {"integer overflow", {K::kIntegerOverflow}, {K::kIntegerOverflow}},
      {"invalid conversion to integer", {K::kBadConversion}, {K::kBadConversion}},
      // wasm2c has one bounds trap (WASM_RT_TRAP_OOB) for memories and tables.
      {"out of bounds memory access", {K::kMemoryBounds}, {K::kMemoryBounds, K::kTableBounds}},
      {"out of bounds table access", {K::kTableBounds}, {K::kTableBounds}},
      {"undefined table index", {K::kUndefinedElement}, {K::kUndefinedElement}},
      {"uninitialized table element", {K::kUninitializedElement}, {K::kUninitializedElement}},
      // wasm2c checks index, null entry and type in one test (WASM_RT_TRAP_CALL_INDIRECT).
      {"indirect call signature mismatch",
       {K::kIndirectMismatch},
       {K::kIndirectMismatch, K::kUndefinedElement, K::kUninitializedElement}},
      // troupe's depth limit (the limits pass) and the interpreter's own stack, on both tiers.
      {"call stack exhausted", {K::kExhaustion}, {K::kExhaustion}},
  };
  for (const Entry& e : kTroupe) {
    if (message.starts_with(e.prefix)) return aot ? e.aot : e.interp;
  }
  return {};
}

// Whether troupe's `message` is the trap the spec's `text` names; `why` says what differs.
inline bool trap_matches(std::string_view text, std::string_view message, Tier tier,
                         std::string& why) {
  const auto want = spec_trap_kind(text);
  if (!want) {
    why = "unmapped spec trap text '" + std::string(text) +
          "' (troupe trapped: " + std::string(message) + ")";
    return false;
  }
  if (troupe_trap_kinds(message, tier).count(*want) == 0) {
    why = "trapped with '" + std::string(message) + "', expected '" + std::string(text) + "'";
    return false;
  }
  return true;
}

}  // namespace troupe::wasm::spec
