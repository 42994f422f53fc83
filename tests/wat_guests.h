// WAT pieces the tests' hand-written contract guests share: the bump allocator they use as
// cabi_realloc, and a guest built around a dispatch body. Plain text; include anywhere.
#pragma once

#include <string>

namespace troupe::testing {

// cabi_realloc as a bump allocator over a mutable global $top the guest declares.
inline constexpr const char* kWatRealloc = R"(
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p)))";

// A contract guest: `memory`, $top at 4096, `funcs` beside, and a dispatch whose `body` leaves
// the result pointer on the stack (ok(empty) lives at 16 when the body writes nothing).
inline std::string wat_guest(const std::string& funcs, const std::string& body,
                             const std::string& memory = "(memory (export \"memory\") 1)") {
  return "(module " + memory + "\n  (global $top (mut i32) (i32.const 4096))" + kWatRealloc +
         "\n  " + funcs +
         "\n  (func (export \"actr:workload/workload@0.1.0#dispatch\")"
         "\n        (param i32 i32 i32 i32 i32 i32) (result i32)\n    " +
         body + "))";
}

}  // namespace troupe::testing
