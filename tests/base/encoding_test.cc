// The text encodings used at the edges: printable_line (file names in error lines), is_plain_text
// and escaped_ascii (text another party chose, shown in a terminal).
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

TEST(PlainText, RefusesEveryControlCharacterAndBadUtf8) {
  EXPECT_TRUE(is_plain_text("far-echo"));
  EXPECT_TRUE(is_plain_text("acme:billing:1.2.0"));
  EXPECT_TRUE(is_plain_text("größe € 名前"));
  EXPECT_TRUE(is_plain_text(""));
  EXPECT_FALSE(is_plain_text("a\nb"));
  EXPECT_FALSE(is_plain_text("\x1b[31mred"));
  EXPECT_FALSE(is_plain_text(std::string("nul\0", 4)));
  EXPECT_FALSE(is_plain_text("del\x7f"));
  EXPECT_FALSE(
      is_plain_text("csi\xc2\x9b"
                    "2J"));                 // U+009B, a C1 control
  EXPECT_FALSE(is_plain_text("\xff\xfe"));  // not UTF-8
}

TEST(EscapedAscii, ShowsEveryByteOutsidePrintableAsciiAsHex) {
  EXPECT_EQ(escaped_ascii("no actor 'x' here"), "no actor 'x' here");
  EXPECT_EQ(escaped_ascii("d\x1b]0;pwned\x07\nerror: forged"),
            "d\\x1B]0;pwned\\x07\\x0Aerror: forged");
  EXPECT_EQ(escaped_ascii("é"), "\\xC3\\xA9");
  EXPECT_EQ(escaped_ascii("a\\b"), "a\\x5Cb");
}

}  // namespace
}  // namespace troupe
