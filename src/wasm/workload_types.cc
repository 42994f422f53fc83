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

const Types& types() {
  static const Types t = build();
  return t;
}

}  // namespace troupe::wasm::workload
