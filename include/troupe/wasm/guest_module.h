// GuestModule: a WebAssembly core module checked against the guest contract before anything
// runs it. load() validates the binary with WABT and refuses (BaseErrc::kRefused, one line saying
// why) a module that imports anything outside actr:workload's host interface and the minimal
// WASI preview1 subset, imports a memory, table or global, lacks a required export (memory,
// cabi_realloc, dispatch), mixes the two naming schemes, or declares any contract function
// with a core signature other than the canonical ABI's. Hooks the module does not export are
// simply never called. Immutable after load; thread-safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "troupe/base/result.h"
#include "troupe/wasm/workload_types.h"

namespace troupe::wasm {

// The WASI import module a guest may use (the allowed subset: GuestModule::load).
inline constexpr std::string_view kWasiModule = "wasi_snapshot_preview1";

class AotCode;

class GuestModule {
 public:
  static Result<GuestModule> load(std::span<const std::uint8_t> wasm);

  workload::NameScheme scheme() const { return scheme_; }
  const workload::CoreNames& names() const { return workload::core_names(scheme_); }
  // WIT names of the contract exports present ("dispatch", "on-start", ...).
  const std::set<std::string>& exports() const { return exports_; }
  bool exports_function(const std::string& wit_name) const { return exports_.count(wit_name) != 0; }
  bool has_post_return(const std::string& wit_name) const { return posts_.count(wit_name) != 0; }
  // WIT names of the host functions it imports, and the WASI functions.
  const std::set<std::string>& host_imports() const { return host_imports_; }
  const std::set<std::string>& wasi_imports() const { return wasi_imports_; }
  // The troupe:host functions it imports, as "interface.function" ("clock.now-wall").
  const std::set<std::string>& troupe_imports() const { return troupe_imports_; }
  // The module as the tiers run it: checked, then instrumented with the fuel counter.
  const std::vector<std::uint8_t>& binary() const { return binary_; }
  // cm32p2 modules may export an initializer, called once after instantiation.
  bool has_initialize() const { return has_initialize_; }
  // The exported memory's initial size, in 64 KiB pages.
  std::uint32_t initial_pages() const { return initial_pages_; }
  // Its declared maximum, in pages (65536, all of 4 GiB, when it declares none).
  std::uint32_t max_pages() const { return max_pages_; }
  // The initial size of its largest table, in elements (0 without tables).
  std::uint64_t initial_table_elements() const { return initial_table_elements_; }
  // The module's AOT code once AotCompiler has built or loaded it (null before). Copies of a
  // module share it. Thread-safe.
  std::shared_ptr<const AotCode> aot_code() const;
  void set_aot_code(std::shared_ptr<const AotCode> code) const;

 private:
  struct AotSlot {
    std::mutex mutex;
    std::shared_ptr<const AotCode> code;
  };
  std::shared_ptr<AotSlot> aot_ = std::make_shared<AotSlot>();
  workload::NameScheme scheme_ = workload::NameScheme::kWitBindgen;
  std::set<std::string> exports_, posts_, host_imports_, wasi_imports_, troupe_imports_;
  std::vector<std::uint8_t> binary_;
  bool has_initialize_ = false;
  std::uint32_t initial_pages_ = 0;
  std::uint32_t max_pages_ = 65536;
  std::uint64_t initial_table_elements_ = 0;
};

}  // namespace troupe::wasm
