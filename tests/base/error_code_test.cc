#include "troupe/base/error_code.h"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>

#include "troupe/base/error.h"
#include "troupe/base/result.h"

namespace troupe {
namespace {

// Two layers of this test, declared the way a real layer declares its enum; their enumerators
// share names and values on purpose.
enum class AlphaErrc { kBroken, kGone };
enum class BetaErrc { kBroken, kGone };

std::string_view errc_name(AlphaErrc code) {
  return code == AlphaErrc::kBroken ? "broken" : "gone";
}
std::string_view errc_name(BetaErrc code) { return code == BetaErrc::kBroken ? "broken" : "gone"; }
inline constexpr ErrorDomain kAlphaDomain = make_error_domain<AlphaErrc>("alpha");
inline constexpr ErrorDomain kBetaDomain = make_error_domain<BetaErrc>("beta");
constexpr const ErrorDomain& error_domain(AlphaErrc) { return kAlphaDomain; }
constexpr const ErrorDomain& error_domain(BetaErrc) { return kBetaDomain; }

enum class NotAnErrorEnum { kX };

static_assert(std::is_convertible_v<AlphaErrc, ErrorCode>);
static_assert(!std::is_convertible_v<NotAnErrorEnum, ErrorCode>);
static_assert(!std::is_convertible_v<int, ErrorCode>);
static_assert(ErrorCode(AlphaErrc::kGone) == AlphaErrc::kGone);
static_assert(ErrorCode(AlphaErrc::kBroken) != BetaErrc::kBroken);

TEST(ErrorCode, SameValueInAnotherLayerIsNotEqual) {
  const ErrorCode alpha = AlphaErrc::kBroken;
  const ErrorCode beta = BetaErrc::kBroken;
  EXPECT_NE(alpha, beta);
  EXPECT_EQ(alpha, AlphaErrc::kBroken);
  EXPECT_EQ(AlphaErrc::kBroken, alpha);
  EXPECT_NE(alpha, AlphaErrc::kGone);
  // The shared codes too: BaseErrc's first code has the same value as AlphaErrc's.
  EXPECT_NE(ErrorCode(BaseErrc::kInvalidArgument), alpha);
  EXPECT_EQ(static_cast<int>(BaseErrc::kInvalidArgument), static_cast<int>(AlphaErrc::kBroken));
}

TEST(ErrorCode, AsAndIsPickTheLayer) {
  const ErrorCode code = BetaErrc::kGone;
  EXPECT_TRUE(code.is<BetaErrc>());
  EXPECT_FALSE(code.is<AlphaErrc>());
  EXPECT_FALSE(code.is<BaseErrc>());
  EXPECT_EQ(code.as<BetaErrc>(), BetaErrc::kGone);
  EXPECT_EQ(code.as<AlphaErrc>(), std::nullopt);
  EXPECT_EQ(code.as<BaseErrc>(), std::nullopt);
  EXPECT_EQ(ErrorCode(BaseErrc::kIo).as<BaseErrc>(), BaseErrc::kIo);
}

TEST(ErrorCode, NamesAndLayer) {
  const ErrorCode gone = AlphaErrc::kGone;
  EXPECT_EQ(gone.name(), "gone");
  EXPECT_EQ(errc_name(gone), "gone");
  EXPECT_EQ(gone.layer(), "alpha");
  EXPECT_EQ(ErrorCode(BetaErrc::kBroken).layer(), "beta");
  std::ostringstream out;
  out << ErrorCode(BaseErrc::kNotFound);
  EXPECT_EQ(out.str(), "base/not-found");
}

// The names the CLI prints, the control protocol sends and tests match: they must not change.
TEST(ErrorCode, BaseNamesAreTheWireNames) {
  EXPECT_EQ(ErrorCode(BaseErrc::kInvalidArgument).name(), "invalid-argument");
  EXPECT_EQ(ErrorCode(BaseErrc::kNotFound).name(), "not-found");
  EXPECT_EQ(ErrorCode(BaseErrc::kTimedOut).name(), "timed-out");
  EXPECT_EQ(ErrorCode(BaseErrc::kUnavailable).name(), "unavailable");
  EXPECT_EQ(ErrorCode(BaseErrc::kRefused).name(), "refused");
  EXPECT_EQ(ErrorCode(BaseErrc::kIo).name(), "io");
  EXPECT_EQ(ErrorCode(BaseErrc::kTooLarge).name(), "too-large");
  EXPECT_EQ(ErrorCode(BaseErrc::kInternal).name(), "internal");
  EXPECT_EQ(ErrorCode(BaseErrc::kInternal).layer(), "base");
  EXPECT_EQ(errc_name(static_cast<BaseErrc>(99)), "unknown");
}

TEST(ErrorCode, CopiesKeepTheLayer) {
  ErrorCode code = AlphaErrc::kGone;
  const ErrorCode copy = code;
  EXPECT_EQ(copy, AlphaErrc::kGone);
  code = BetaErrc::kGone;
  EXPECT_EQ(code, BetaErrc::kGone);
  EXPECT_NE(code, copy);
  EXPECT_EQ(copy.as<AlphaErrc>(), AlphaErrc::kGone);
}

// An Error made in one layer passes through Results of others unchanged.
TEST(ErrorCode, ErrorCarriesAnyLayersCode) {
  Result<int> inner = Error{BetaErrc::kBroken, "deep down"};
  ASSERT_FALSE(inner.ok());
  Result<void> outer = inner.error();
  ASSERT_FALSE(outer.ok());
  EXPECT_EQ(outer.error().code, BetaErrc::kBroken);
  EXPECT_EQ(outer.error().detail, "deep down");
  EXPECT_EQ(outer.error().to_string(), "broken: deep down");
  const Result<int> direct(AlphaErrc::kGone);
  EXPECT_EQ(direct.error().code, AlphaErrc::kGone);
  EXPECT_EQ(direct.error().to_string(), "gone");
  Error copied(BaseErrc::kIo);
  copied = outer.error();
  EXPECT_EQ(copied.code.as<BetaErrc>(), BetaErrc::kBroken);
  EXPECT_EQ(copied.detail, "deep down");
}

}  // namespace
}  // namespace troupe
