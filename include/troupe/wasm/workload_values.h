// Typed C++ views of actr:workload@0.1.0 values and their AbiValue forms, so host code never
// builds canonical-ABI trees by hand. The from_value functions expect values already checked
// against their type (everything lifted from a guest is); stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "troupe/wasm/canonical_abi.h"
#include "troupe/wasm/workload_types.h"

namespace troupe::wasm::workload {

struct ActrType {
  std::string manufacturer, name, version;
  friend bool operator==(const ActrType&, const ActrType&) = default;
};

struct ActrId {
  std::uint32_t realm = 0;
  std::uint64_t serial = 0;
  ActrType type;
  friend bool operator==(const ActrId&, const ActrId&) = default;
};

// An actr-error: `message` for the string-carrying cases, `service` too for
// dependency-not-found; timed-out carries nothing.
struct GuestError {
  ActrErrorCase kind = ActrErrorCase::kInternal;
  std::string message;
  std::string service;
  std::string to_string() const;  // "not-found: detail"
};

struct Dest {
  DestCase kind = DestCase::kLocal;
  ActrId actor;  // kind == kActor
};

struct DataStreamChunk {
  std::string stream_id;
  std::uint64_t sequence = 0;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::optional<std::int64_t> timestamp_ms;
};

AbiValue to_value(const ActrType& t);
AbiValue to_value(const ActrId& id);
AbiValue to_value(const GuestError& e);
AbiValue to_value(const DataStreamChunk& c);
ActrType actr_type_from(const AbiValue& v);
ActrId actr_id_from(const AbiValue& v);
GuestError guest_error_from(const AbiValue& v);
Dest dest_from(const AbiValue& v);
DataStreamChunk data_stream_from(const AbiValue& v);

// result<_, actr-error> / result<list<u8>, actr-error> / result<actr-id, actr-error>.
AbiValue ok_unit();
AbiValue ok_bytes(std::string bytes);
AbiValue ok_id(const ActrId& id);
AbiValue err(const GuestError& e);
// The error of a result value; nullopt when it is ok.
std::optional<GuestError> error_of(const AbiValue& result);

AbiValue envelope(std::string request_id, std::string route, std::string payload);
AbiValue timestamp(std::uint64_t seconds, std::uint32_t nanos);
AbiValue error_event(const GuestError& source, ErrorCategoryCase category, std::string context,
                     AbiValue when);
AbiValue peer_event(const ActrId& peer, std::optional<bool> relayed);

}  // namespace troupe::wasm::workload
