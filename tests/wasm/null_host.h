// NullHost: the host for test guests that import nothing from the contract: any import they do
// call fails the call (kInternal, naming it); WASI output is dropped. Stateless: share freely.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "troupe/base/error.h"
#include "troupe/wasm/instance.h"

namespace troupe::wasm::testing {

class NullHost final : public HostImports {
 public:
  Result<std::optional<AbiValue>> call_host(const workload::Function& f,
                                            std::vector<AbiValue>) override {
    return Error{BaseErrc::kInternal, "unexpected import " + f.name};
  }
  void write_output(int, std::string_view) override {}
};

}  // namespace troupe::wasm::testing
