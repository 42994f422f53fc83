// Integration: WebAssembly limits are on by default in a real node and in `troupe call`, limit
// flags and request fields are range-checked, and the node's [wasm] table bounds what a spawn
// may ask for.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>

#include "cli/node_process.h"
#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"
#include "troupe/wasm/wat.h"

namespace troupe {
namespace {

using testing::NodeProcess;

// A guest whose dispatch spins forever (`loop br 0`), whatever it is sent.
constexpr const char* kSpinner = R"((module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32)
    (loop $l (br $l))
    (i32.const 16))))";

void write_wasm(const std::string& path, const char* wat) {
  auto bin = wasm::wat_to_wasm(wat);
  ASSERT_TRUE(bin.ok()) << bin.error().to_string();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bin->data()), static_cast<std::streamsize>(bin->size()));
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// One raw control request (JSON text), as a client other than `troupe` could send it; the
// response's JSON text.
std::string control_request(const std::string& socket_path, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string frame = control::encode_frame(request);
  ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
  char header[4];
  std::string body;
  if (::recv(fd, header, 4, MSG_WAITALL) == 4) {
    body.resize(get_u32_be(header));
    if (::recv(fd, body.data(), body.size(), MSG_WAITALL) != static_cast<ssize_t>(body.size())) {
      body.clear();
    }
  }
  ::close(fd);
  return body;
}

class WasmLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("wlim");
    write_wasm(dir_ + "/spin.wasm", kSpinner);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Starts a node with `toml` as its config (none when empty).
  std::unique_ptr<NodeProcess> start_node(const std::string& toml,
                                          std::vector<std::string> extra = {}) {
    if (!toml.empty()) {
      std::ofstream(dir_ + "/node.toml") << toml;
      extra.insert(extra.end(), {"--config", dir_ + "/node.toml"});
    }
    auto node = std::make_unique<NodeProcess>(dir_, extra);
    EXPECT_TRUE(node->wait_ready()) << node->errors();
    return node;
  }
  std::string dir_;
};

// Issue 9's freeze: four guests spinning in `loop br 0`, spawned without any limit flag, on a
// node with two workers. The default deadline ends each invocation, so a native echo still
// answers (within a few deadlines at worst), and every guest's ask ends with deadline-exceeded.
TEST_F(WasmLimits, SpinningGuestsWithoutFlagsDoNotFreezeTheNode) {
  auto node = start_node("", {"--workers", "2"});
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  const std::string spin = dir_ + "/spin.wasm";
  for (int i = 1; i <= 4; ++i) {
    // The interpreter, so that the default deadline (2 s) comes before the default fuel
    // (which the AOT tier burns through in milliseconds in an empty loop).
    auto r =
        node->cli({"spawn", "--wasm", spin, "--name", "s" + std::to_string(i), "--tier", "interp"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::vector<std::future<testing::CliResult>> spinning;
  for (int i = 1; i <= 4; ++i) {
    const std::string sub = dir_ + "/ask" + std::to_string(i);
    std::filesystem::create_directory(sub);
    spinning.push_back(std::async(std::launch::async, [&node, sub, i] {
      return testing::run_cli({"--socket", node->socket(), "ask", "s" + std::to_string(i), "go",
                               "--timeout-ms", "60000"},
                              sub);
    }));
  }
  auto start = std::chrono::steady_clock::now();
  auto echo = node->cli({"ask", "e", "any", "still answering", "--timeout-ms", "60000"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(echo.code, 0) << echo.err;
  EXPECT_EQ(echo.out, "still answering\n");
  // Bounded by the deadline: two rounds of two spinning guests on two workers, with room for a
  // loaded machine.
  EXPECT_LT(took, std::chrono::seconds(20));
  for (auto& f : spinning) {
    testing::CliResult r = f.get();
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(first_line(r.err), "error: deadline-exceeded: ran past its deadline of 2000 ms")
        << r.err;
  }
  EXPECT_TRUE(node->running());
}

// Every limit flag of spawn takes an integer in range or "unlimited", never 0: anything else
// is a usage error before the node is asked.
TEST_F(WasmLimits, SpawnLimitFlagsAreRangeChecked) {
  auto node = start_node("");
  const std::string spin = dir_ + "/spin.wasm";
  struct Case {
    std::string flag, value, expect;
  };
  const std::vector<Case> cases{
      {"--fuel", "0",
       "error: usage: --fuel must be an integer in 1..9223372036854775807 or "
       "\"unlimited\""},
      {"--fuel", "-1", "error: "},
      {"--fuel=-1", "", "error: usage: --fuel must be"},
      {"--fuel", "18446744073709551616", "error: usage: --fuel must be"},
      {"--fuel", "18446744073709551615", "error: usage: --fuel must be"},
      {"--fuel", "12abc", "error: usage: --fuel must be"},
      {"--fuel=", "", "error: usage: --fuel"},  // CLI11's words for a missing value
      {"--memory-pages", "4294967296",
       "error: usage: --memory-pages must be an integer in 1..65536"},
      {"--memory-pages", "0", "error: usage: --memory-pages must be"},
      {"--timeout-ms", "0", "error: usage: --timeout-ms must be"},
      {"--timeout-ms", "3600001", "error: usage: --timeout-ms must be"},
      {"--table-elements", "0", "error: usage: --table-elements must be"},
      {"--call-depth", "unlimited", "error: usage: --call-depth must be an integer in 1..100000"},
      {"--reply-bytes", "0", "error: usage: --reply-bytes must be"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"spawn", "--wasm", spin, c.flag};
    if (!c.value.empty()) args.push_back(c.value);
    auto r = node->cli(args);
    EXPECT_EQ(r.code, 1) << c.flag << " " << c.value;
    EXPECT_EQ(r.err.rfind(c.expect, 0), 0u) << c.flag << " " << c.value << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // Within the node's maxima: accepted.
  auto r = node->cli({"spawn", "--wasm", spin, "--fuel", "5000", "--memory-pages", "1024",
                      "--timeout-ms", "100", "--table-elements", "10", "--call-depth", "50",
                      "--reply-bytes", "1024"});
  EXPECT_EQ(r.code, 0) << r.err;
  // Past them, or unlimited on a node that does not allow it: refused by the node.
  r = node->cli({"spawn", "--wasm", spin, "--memory-pages", "65536"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(first_line(r.err),
            "error: invalid-argument: 'memory_pages' 65536 is above this node's maximum of "
            "16384 ([wasm] max_memory_pages)");
  r = node->cli({"spawn", "--wasm", spin, "--fuel", "unlimited"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("allow_unlimited = false"), std::string::npos) << r.err;
  EXPECT_TRUE(node->running());
}

// A module whose memory or table starts larger than its limits allow could never start: the
// spawn is refused with that reason, instead of an actor that fails at every restart.
TEST_F(WasmLimits, AModuleThatCannotStartUnderItsLimitsIsRefusedAtSpawn) {
  auto node = start_node("");
  const std::string big = dir_ + "/big.wasm";
  write_wasm(big, R"((module
  (memory (export "memory") 4)
  (table 20 funcref)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "actr:workload/workload@0.1.0#dispatch")
        (param i32 i32 i32 i32 i32 i32) (result i32) (i32.const 16))))");
  auto r = node->cli({"spawn", "--wasm", big, "--name", "big", "--memory-pages", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(first_line(r.err),
            "error: memory-limit: the module starts with 4 pages of memory; the limit is 2");
  r = node->cli({"spawn", "--wasm", big, "--name", "big", "--table-elements", "10"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(first_line(r.err),
            "error: memory-limit: the module starts with a table of 20 elements; the limit is 10");
  r = node->cli({"ls"});
  EXPECT_EQ(r.out.find("big"), std::string::npos) << r.out;
  r = node->cli({"spawn", "--wasm", big, "--name", "big"});  // within the defaults
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(node->running());
}

// The spawn request's fields are checked by the node too (other clients than the CLI).
TEST_F(WasmLimits, SpawnRequestFieldsAreRangeCheckedByTheNode) {
  auto node = start_node("");
  const std::string spin = dir_ + "/spin.wasm";
  for (const char* field :
       {R"("fuel":0)", R"("fuel":-1)", R"("fuel":1.5)", R"("fuel":18446744073709551616)",
        R"("fuel":"5")", R"("fuel":null)", R"("memory_pages":4294967296)", R"("timeout_ms":0)",
        R"("call_depth":"unlimited")", R"("table_elements":true)"}) {
    const std::string req =
        R"({"v":1,"op":"spawn","wasm":")" + spin + R"(",)" + std::string(field) + "}";
    // A raw request: `troupe` itself would refuse these before asking the node.
    auto reply = control_request(node->socket(), req);
    EXPECT_NE(reply.find("\"ok\":false"), std::string::npos) << field << ": " << reply;
    EXPECT_NE(reply.find("must be an integer in"), std::string::npos) << field << ": " << reply;
  }
  EXPECT_TRUE(node->running());
}

// A node that allows unlimited guests, with its own defaults and maxima.
TEST_F(WasmLimits, TheWasmTableSetsDefaultsMaximaAndUnlimited) {
  auto node = start_node(
      "[wasm]\nallow_unlimited = true\ntimeout_ms = 100\nmax_fuel = \"unlimited\"\n"
      "memory_pages = 32\nmax_memory_pages = 64\n");
  const std::string spin = dir_ + "/spin.wasm";
  ASSERT_EQ(node->cli({"spawn", "--wasm", spin, "--name", "s", "--tier", "interp"}).code, 0);
  auto r = node->cli({"ask", "s", "go"});
  EXPECT_EQ(first_line(r.err), "error: deadline-exceeded: ran past its deadline of 100 ms");
  EXPECT_EQ(node->cli({"spawn", "--wasm", spin, "--fuel", "unlimited"}).code, 0);
  r = node->cli({"spawn", "--wasm", spin, "--memory-pages", "65"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("maximum of 64"), std::string::npos) << r.err;
}

// `troupe call` gets the same defaults as a spawn, and the same range checks.
class CallLimits : public WasmLimits, public ::testing::WithParamInterface<std::string> {};

TEST_P(CallLimits, DefaultsApplyWithoutFlags) {
  auto r = testing::run_cli(
      {"call", "--wasm", dir_ + "/spin.wasm", "--route", "x", "--tier", GetParam()}, dir_);
  EXPECT_EQ(r.code, 3);
  // The AOT tier burns the default fuel in an empty loop long before the default deadline.
  EXPECT_EQ(first_line(r.err), GetParam() == "interp"
                                   ? "error: deadline-exceeded: ran past its deadline of 2000 ms"
                                   : "error: fuel-exhausted: used all 1000000000 units of fuel")
      << r.err;
}

TEST_P(CallLimits, LimitFlagsAreRangeChecked) {
  for (std::vector<std::string> bad : {std::vector<std::string>{"--fuel", "0"},
                                       {"--fuel=-5"},
                                       {"--fuel", "18446744073709551616"},
                                       {"--memory-pages", "4294967296"},
                                       {"--timeout-ms", "0"},
                                       {"--table-elements", "0"},
                                       {"--call-depth", "0"},
                                       {"--reply-bytes", "unlimited"},
                                       {"--fuel="}}) {
    std::vector<std::string> args{"call", "--wasm", dir_ + "/spin.wasm", "--route",
                                  "x",    "--tier", GetParam()};
    args.insert(args.end(), bad.begin(), bad.end());
    auto r = testing::run_cli(args, dir_);
    EXPECT_EQ(r.code, 1) << bad[0];
    EXPECT_EQ(r.err.rfind("error: usage: --", 0), 0u) << bad[0] << ": " << r.err;
  }
  // Unlimited fuel with a deadline: the deadline stops it.
  auto r = testing::run_cli({"call", "--wasm", dir_ + "/spin.wasm", "--route", "x", "--tier",
                             GetParam(), "--fuel", "unlimited", "--timeout-ms", "50"},
                            dir_);
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(first_line(r.err), "error: deadline-exceeded: ran past its deadline of 50 ms");
}

// A guest that logs 1 KiB 500 times: `troupe call` keeps one second's worth (64 KiB), never
// buffers the rest, and says how much it dropped.
TEST_P(CallLimits, GuestOutputIsBoundedAndDropsAreCounted) {
  write_wasm(dir_ + "/flood.wasm", R"((module
    (import "actr:workload/host@0.1.0" "log-message" (func $log (param i32 i32 i32 i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "info")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8192))
    (func (export "actr:workload/workload@0.1.0#dispatch")
          (param i32 i32 i32 i32 i32 i32) (result i32) (local $i i32)
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 500)))
        (call $log (i32.const 100) (i32.const 4) (i32.const 1024) (i32.const 1024))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.const 16))))");
  auto r = testing::run_cli(
      {"call", "--wasm", dir_ + "/flood.wasm", "--route", "x", "--tier", GetParam()}, dir_);
  EXPECT_EQ(r.code, 0) << r.err.substr(0, 200);
  EXPECT_LT(r.err.size(), 80000u);
  EXPECT_NE(r.err.find("[troupe: dropped "), std::string::npos);
  EXPECT_NE(r.err.find("bytes of guest output over the limits]"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Tiers, CallLimits, ::testing::Values("interp", "aot"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace troupe
