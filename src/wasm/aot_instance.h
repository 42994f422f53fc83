// Internal: instances of AOT-compiled code (the host half of troupe's wasm-rt.h runtime).
#pragma once

#include <memory>
#include <string>

#include "core_instance.h"
#include "troupe/wasm/aot.h"

namespace troupe::wasm {

// Instantiates `code`'s module with its imports resolved by `resolve`; max_pages (when not 0)
// caps every memory. nullptr with `error` set when instantiation traps.
std::unique_ptr<core::CoreInstance> instantiate_aot(std::shared_ptr<const AotCode> code,
                                                    const core::Resolver& resolve,
                                                    std::uint32_t max_pages, std::string& error);

// Indexes the exports of freshly loaded (and bound) code by name, once.
void index_aot_exports(AotCode& code);

// Binds a freshly loaded object to the host runtime; false (with `error`) when its ABI
// version is not this troupe's.
bool bind_aot_object(const void* table, std::string& error);

}  // namespace troupe::wasm
