// A unique address per C++ type: cheaper to compare than std::type_info, no RTTI lookup.
#pragma once

namespace troupe {

using TypeTag = const void*;

template <class T>
TypeTag type_tag() {
  static const char tag = 0;
  return &tag;
}

}  // namespace troupe
