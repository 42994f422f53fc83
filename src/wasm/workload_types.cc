#include "troupe/wasm/workload_types.h"

namespace troupe::wasm::workload {
namespace {

Types build() {
  using T = AbiType;
  Types t{
      .realm = T::record({T::u32()}),
      .actr_type = T::record({T::string(), T::string(), T::string()}),
      .actr_id = T::boolean(),  // set below: needs realm and actr_type
      .dest = T::boolean(),
      .rpc_envelope = T::record({T::string(), T::string(), T::list(T::u8())}),
      .metadata_entry = T::record({T::string(), T::string()}),
      .data_stream = T::boolean(),
      .payload_type = T::enumeration(5),
      .error_category = T::enumeration(5),
      .dependency_not_found = T::record({T::string(), T::string()}),
      .actr_error = T::boolean(),
      .peer_event = T::boolean(),
      .timestamp = T::record({T::u64(), T::u32()}),
      .error_event = T::boolean(),
      .credential_event = T::boolean(),
      .backpressure_event = T::record({T::u64(), T::u64()}),
      .result_bytes = T::boolean(),
      .result_unit = T::boolean(),
      .result_actr_id = T::boolean(),
      .option_actr_id = T::boolean(),
  };
  t.actr_id = T::record({t.realm, T::u64(), t.actr_type});
  t.dest = T::variant({std::nullopt, std::nullopt, t.actr_id});
  t.data_stream = T::record(
      {T::string(), T::u64(), T::list(T::u8()), T::list(t.metadata_entry), T::option(T::s64())});
  t.actr_error =
      T::variant({T::string(), std::nullopt, T::string(), T::string(), T::string(), T::string(),
                  t.dependency_not_found, T::string(), T::string(), T::string()});
  t.peer_event = T::record({t.actr_id, T::option(T::boolean())});
  t.error_event = T::record({t.actr_error, t.error_category, T::string(), t.timestamp});
  t.credential_event = T::record({t.timestamp});
  t.result_bytes = T::result(T::list(T::u8()), t.actr_error);
  t.result_unit = T::result(std::nullopt, t.actr_error);
  t.result_actr_id = T::result(t.actr_id, t.actr_error);
  t.option_actr_id = T::option(t.actr_id);
  return t;
}

}  // namespace

const char* actr_error_name(std::uint32_t case_index) {
  static constexpr const char* kNames[] = {"unavailable",
                                           "timed-out",
                                           "not-found",
                                           "permission-denied",
                                           "invalid-argument",
                                           "unknown-route",
                                           "dependency-not-found",
                                           "decode-failure",
                                           "not-implemented",
                                           "internal"};
  return case_index < std::size(kNames) ? kNames[case_index] : "?";
}

const Types& types() {
  static const Types t = build();
  return t;
}

namespace {

std::vector<Function> build_imports() {
  const Types& t = types();
  const AbiType s = AbiType::string(), bytes = AbiType::list(AbiType::u8());
  return {
      {"call", {{t.dest, s, bytes}, t.result_bytes}},
      {"tell", {{t.dest, s, bytes}, t.result_unit}},
      {"call-raw", {{t.actr_id, s, bytes}, t.result_bytes}},
      {"discover", {{t.actr_type}, t.result_actr_id}},
      {"register-stream", {{s}, t.result_unit}},
      {"unregister-stream", {{s}, t.result_unit}},
      {"send-data-stream", {{t.dest, t.data_stream, t.payload_type}, t.result_unit}},
      {"log-message", {{s, s}, std::nullopt}},
      {"get-self-id", {{}, t.actr_id}},
      {"get-caller-id", {{}, t.option_actr_id}},
      {"get-request-id", {{}, s}},
  };
}

std::vector<Function> build_exports() {
  const Types& t = types();
  std::vector<Function> f{
      {"dispatch", {{t.rpc_envelope}, t.result_bytes}},
      {"on-start", {{}, t.result_unit}},
      {"on-ready", {{}, t.result_unit}},
      {"on-stop", {{}, t.result_unit}},
      {"on-error", {{t.error_event}, t.result_unit}},
  };
  for (const char* n :
       {"on-signaling-connecting", "on-signaling-connected", "on-signaling-disconnected"}) {
    f.push_back({n, {{}, std::nullopt}});
  }
  for (const char* n :
       {"on-websocket-connecting", "on-websocket-connected", "on-websocket-disconnected",
        "on-webrtc-connecting", "on-webrtc-connected", "on-webrtc-disconnected"}) {
    f.push_back({n, {{t.peer_event}, std::nullopt}});
  }
  f.push_back({"on-credential-renewed", {{t.credential_event}, std::nullopt}});
  f.push_back({"on-credential-expiring", {{t.credential_event}, std::nullopt}});
  f.push_back({"on-mailbox-backpressure", {{t.backpressure_event}, std::nullopt}});
  f.push_back({"on-data-stream", {{t.data_stream, t.actr_id}, t.result_unit}});
  return f;
}

}  // namespace

const Function* find_function(const std::vector<Function>& list, std::string_view name) {
  for (auto& f : list) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const std::vector<Function>& host_imports() {
  static const std::vector<Function> f = build_imports();
  return f;
}

const std::vector<Function>& guest_exports() {
  static const std::vector<Function> f = build_exports();
  return f;
}

const Function* find_import(std::string_view name) { return find_function(host_imports(), name); }
const Function* find_export(std::string_view name) { return find_function(guest_exports(), name); }

std::string CoreNames::export_name(std::string_view func) const {
  if (scheme == NameScheme::kCm32p2)
    return "cm32p2|actr:workload/workload@0.1|" + std::string(func);
  return "actr:workload/workload@0.1.0#" + std::string(func);
}

std::string CoreNames::post_return_name(std::string_view func) const {
  if (scheme == NameScheme::kCm32p2) return export_name(func) + "_post";
  return "cabi_post_" + export_name(func);
}

namespace {
CoreNames with_export_names(CoreNames n) {
  for (const Function& f : guest_exports()) {
    n.export_names.push_back(n.export_name(f.name));
    n.post_return_names.push_back(n.post_return_name(f.name));
  }
  return n;
}
}  // namespace

const CoreNames& core_names(NameScheme scheme) {
  static const CoreNames wit_bindgen = with_export_names({NameScheme::kWitBindgen,
                                                          "actr:workload/host@0.1.0",
                                                          "memory",
                                                          "cabi_realloc",
                                                          std::nullopt,
                                                          {},
                                                          {}});
  static const CoreNames cm32p2 = with_export_names({NameScheme::kCm32p2,
                                                     "cm32p2|actr:workload/host@0.1",
                                                     "cm32p2_memory",
                                                     "cm32p2_realloc",
                                                     "cm32p2_initialize",
                                                     {},
                                                     {}});
  return scheme == NameScheme::kCm32p2 ? cm32p2 : wit_bindgen;
}

}  // namespace troupe::wasm::workload
