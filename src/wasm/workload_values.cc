#include "troupe/wasm/workload_values.h"

namespace troupe::wasm::workload {

using V = AbiValue;

std::string GuestError::to_string() const {
  std::string s = actr_error_name(static_cast<std::uint32_t>(kind));
  if (!service.empty()) s += ": " + service;
  if (!message.empty()) s += ": " + message;
  return s;
}

AbiValue to_value(const ActrType& t) {
  return V::of_items({V::text(t.manufacturer), V::text(t.name), V::text(t.version)});
}

AbiValue to_value(const ActrId& id) {
  return V::of_items({V::of_items({V::of(id.realm)}), V::of(id.serial), to_value(id.type)});
}

AbiValue to_value(const GuestError& e) {
  const auto c = static_cast<std::uint32_t>(e.kind);
  switch (e.kind) {
    case ActrErrorCase::kTimedOut:
      return V::of_case(c);
    case ActrErrorCase::kDependencyNotFound:
      return V::of_case(c, V::of_items({V::text(e.service), V::text(e.message)}));
    default:
      return V::of_case(c, V::text(e.message));
  }
}

AbiValue to_value(const DataStreamChunk& c) {
  std::vector<V> meta;
  for (const auto& [k, v] : c.metadata) meta.push_back(V::of_items({V::text(k), V::text(v)}));
  V ts = c.timestamp_ms ? V::of_case(1, V::of(static_cast<std::uint64_t>(*c.timestamp_ms)))
                        : V::of_case(0);
  return V::of_items({V::text(c.stream_id), V::of(c.sequence), V::text(c.payload),
                      V::of_items(std::move(meta)), std::move(ts)});
}

ActrType actr_type_from(const AbiValue& v) {
  return {v.items.at(0).bytes, v.items.at(1).bytes, v.items.at(2).bytes};
}

ActrId actr_id_from(const AbiValue& v) {
  return {static_cast<std::uint32_t>(v.items.at(0).items.at(0).number), v.items.at(1).number,
          actr_type_from(v.items.at(2))};
}

GuestError guest_error_from(const AbiValue& v) {
  GuestError e{static_cast<ActrErrorCase>(v.discriminant), {}, {}};
  if (v.items.empty()) return e;
  const V& p = v.items[0];
  if (e.kind == ActrErrorCase::kDependencyNotFound) {
    e.service = p.items.at(0).bytes;
    e.message = p.items.at(1).bytes;
  } else {
    e.message = p.bytes;
  }
  return e;
}

Dest dest_from(const AbiValue& v) {
  Dest d{static_cast<DestCase>(v.discriminant), {}};
  if (d.kind == DestCase::kActor) d.actor = actr_id_from(v.items.at(0));
  return d;
}

DataStreamChunk data_stream_from(const AbiValue& v) {
  DataStreamChunk c{v.items.at(0).bytes, v.items.at(1).number, v.items.at(2).bytes, {}, {}};
  for (const V& m : v.items.at(3).items)
    c.metadata.emplace_back(m.items.at(0).bytes, m.items.at(1).bytes);
  const V& ts = v.items.at(4);
  if (ts.discriminant == 1) c.timestamp_ms = static_cast<std::int64_t>(ts.items.at(0).number);
  return c;
}

AbiValue ok_unit() { return V::of_case(0); }
AbiValue ok_bytes(std::string bytes) { return V::of_case(0, V::text(std::move(bytes))); }
AbiValue ok_id(const ActrId& id) { return V::of_case(0, to_value(id)); }
AbiValue err(const GuestError& e) { return V::of_case(1, to_value(e)); }

std::optional<GuestError> error_of(const AbiValue& result) {
  if (result.discriminant == 0) return std::nullopt;
  return guest_error_from(result.items.at(0));
}

AbiValue envelope(std::string request_id, std::string route, std::string payload) {
  return V::of_items(
      {V::text(std::move(request_id)), V::text(std::move(route)), V::text(std::move(payload))});
}

AbiValue timestamp(std::uint64_t seconds, std::uint32_t nanos) {
  return V::of_items({V::of(seconds), V::of(nanos)});
}

AbiValue error_event(const GuestError& source, ErrorCategoryCase category, std::string context,
                     AbiValue when) {
  return V::of_items({to_value(source), V::of_case(static_cast<std::uint32_t>(category)),
                      V::text(std::move(context)), std::move(when)});
}

AbiValue peer_event(const ActrId& peer, std::optional<bool> relayed) {
  V r = relayed ? V::of_case(1, V::of(*relayed ? 1 : 0)) : V::of_case(0);
  return V::of_items({to_value(peer), std::move(r)});
}

}  // namespace troupe::wasm::workload
