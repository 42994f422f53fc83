#include "troupe/base/error_code.h"

#include <ostream>

namespace troupe {

std::ostream& operator<<(std::ostream& out, const ErrorCode& code) {
  return out << code.layer() << '/' << code.name();
}

}  // namespace troupe
