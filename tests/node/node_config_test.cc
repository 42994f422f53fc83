#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "troupe/node/node.h"

namespace troupe {
namespace {

TEST(NodeConfig, DefaultsWithoutAFile) {
  NodeConfig c;
  EXPECT_EQ(c.data_dir, ".troupe");
  EXPECT_EQ(c.socket_path(), ".troupe/control.sock");
  EXPECT_EQ(c.workers, 0u);
}

TEST(NodeConfig, ParsesTheNodeTable) {
  auto c = NodeConfig::parse(R"(
[node]
data_dir = "/tmp/x"
workers = 3
control_socket = "/tmp/x/s.sock"
ask_timeout_ms = 1500
)",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->data_dir, "/tmp/x");
  EXPECT_EQ(c->workers, 3u);
  EXPECT_EQ(c->socket_path(), "/tmp/x/s.sock");
  EXPECT_EQ(c->ask_timeout.count(), 1500);
}

// A boolean or a float is not an integer: `workers = false` must not quietly mean "one per
// core", nor `ask_timeout_ms = true` one millisecond.
TEST(NodeConfig, NodeIntegersRefuseBooleansAndFloats) {
  for (const char* text :
       {"[node]\nworkers = false\n", "[node]\nworkers = true\n", "[node]\nworkers = 2.0\n",
        "[node]\nask_timeout_ms = true\n", "[node]\nask_timeout_ms = 1500.0\n"}) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().detail.find("must be an integer"), std::string::npos) << text;
  }
}

// Every guest limit is on without a config: defaults below their maxima, node caps set.
TEST(NodeConfig, WasmLimitsAreOnByDefault) {
  const wasm::GuestPolicy p = NodeConfig{}.wasm;
  EXPECT_FALSE(p.allow_unlimited);
  EXPECT_EQ(p.defaults.fuel, 1'000'000'000u);
  EXPECT_EQ(p.defaults.timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(p.defaults.memory_pages, 256u);
  EXPECT_EQ(p.defaults.table_elements, 10000u);
  EXPECT_EQ(p.defaults.max_call_depth, 1000u);
  EXPECT_EQ(p.defaults.max_reply_bytes, 16u << 20);
  EXPECT_EQ(p.defaults.host_call_bytes, (16u << 20) + (64u << 10));
  EXPECT_EQ(p.caps.max_instances, 1000u);
  EXPECT_EQ(p.caps.max_memory_bytes, std::uint64_t{4096} << 20);
  EXPECT_EQ(p.output.record_bytes, 8192u);
  EXPECT_EQ(p.output.bytes_per_second, 65536u);
  for (const wasm::LimitInfo& info : wasm::limit_infos()) {
    const wasm::LimitValue d = wasm::get_limit(p.defaults, info.key);
    const wasm::LimitValue m = wasm::get_limit(p.maxima, info.key);
    EXPECT_FALSE(d.unlimited) << info.name;
    EXPECT_FALSE(m.unlimited) << info.name;
    EXPECT_LE(d.number, m.number) << info.name;
  }
}

TEST(NodeConfig, ParsesTheWasmTable) {
  auto c = NodeConfig::parse(R"(
[wasm]
fuel = 5000
max_fuel = 6000
timeout_ms = 300
memory_pages = 64
max_memory_pages = 128
table_elements = 100
call_depth = 200
reply_bytes = 4096
host_call_bytes = 1048576
max_guest_instances = 7
max_guest_memory_mb = 512
log_record_bytes = 100
log_bytes_per_s = 2000
)",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const wasm::GuestPolicy& p = c->wasm;
  EXPECT_EQ(p.defaults.fuel, 5000u);
  EXPECT_EQ(p.maxima.fuel, 6000u);
  EXPECT_EQ(p.defaults.timeout.count(), 300);
  EXPECT_EQ(p.defaults.memory_pages, 64u);
  EXPECT_EQ(p.maxima.memory_pages, 128u);
  EXPECT_EQ(p.defaults.table_elements, 100u);
  EXPECT_EQ(p.defaults.max_call_depth, 200u);
  EXPECT_EQ(p.defaults.max_reply_bytes, 4096u);
  EXPECT_EQ(p.defaults.host_call_bytes, 1048576u);
  EXPECT_EQ(p.caps.max_instances, 7u);
  EXPECT_EQ(p.caps.max_memory_bytes, 512u << 20);
  EXPECT_EQ(p.output.record_bytes, 100u);
  EXPECT_EQ(p.output.bytes_per_second, 2000u);
}

// "unlimited" is a word the node must allow; 0 never means it.
TEST(NodeConfig, UnlimitedIsAWordTheNodeMustAllow) {
  auto refused =
      NodeConfig::parse("[wasm]\nfuel = \"unlimited\"\nmax_fuel = \"unlimited\"\n", "t.toml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("needs wasm.allow_unlimited = true"), std::string::npos)
      << refused.error().detail;
  auto c = NodeConfig::parse(R"(
[wasm]
allow_unlimited = true
max_fuel = "unlimited"
timeout_ms = "unlimited"
max_timeout_ms = "unlimited"
max_guest_instances = "unlimited"
max_guest_memory_mb = "unlimited"
)",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->wasm.allow_unlimited);
  EXPECT_EQ(c->wasm.maxima.fuel, wasm::kUnlimitedFuel);
  EXPECT_EQ(c->wasm.defaults.fuel, 1'000'000'000u);  // the default stays a number
  EXPECT_EQ(c->wasm.defaults.timeout, wasm::kNoDeadline);
  EXPECT_EQ(c->wasm.caps.max_instances, wasm::kNoInstanceCap);
  EXPECT_EQ(c->wasm.caps.max_memory_bytes, wasm::kNoMemoryCap);
}

// Each subsystem reads its own table: [runtime] by the actor runtime, [control] by the
// control socket, [node] by the node.
TEST(NodeConfig, ParsesTheRuntimeControlAndReplyBudgetKeys) {
  NodeConfig defaults;
  EXPECT_EQ(defaults.runtime.max_call_depth, 1024u);
  EXPECT_EQ(defaults.control.max_connections, 64u);
  EXPECT_EQ(defaults.control.idle_timeout.count(), 10'000);
  EXPECT_EQ(defaults.max_held_reply_bytes, std::size_t{256} << 20);
  auto c = NodeConfig::parse(R"(
[node]
max_held_reply_bytes = 33554432
[runtime]
max_call_depth = 99
[control]
max_connections = 7
idle_timeout_ms = 2500
)",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->max_held_reply_bytes, std::size_t{32} << 20);
  EXPECT_EQ(c->runtime.max_call_depth, 99u);
  EXPECT_EQ(c->control.max_connections, 7u);
  EXPECT_EQ(c->control.idle_timeout.count(), 2500);
  auto unlimited = NodeConfig::parse("[runtime]\nmax_call_depth = \"unlimited\"\n", "t.toml");
  ASSERT_TRUE(unlimited.ok()) << unlimited.error().to_string();
  EXPECT_EQ(unlimited->runtime.max_call_depth, kUnlimitedCallDepth);
}

// 0 never means "no limit": runtime.max_call_depth = 0 is an error; the word is "unlimited".
TEST(NodeConfig, RejectsBadRuntimeAndControlValues) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (auto [text, expect] : {
           Case{"[runtime]\nmax_call_depth = 0",
                "runtime.max_call_depth must be an integer in "
                "1..1000000 or \"unlimited\""},
           Case{"[runtime]\nmax_call_depth = -3", "runtime.max_call_depth must be"},
           Case{"[runtime]\nmax_call_depth = 1.5", "runtime.max_call_depth must be"},
           Case{"[runtime]\nmax_call_depth = \"none\"", "runtime.max_call_depth must be"},
           Case{"[runtime]\nmax_call_depth = 4294967296", "runtime.max_call_depth must be"},
           Case{"[runtime]\nworkerz = 1", "unknown key runtime.workerz"},
           Case{"[control]\nmax_connections = 0",
                "control.max_connections must be an integer "
                "in 1..4096"},
           Case{"[control]\nmax_connections = \"many\"", "control.max_connections must be"},
           Case{"[control]\nidle_timeout_ms = 0", "control.idle_timeout_ms must be"},
           Case{"[control]\nidle_timeout_ms = 3600001", "control.idle_timeout_ms must be"},
           Case{"[control]\nsocket = \"x\"", "unknown key control.socket"},
           Case{"control = 1", "control must be a table"},
           Case{"[node]\nmax_held_reply_bytes = 0",
                "node.max_held_reply_bytes must be an "
                "integer in 1048576..1099511627776"},
           Case{"[node]\nmax_held_reply_bytes = \"unlimited\"", "node.max_held_reply_bytes"},
       }) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, BaseErrc::kInvalidArgument);
    EXPECT_NE(c.error().detail.find(std::string("t.toml: ") + expect), std::string::npos)
        << text << ": " << c.error().detail;
  }
}

// Unsigned modules are refused and storage quotas capped unless the config says otherwise.
TEST(NodeConfig, ParsesThePlatformTable) {
  const platform::PlatformConfig defaults = NodeConfig{}.platform;
  EXPECT_FALSE(defaults.allow_unsigned);
  EXPECT_EQ(defaults.max_storage_quota_bytes, std::uint64_t{64} << 20);
  auto c = NodeConfig::parse("[platform]\nallow_unsigned = true\nmax_storage_quota_bytes = 4096\n",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_TRUE(c->platform.allow_unsigned);
  EXPECT_EQ(c->platform.max_storage_quota_bytes, 4096u);
}

// What packages may be granted: every capability a manifest asks for by default, a narrower
// list node-wide or per signing key, quotas per key never above the node's cap; credentials'
// lifetime.
TEST(NodeConfig, ParsesPlatformGrantPolicy) {
  using platform::Capability;
  const platform::PlatformConfig defaults = NodeConfig{}.platform;
  EXPECT_EQ(defaults.credential_ttl_seconds, 3600);
  EXPECT_EQ(defaults.grant, platform::kAllCapabilities);
  auto c = NodeConfig::parse(R"(
[platform]
max_storage_quota_bytes = 8192
credential_ttl_seconds = 60
grant = ["call", "clock"]
[platform.keys."mfr-0123456789abcdef"]
grant = ["storage"]
max_storage_quota_bytes = 4096
[platform.keys."mfr-fedcba9876543210"]
max_storage_quota_bytes = 4096
)",
                             "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->platform.credential_ttl_seconds, 60);
  const auto other = c->platform.policy_for("mfr-1111111111111111");
  EXPECT_TRUE(other.allows(Capability::kCall));
  EXPECT_TRUE(other.allows(Capability::kClock));
  EXPECT_FALSE(other.allows(Capability::kStorage));
  EXPECT_FALSE(other.allows(Capability::kSigning));
  EXPECT_EQ(other.max_storage_quota_bytes, 8192u);
  const auto listed = c->platform.policy_for("mfr-0123456789abcdef");
  EXPECT_TRUE(listed.allows(Capability::kStorage));
  EXPECT_FALSE(listed.allows(Capability::kCall));
  EXPECT_EQ(listed.max_storage_quota_bytes, 4096u);
  // A key's own table without `grant` inherits the node-wide list.
  const auto quota_only = c->platform.policy_for("mfr-fedcba9876543210");
  EXPECT_TRUE(quota_only.allows(Capability::kCall));
  EXPECT_FALSE(quota_only.allows(Capability::kStorage));
  // An empty list grants nothing.
  auto none = NodeConfig::parse("[platform]\ngrant = []\n", "t.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->platform.policy_for("mfr-0123456789abcdef").grant, 0u);
  // Whatever the order: a per-key quota above the node's cap is capped.
  auto capped = NodeConfig::parse(
      "[platform.keys.\"mfr-0123456789abcdef\"]\nmax_storage_quota_bytes = 65536\n"
      "[platform]\nmax_storage_quota_bytes = 1024\n",
      "t.toml");
  ASSERT_TRUE(capped.ok()) << capped.error().to_string();
  EXPECT_EQ(capped->platform.policy_for("mfr-0123456789abcdef").max_storage_quota_bytes, 1024u);
}

TEST(NodeConfig, RejectsBadPlatformGrantPolicy) {
  for (auto [text, expect] : {
           std::pair{"[platform]\ngrant = [\"everything\"]", "platform.grant must be a list"},
           std::pair{"[platform]\ngrant = \"call\"", "platform.grant must be a list"},
           std::pair{"[platform]\ngrant = [1]", "platform.grant must be a list"},
           std::pair{"[platform]\ncredential_ttl_seconds = 0",
                     "platform.credential_ttl_seconds must be an integer in 10..604800"},
           std::pair{"[platform]\ncredential_ttl_seconds = 9", "platform.credential_ttl_seconds"},
           std::pair{"[platform]\ngrant = [\"clock\", \"call\", \"clock\"]",
                     "platform.grant must be a list of capability names (signing, identity, "
                     "storage, clock, random, streams, call), each at most once: 'clock' is "
                     "repeated"},
           std::pair{"[platform]\ngrant = [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", "
                     "\"g\", \"h\"]",
                     "platform.grant must be a list of capability names (signing, identity, "
                     "storage, clock, random, streams, call), each at most once: 8 entries is "
                     "more than there are capabilities"},
           std::pair{"[platform]\ncredential_ttl_seconds = 604801",
                     "platform.credential_ttl_seconds"},
           std::pair{"[platform]\ncredential_ttl_seconds = \"1h\"",
                     "platform.credential_ttl_seconds"},
           std::pair{"[platform.keys.acme]\ngrant = []",
                     "platform.keys.acme must be named by a signing key id"},
           std::pair{"[platform.keys.\"mfr-0123456789ABCDEF\"]\ngrant = []",
                     "platform.keys.mfr-0123456789ABCDEF must be named"},
           std::pair{"[platform.keys.\"mfr-0123456789abcdef\"]\ngrnt = []",
                     "unknown key platform.keys.mfr-0123456789abcdef.grnt"},
           std::pair{"[platform.keys.\"mfr-0123456789abcdef\"]\ngrant = [\"root\"]",
                     "platform.keys.mfr-0123456789abcdef.grant must be a list"},
           std::pair{"[platform]\nkeys = 3", "platform.keys must be a table"},
           std::pair{"[platform]\nkeys = { \"mfr-0123456789abcdef\" = 1 }",
                     "platform.keys.mfr-0123456789abcdef must be a table"},
       }) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, BaseErrc::kInvalidArgument);
    EXPECT_NE(c.error().detail.find(std::string("t.toml: ") + expect), std::string::npos)
        << text << ": " << c.error().detail;
  }
}

TEST(NodeConfig, RejectsBadPlatformValues) {
  for (auto [text, expect] : {
           std::pair{"[platform]\nallow_unsigned = 1",
                     "platform.allow_unsigned must be true or false"},
           std::pair{"[platform]\nallow_unsigned = \"yes\"", "platform.allow_unsigned must be"},
           std::pair{"[platform]\nmax_storage_quota_bytes = 0",
                     "platform.max_storage_quota_bytes must be an integer in 1..1099511627776"},
           std::pair{"[platform]\nmax_storage_quota_bytes = -1",
                     "platform.max_storage_quota_bytes"},
           std::pair{"[platform]\nmax_storage_quota_bytes = 1.5",
                     "platform.max_storage_quota_bytes"},
           std::pair{"[platform]\nmax_storage_quota_bytes = true",
                     "platform.max_storage_quota_bytes"},
           std::pair{"[platform]\nmax_storage_quota_bytes = 1099511627777",
                     "platform.max_storage_quota_bytes"},
           std::pair{"[platform]\nallow_unsigend = true", "unknown key platform.allow_unsigend"},
           std::pair{"platform = true", "platform must be a table"},
       }) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, BaseErrc::kInvalidArgument);
    EXPECT_NE(c.error().detail.find(std::string("t.toml: ") + expect), std::string::npos)
        << text << ": " << c.error().detail;
  }
}

TEST(NodeConfig, RejectsBadWasmValues) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (auto [text, expect] : {
           Case{"[wasm]\nfuel = 0", "wasm.fuel must be an integer in 1..9223372036854775807"},
           Case{"[wasm]\nfuel = -1", "wasm.fuel must be"},
           Case{"[wasm]\nfuel = 1.5", "wasm.fuel must be"},
           Case{"[wasm]\nfuel = \"lots\"", "wasm.fuel must be"},
           Case{"[wasm]\nmemory_pages = 65537", "wasm.memory_pages must be an integer in 1..65536"},
           Case{"[wasm]\nmemory_pages = 4294967296", "wasm.memory_pages must be"},
           Case{"[wasm]\ntimeout_ms = 0", "wasm.timeout_ms must be"},
           Case{"[wasm]\ncall_depth = \"unlimited\"", "wasm.call_depth must be an integer"},
           Case{"[wasm]\ntable_elements = 0", "wasm.table_elements must be"},
           Case{"[wasm]\nreply_bytes = 0", "wasm.reply_bytes must be"},
           Case{"[wasm]\nmax_guest_instances = 0", "wasm.max_guest_instances must be"},
           Case{"[wasm]\nhost_call_bytes = 10", "wasm.host_call_bytes must be"},
           Case{"[wasm]\nallow_unlimited = 1", "wasm.allow_unlimited must be true or false"},
           Case{"[wasm]\nfuel = 200000000000", "wasm.fuel (200000000000) is above wasm.max_fuel"},
           Case{"[wasm]\nmax_memory_pages = 100", "wasm.memory_pages (256) is above"},
           Case{"[wasm]\ncolour = 1", "unknown key wasm.colour"},
           Case{"[wasm]\nlog_bytes_per_s = 0", "wasm.log_bytes_per_s must be"},
           Case{"[wasm]\nlog_record_bytes = \"unlimited\"", "wasm.log_record_bytes must be"},
           Case{"wasm = 3", "wasm must be a table"},
           Case{"[node]\nmax_guest_instances = 5", "node.max_guest_instances has moved"},
           Case{"[node]\nmax_guest_memory_mb = 5", "[wasm] table"},
       }) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, BaseErrc::kInvalidArgument);
    EXPECT_NE(c.error().detail.find(expect), std::string::npos) << text << ": " << c.error().detail;
  }
}

// A spawn asks for less than the maximum, or is refused; unlimited only where allowed.
TEST(NodeConfig, SpawnsGetTheDefaultsOrWhatTheyAskWithinTheMaxima) {
  wasm::GuestPolicy p;
  auto l = p.limits_for({});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->fuel, p.defaults.fuel);
  wasm::LimitRequest asked;
  asked[static_cast<std::size_t>(wasm::LimitKey::kFuel)] = wasm::LimitValue{false, 77};
  asked[static_cast<std::size_t>(wasm::LimitKey::kMemoryPages)] = wasm::LimitValue{false, 1024};
  l = p.limits_for(asked);
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  EXPECT_EQ(l->fuel, 77u);
  EXPECT_EQ(l->memory_pages, 1024u);
  EXPECT_EQ(l->timeout, p.defaults.timeout);
  asked[static_cast<std::size_t>(wasm::LimitKey::kFuel)] = wasm::LimitValue{false, 200'000'000'000};
  l = p.limits_for(asked);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().detail.find("above this node's maximum"), std::string::npos);
  asked[static_cast<std::size_t>(wasm::LimitKey::kFuel)] = wasm::LimitValue{true, 0};
  l = p.limits_for(asked);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().detail.find("allow_unlimited = false"), std::string::npos);
  p.allow_unlimited = true;
  l = p.limits_for(asked);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->fuel, wasm::kUnlimitedFuel);
}

TEST(NodeConfig, LimitTextIsRangeChecked) {
  const wasm::LimitInfo& fuel = wasm::limit_info(wasm::LimitKey::kFuel);
  const wasm::LimitInfo& pages = wasm::limit_info(wasm::LimitKey::kMemoryPages);
  for (const char* bad : {"0", "-1", "", " 5", "5x", "1e3", "18446744073709551616",
                          "9223372036854775808", "unlimitedx", "UNLIMITED"}) {
    EXPECT_FALSE(wasm::parse_limit(fuel, bad, "--fuel").ok()) << bad;
  }
  EXPECT_FALSE(wasm::parse_limit(pages, "4294967296", "--memory-pages").ok());
  EXPECT_FALSE(wasm::parse_limit(pages, "65537", "--memory-pages").ok());
  EXPECT_EQ(*wasm::parse_limit(fuel, "9223372036854775807", "--fuel"),
            (wasm::LimitValue{false, 9223372036854775807ULL}));
  EXPECT_EQ(*wasm::parse_limit(fuel, "unlimited", "--fuel"), (wasm::LimitValue{true, 0}));
  auto e =
      wasm::parse_limit(wasm::limit_info(wasm::LimitKey::kCallDepth), "unlimited", "--call-depth");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().detail, "--call-depth must be an integer in 1..100000");
}

TEST(NodeConfig, RejectsBadInputWithALocation) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (auto [text, expect] :
       {Case{"[node\nworkers=1", "t.toml:1"}, Case{"[node]\nworkers = -1", "node.workers"},
        Case{"[node]\nworkers = \"two\"", "node.workers"},
        Case{"[node]\nnode_id = 255", "derives from the node's key"},
        Case{"[node]\ncolour = 1", "unknown key node.colour"},
        Case{"[other]\nx = 1", "unknown table [other]"},
        Case{"[node]\ndata_dir = \"\"", "node.data_dir"},
        // Booleans and floats are not integers, and a NUL would cut a path short.
        Case{"[node]\nworkers = true", "node.workers"},
        Case{"[node]\nworkers = 2.0", "node.workers"},
        Case{"[node]\nask_timeout_ms = 5.0", "node.ask_timeout_ms"},
        Case{"[node]\ndata_dir = \"/tmp/x\\u0000y\"", "node.data_dir"},
        Case{"[node]\ncontrol_socket = \"\\u0000abstract\"", "node.control_socket"}}) {
    auto c = NodeConfig::parse(text, "t.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.error().code, BaseErrc::kInvalidArgument);
    EXPECT_NE(c.error().detail.find(expect), std::string::npos) << c.error().detail;
  }
  auto missing = NodeConfig::load("/nonexistent/troupe.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, BaseErrc::kNotFound);
}

// A config path that is not a regular file is refused at once with a one-line error: before,
// a directory or an unreadable file (/proc/self/mem) was read as empty and the node started
// on the defaults, a FIFO hung the start, and /dev/zero was read until memory ran out.
TEST(NodeConfig, LoadRefusesWhatIsNotAReadableRegularFile) {
  char tmpl[] = "/tmp/troupe-cfg-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string fifo = dir + "/fifo.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string big = dir + "/big.toml";
  std::ofstream(big) << std::string(2 << 20, '#');
  for (const std::string& path :
       {dir, std::string("/proc/self/mem"), big, std::string("/dev/zero"), fifo}) {
    auto c = NodeConfig::load(path);
    ASSERT_FALSE(c.ok()) << path;
    EXPECT_EQ(c.error().detail.find('\n'), std::string::npos) << c.error().detail;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace troupe
