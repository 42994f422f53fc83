// built_guest: a guest module the normal build made (TROUPE_GUEST_DIR/NAME.wasm), loaded and
// checked; a guest that is missing or refused fails the running test (and answers nullptr),
// never passes it on nothing. Test helper; single-threaded.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "troupe/wasm/guest_module.h"

namespace troupe::wasm::testing {

inline std::shared_ptr<const GuestModule> built_guest(const std::string& name) {
  std::ifstream in(std::string(TROUPE_GUEST_DIR) + "/" + name + ".wasm", std::ios::binary);
  EXPECT_TRUE(in) << name << ".wasm is not in " << TROUPE_GUEST_DIR;
  std::vector<std::uint8_t> bin{std::istreambuf_iterator<char>(in), {}};
  auto m = GuestModule::load(bin);
  EXPECT_TRUE(m.ok()) << name << ": " << (m.ok() ? "" : m.error().to_string());
  return m.ok() ? std::make_shared<const GuestModule>(std::move(m).value()) : nullptr;
}

}  // namespace troupe::wasm::testing
