#include "troupe/base/trace_context.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

constexpr const char* kExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, ReadsAndWritesTheW3cExample) {
  auto t = TraceContext::parse(kExample);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->trace_id[0], 0x4b);
  EXPECT_EQ(t->span_id[7], 0xb7);
  EXPECT_EQ(t->flags, 0x01);
  EXPECT_EQ(t->to_string(), kExample);
}

TEST(TraceContext, RefusesWhatTheSpecRefuses) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // short
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 with more
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // separator
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",   // not hex
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later version, no '-'
       }) {
    EXPECT_FALSE(TraceContext::parse(bad).has_value()) << bad;
  }
  // A later version is read by its first fields.
  EXPECT_TRUE(
      TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

TEST(TraceContext, AChildKeepsTheTraceAndTakesANewSpan) {
  auto parent = *TraceContext::parse(kExample);
  auto child = parent.child();
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_EQ(child.flags, parent.flags);
  auto next = TraceContext::parse(TraceContext::next_hop(kExample));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->trace_id, parent.trace_id);
  // Nothing to continue, or garbage: a fresh trace, always well formed.
  for (const char* incoming : {"", "garbage"}) {
    auto fresh = TraceContext::parse(TraceContext::next_hop(incoming));
    ASSERT_TRUE(fresh.has_value()) << incoming;
    EXPECT_NE(fresh->trace_id, parent.trace_id);
  }
  EXPECT_NE(TraceContext::fresh().trace_id, TraceContext::fresh().trace_id);
}

}  // namespace
}  // namespace troupe
