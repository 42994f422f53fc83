#include "troupe/node/control_protocol.h"

#include <gtest/gtest.h>

#include "troupe/base/encoding.h"

namespace troupe {
namespace {

TEST(ControlProtocol, FrameIsBigEndianLengthThenPayload) {
  std::string f = control::encode_frame("abc");
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(get_u32_be(f.data()), 3u);
  EXPECT_EQ(f.substr(4), "abc");
}

TEST(ControlProtocol, BytesTravelAsTextOrBase64) {
  nlohmann::json j;
  control::put_bytes(j, "data", "plain");
  control::put_bytes(j, "bin", std::string("\xff\x00\x01", 3));
  EXPECT_TRUE(j.contains("data"));
  EXPECT_TRUE(j.contains("bin_b64"));
  EXPECT_EQ(*control::get_bytes(j, "data"), "plain");
  EXPECT_EQ(*control::get_bytes(j, "bin"), std::string("\xff\x00\x01", 3));
  EXPECT_EQ(*control::get_bytes(j, "absent"), "");
  // Text that JSON would escape to more than base64 (control characters) travels as base64.
  control::put_bytes(j, "zeros", std::string(30, '\0'));
  EXPECT_TRUE(j.contains("zeros_b64"));
  EXPECT_EQ(*control::get_bytes(j, "zeros"), std::string(30, '\0'));
  control::put_bytes(j, "lines", "a\nb\nc");
  EXPECT_TRUE(j.contains("lines"));
  nlohmann::json bad{{"x_b64", "!!!"}, {"y", 5}};
  EXPECT_FALSE(control::get_bytes(bad, "x").ok());
  EXPECT_FALSE(control::get_bytes(bad, "y").ok());
}

TEST(Encoding, Base64KnownVectors) {
  // RFC 4648 section 10.
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(base64_encode(plain[i]), coded[i]);
    EXPECT_EQ(*base64_decode(coded[i]), plain[i]);
  }
  for (const char* bad : {"Zg=", "Z===", "Zg==Zg==", "Zm9v!", "=Zm9"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
}

TEST(Encoding, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("héllo wörld €"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(ControlProtocol, ErrorsNameTypesReadably) {
  EXPECT_EQ(control::readable_detail("no handler for N6troupe8EnvelopeE"),
            "no handler for troupe::Envelope");
  EXPECT_EQ(control::readable_detail("expected reply of type NSt7__cxx1112basic_stringIcSt11char_"
                                     "traitsIcESaIcEEE, got N6troupe8EnvelopeE"),
            "expected reply of type std::__cxx11::basic_string<char, std::char_traits<char>, "
            "std::allocator<char> >, got troupe::Envelope");
  // Text that is no type name is left alone.
  EXPECT_EQ(control::readable_detail("inc takes an integer, got 42"),
            "inc takes an integer, got 42");
  EXPECT_EQ(control::readable_detail("no handler for Nope"), "no handler for Nope");
  auto j = control::error_response(Error{BaseErrc::kNotFound, "no handler for N6troupe8EnvelopeE"});
  EXPECT_EQ(j["error"], "not-found: no handler for troupe::Envelope");
}

// The text comes from anyone (a guest's error, an unknown op): a name whose back-references
// double at each level (a<a<int>, a<int> >, then a<that, that>, ...) must not be demangled. At
// 22 levels it would print 50 MB; at 40, terabytes (the node grew 0.7 GB/s, unanswering).
TEST(ControlProtocol, ANameThatDemanglesToGigabytesIsLeftAlone) {
  auto back_reference = [](int n) {
    if (n == 0) return std::string("S_");
    std::string digits;
    for (int v = n - 1;; v /= 36) {
      digits.insert(digits.begin(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[v % 36]);
      if (v < 36) break;
    }
    return "S" + digits + "_";
  };
  for (int levels : {3, 22}) {
    std::string name;
    for (int i = 0; i < levels; ++i) name += "1aI";
    name += "1aIiE";
    for (int j = 1; j <= levels; ++j) name += back_reference(levels + j) + "E";
    const std::string detail = "no handler for " + name;
    EXPECT_EQ(control::readable_detail(detail), detail) << levels;
    EXPECT_EQ(control::error_response(Error{BaseErrc::kNotFound, detail})["error"],
              "not-found: " + detail);
  }
}

}  // namespace
}  // namespace troupe
