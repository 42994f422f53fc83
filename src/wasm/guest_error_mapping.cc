#include "troupe/wasm/guest_error_mapping.h"

#include <string>

#include "troupe/runtime/runtime_error.h"
#include "troupe/wasm/wasm_error.h"

namespace troupe::wasm {

using workload::ActrErrorCase;
using workload::GuestError;

Error to_error(const GuestError& e) {
  switch (e.kind) {
    case ActrErrorCase::kTimedOut:
      return Error{BaseErrc::kTimedOut, e.message};
    case ActrErrorCase::kNotFound:
      return Error{BaseErrc::kNotFound, e.message};
    case ActrErrorCase::kUnavailable:
      return Error{BaseErrc::kUnavailable, e.message};
    case ActrErrorCase::kInvalidArgument:
      return Error{BaseErrc::kInvalidArgument, e.message};
    default:
      return Error{RuntimeErrc::kHandlerError, e.to_string()};
  }
}

namespace {

// A guest's error, passed on by to_error: "case: message" or "case: service: message".
GuestError guest_error_from_detail(const std::string& detail) {
  for (std::uint32_t c = 0; c <= static_cast<std::uint32_t>(ActrErrorCase::kInternal); ++c) {
    const std::string name = workload::actr_error_name(c);
    if (detail == name || detail.rfind(name + ": ", 0) == 0) {
      GuestError g{static_cast<ActrErrorCase>(c), {}, {}};
      std::string rest = detail.size() > name.size() ? detail.substr(name.size() + 2) : "";
      if (g.kind == ActrErrorCase::kDependencyNotFound) {
        auto colon = rest.find(": ");
        g.service = rest.substr(0, colon);
        g.message = colon == std::string::npos ? "" : rest.substr(colon + 2);
      } else {
        g.message = rest;
      }
      return g;
    }
  }
  return {ActrErrorCase::kInternal, detail, {}};
}

// The net and cluster layers are above this one, but a guest's call to an actor of another
// node meets some of their codes: the node died or left (cluster/noconnection), or its
// connection is down or full (net/unreachable, closed, overloaded). For the guest the target
// is unavailable. Matched by the codes' names, which never change (cluster_error.h,
// net_error.h).
bool reaches_no_other_node(const ErrorCode& code) {
  const std::string_view layer = code.layer(), name = code.name();
  return (layer == "cluster" && name == "noconnection") ||
         (layer == "net" && (name == "unreachable" || name == "closed" || name == "overloaded"));
}

}  // namespace

// Each switch names every code of its layer (no default), so a new code is a -Wswitch warning
// here until someone decides its WIT case; the codes that break out become `internal`, as do
// codes of layers above this one (node), which never reach a guest's call — but for the
// mesh's codes that say another node cannot be reached (reaches_no_other_node).
GuestError to_guest_error(const Error& e) {
  if (auto code = e.code.as<BaseErrc>()) {
    switch (*code) {
      case BaseErrc::kTimedOut:
        return {ActrErrorCase::kTimedOut, {}, {}};
      case BaseErrc::kNotFound:
        return {ActrErrorCase::kNotFound, e.detail, {}};
      case BaseErrc::kUnavailable:
        return {ActrErrorCase::kUnavailable, e.detail, {}};
      case BaseErrc::kInvalidArgument:
        return {ActrErrorCase::kInvalidArgument, e.detail, {}};
      case BaseErrc::kRefused:
      case BaseErrc::kIo:
      case BaseErrc::kTooLarge:
      case BaseErrc::kInternal:
        break;
    }
  } else if (auto code = e.code.as<RuntimeErrc>()) {
    switch (*code) {
      case RuntimeErrc::kDead:
      case RuntimeErrc::kMailboxFull:
        return {ActrErrorCase::kUnavailable, e.to_string(), {}};
      case RuntimeErrc::kHandlerError:
        return guest_error_from_detail(e.detail);
      case RuntimeErrc::kCallCycle:
      case RuntimeErrc::kBadReply:
        break;
    }
  } else if (auto code = e.code.as<WasmErrc>()) {
    switch (*code) {
      case WasmErrc::kAbiViolation:
      case WasmErrc::kTrap:
      case WasmErrc::kFuelExhausted:
      case WasmErrc::kDeadlineExceeded:
      case WasmErrc::kMemoryLimit:
        break;
      case WasmErrc::kPermissionDenied:
        return {ActrErrorCase::kPermissionDenied, e.detail, {}};
    }
  } else if (reaches_no_other_node(e.code)) {
    return {ActrErrorCase::kUnavailable, e.to_string(), {}};
  }
  return {ActrErrorCase::kInternal, e.to_string(), {}};
}

workload::GuestError stream_error_to_guest(const Error& e) {
  if (e.code == BaseErrc::kNotFound && e.detail.rfind("no handler for ", 0) == 0) {
    return {workload::ActrErrorCase::kUnavailable, "the receiver does not take data streams", {}};
  }
  return to_guest_error(e);
}

}  // namespace troupe::wasm
