// The text encodings used at the edges: printable_line (file names in error lines).
#include "troupe/base/encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

TEST(PrintableLine, ShowsControlCharactersAndBackslashesAsHex) {
  EXPECT_EQ(printable_line("plain/path.actr"), "plain/path.actr");
  EXPECT_EQ(printable_line("größe €"), "größe €");  // UTF-8 stays as it is
  EXPECT_EQ(printable_line("a\nb"), "a\\x0Ab");
  EXPECT_EQ(printable_line(std::string("nul\0", 4)), "nul\\x00");
  EXPECT_EQ(printable_line("\x1b[2J\x7f"), "\\x1B[2J\\x7F");
  // The backslash too, so that a name holding the text "\x0A" never shows like one holding a
  // newline.
  EXPECT_EQ(printable_line("a\\x0Ab"), "a\\x5Cx0Ab");
}

}  // namespace
}  // namespace troupe
