// The guest SDK (guest/) against the host's canonical ABI: the example guests and the
// all-imports test guest, compiled from C/C++ by clang for wasm32-wasi, run in the interpreter
// tier with a scripted host. Each import and export crosses the boundary once here; the same
// guests run against the real node in the node tests.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "troupe/wasm/guest_module.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/wasm_error.h"
#include "troupe/wasm/workload_values.h"
#include "wasm/tiers.h"

namespace troupe::wasm {
namespace {

using workload::ActrErrorCase;
using workload::ActrId;
using workload::GuestError;

std::vector<std::uint8_t> read_guest(const std::string& name) {
  std::ifstream in(std::string(TROUPE_GUEST_DIR) + "/" + name + ".wasm", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

GuestModule load_guest(const std::string& name) {
  auto m = GuestModule::load(read_guest(name));
  EXPECT_TRUE(m.ok()) << name << ": " << (m.ok() ? "" : m.error().to_string());
  return std::move(m).value();
}

const ActrId kEcho{0, 7, {"troupe", "echo", "0.1.0"}};
const ActrId kSelf{0, 3, {"troupe", "all-imports", "0.1.0"}};

// Answers like a node with one echo actor; records every call with its arguments.
class ScriptedHost final : public HostImports {
 public:
  Result<std::optional<AbiValue>> call_host(const workload::Function& f,
                                            std::vector<AbiValue> args) override {
    using O = std::optional<AbiValue>;
    calls.push_back({f.name, args});
    if (f.name == "call" || f.name == "tell") {
      auto dest = workload::dest_from(args[0]);
      if (dest.kind == workload::DestCase::kShell) {
        return O(workload::err({ActrErrorCase::kUnavailable, "no shell here", {}}));
      }
      if (f.name == "tell") return O(workload::ok_unit());
      return O(workload::ok_bytes(args[1].bytes + ":" + args[2].bytes));
    }
    if (f.name == "call-raw") return O(workload::ok_bytes("raw:" + args[2].bytes));
    if (f.name == "discover") {
      auto type = workload::actr_type_from(args[0]);
      if (type.name == "echo") return O(workload::ok_id(kEcho));
      if (type.name == "all-imports") return O(workload::ok_id(kSelf));
      return O(workload::err(
          {ActrErrorCase::kDependencyNotFound, "nothing of type " + type.name, type.name}));
    }
    if (f.name == "register-stream" || f.name == "unregister-stream" ||
        f.name == "send-data-stream") {
      return O(workload::ok_unit());
    }
    if (f.name == "log-message") {
      log.push_back(args[0].bytes + ": " + args[1].bytes);
      return O{};
    }
    if (f.name == "get-self-id") return O(workload::to_value(kSelf));
    if (f.name == "get-caller-id") {
      return caller ? O(AbiValue::of_case(1, workload::to_value(*caller)))
                    : O(AbiValue::of_case(0));
    }
    if (f.name == "get-request-id") return O(AbiValue::text("req-9"));
    return Error{BaseErrc::kInternal, "unexpected import " + f.name};
  }
  void write_output(int, std::string_view bytes) override { output += bytes; }

  struct Call {
    std::string name;
    std::vector<AbiValue> args;
  };
  std::vector<Call> calls;
  std::vector<std::string> log;
  std::string output;
  std::optional<ActrId> caller;
};

class GuestSdk : public testing::TierTest {
 protected:
  std::unique_ptr<Instance> start(const std::string& name) {
    module_ = std::make_unique<GuestModule>(load_guest(name));
    auto i = testing::create_on_tier(*module_, host_);
    EXPECT_TRUE(i.ok()) << (i.ok() ? "" : i.error().to_string());
    return std::move(i).value();
  }
  // dispatch: the reply bytes, or the guest's error as "case: detail".
  static std::string dispatch(Instance& g, const std::string& route,
                              const std::string& payload = {}) {
    auto r = g.call("dispatch", {workload::envelope("r-1", route, payload)});
    if (!r.ok()) return "host: " + r.error().to_string();
    if (auto e = workload::error_of(**r)) return "error " + e->to_string();
    return (**r).items.at(0).bytes;
  }
  ScriptedHost host_;
  std::unique_ptr<GuestModule> module_;
};

TEST_P(GuestSdk, EchoAndUnknownRoutes) {
  auto g = start("echo");
  EXPECT_EQ(dispatch(*g, "echo", "hello"), "hello");
  EXPECT_EQ(dispatch(*g, "echo", ""), "");
  EXPECT_EQ(dispatch(*g, "shout", "x"), "error unknown-route: echo has no route 'shout'");
  // 1000 dispatches: the SDK frees what the host allocated (memory would otherwise grow).
  // Payloads around the SDK's 8 KiB arena: all in it, the reply outside it, everything
  // outside it; each is checked byte for byte.
  for (int i = 0; i < 1000; ++i) {
    const std::size_t sizes[] = {0, 100, 4096, 8170, 9000, 70000};
    std::string payload(sizes[i % 6], static_cast<char>('a' + i % 26));
    if (!payload.empty()) payload[payload.size() / 2] = static_cast<char>(i);
    ASSERT_EQ(dispatch(*g, "echo", payload), payload) << i;
  }
  EXPECT_LT(g->bytes().size(), 4u << 20);
  EXPECT_FALSE(module_->exports_function("on-start"));  // hooks not written are not exported
}

TEST_P(GuestSdk, CppCounterKeepsStateAndMapsErrors) {
  auto g = start("counter");
  ASSERT_TRUE(g->call("on-start", {}).ok());
  EXPECT_EQ(host_.log, std::vector<std::string>{"info: counter starting at 0"});
  EXPECT_EQ(dispatch(*g, "inc"), "1");
  EXPECT_EQ(dispatch(*g, "inc", "41"), "42");
  EXPECT_EQ(dispatch(*g, "get"), "42");
  EXPECT_EQ(dispatch(*g, "inc", "x1"), "error invalid-argument: not a number: x1");
  EXPECT_EQ(dispatch(*g, "nope"), "error unknown-route: counter has no route 'nope'");
}

TEST_P(GuestSdk, EveryImportCrossesWithItsArguments) {
  auto g = start("all-imports");
  EXPECT_EQ(dispatch(*g, "call-local", "p"), "echo:p");
  EXPECT_EQ(workload::dest_from(host_.calls.back().args[0]).kind, workload::DestCase::kLocal);
  EXPECT_EQ(dispatch(*g, "call-shell", "p"), "error unavailable: no shell here");
  EXPECT_EQ(dispatch(*g, "tell-local", "t"), "told");
  EXPECT_EQ(host_.calls.back().name, "tell");
  EXPECT_EQ(dispatch(*g, "call-actor", "a"), "echo:a");
  auto dest = workload::dest_from(host_.calls.back().args[0]);
  EXPECT_EQ(dest.kind, workload::DestCase::kActor);
  EXPECT_EQ(dest.actor, kEcho);
  EXPECT_EQ(dispatch(*g, "call-raw", "b"), "raw:b");
  EXPECT_EQ(workload::actr_id_from(host_.calls.back().args[0]), kEcho);
  EXPECT_EQ(dispatch(*g, "discover", "echo"), "0 7 troupe/echo/0.1.0");
  EXPECT_EQ(dispatch(*g, "discover", "ghost"),
            "error dependency-not-found: ghost: nothing of type ghost");
  EXPECT_EQ(dispatch(*g, "log", "note"), "logged");
  EXPECT_EQ(host_.log.back(), "info: note");
  EXPECT_EQ(dispatch(*g, "self"), "0 3 troupe/all-imports/0.1.0");
  EXPECT_EQ(dispatch(*g, "caller"), "none");
  host_.caller = kEcho;
  EXPECT_EQ(dispatch(*g, "caller"), "0 7 troupe/echo/0.1.0");
  EXPECT_EQ(dispatch(*g, "request-id"), "req-9");

  host_.calls.clear();
  EXPECT_EQ(dispatch(*g, "stream", "latency"), "streamed 3");
  std::vector<std::string> names;
  for (const auto& c : host_.calls) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"discover", "register-stream", "send-data-stream",
                                             "send-data-stream", "send-data-stream",
                                             "unregister-stream"}));
  const auto& send = host_.calls[3].args;  // the second chunk
  EXPECT_EQ(workload::dest_from(send[0]).actor, kSelf);
  auto chunk = workload::data_stream_from(send[1]);
  EXPECT_EQ(chunk.stream_id, "s1");
  EXPECT_EQ(chunk.sequence, 1u);
  EXPECT_EQ(chunk.payload, "c1");
  EXPECT_EQ(chunk.metadata,
            (std::vector<std::pair<std::string, std::string>>{{"k", "v"}, {"i", "c1"}}));
  EXPECT_EQ(chunk.timestamp_ms, 1001);
  EXPECT_EQ(send[2].discriminant,
            static_cast<std::uint32_t>(workload::PayloadTypeCase::kStreamLatencyFirst));
  EXPECT_EQ(host_.calls[1].args[0].bytes, "s1");
}

TEST_P(GuestSdk, GuestErrorsCarryTheirDetail) {
  auto g = start("all-imports");
  EXPECT_EQ(dispatch(*g, "fail", "gone"), "error not-found: gone");
  EXPECT_EQ(dispatch(*g, "fail-dep", "down"), "error dependency-not-found: svc: down");
  EXPECT_EQ(dispatch(*g, "fail-timeout"), "error timed-out");
  EXPECT_EQ(dispatch(*g, "echo", "after"), "after");  // a failed dispatch leaves it usable
  auto trap = g->call("dispatch", {workload::envelope("r", "trap", "")});
  ASSERT_FALSE(trap.ok());
  EXPECT_EQ(trap.error().code, WasmErrc::kTrap);
}

TEST_P(GuestSdk, EveryHookIsCalledWithItsValues) {
  using V = AbiValue;
  auto g = start("all-imports");
  EXPECT_EQ(module_->exports().size(), 18u);
  auto ok = [&](const char* hook, std::vector<V> args = {}) {
    auto r = g->call(hook, args);
    ASSERT_TRUE(r.ok()) << hook << ": " << r.error().to_string();
    if (*r && (**r).discriminant != 0) ADD_FAILURE() << hook << " returned an error";
  };
  ok("on-start");
  ok("on-ready");
  ok("on-error", {workload::error_event({ActrErrorCase::kInternal, "boom", {}},
                                        workload::ErrorCategoryCase::kHandlerPanic, "dispatch x",
                                        workload::timestamp(5, 6))});
  for (const char* h :
       {"on-signaling-connecting", "on-signaling-connected", "on-signaling-disconnected"}) {
    ok(h);
  }
  ok("on-websocket-connecting", {workload::peer_event(kEcho, std::nullopt)});
  ok("on-websocket-connected", {workload::peer_event(kEcho, false)});
  ok("on-websocket-disconnected", {workload::peer_event(kEcho, true)});
  ok("on-webrtc-connecting", {workload::peer_event(kEcho, true)});
  ok("on-webrtc-connected", {workload::peer_event(kEcho, false)});
  ok("on-webrtc-disconnected", {workload::peer_event(kEcho, std::nullopt)});
  ok("on-credential-renewed", {V::of_items({workload::timestamp(100, 1)})});
  ok("on-credential-expiring", {V::of_items({workload::timestamp(200, 2)})});
  ok("on-mailbox-backpressure", {V::of_items({V::of(12), V::of(10)})});
  workload::DataStreamChunk chunk{"s9", 4, "data", {{"a", "b"}}, 77};
  ok("on-data-stream", {workload::to_value(chunk), workload::to_value(kEcho)});
  ok("on-stop");
  EXPECT_EQ(dispatch(*g, "journal"),
            "on-start;on-ready;on-error(10:boom/0/dispatch x);on-signaling-connecting;"
            "on-signaling-connected;on-signaling-disconnected;"
            "on-websocket-connecting(0 7 troupe/echo/0.1.0 none);"
            "on-websocket-connected(0 7 troupe/echo/0.1.0 direct);"
            "on-websocket-disconnected(0 7 troupe/echo/0.1.0 relayed);"
            "on-webrtc-connecting(0 7 troupe/echo/0.1.0 relayed);"
            "on-webrtc-connected(0 7 troupe/echo/0.1.0 direct);"
            "on-webrtc-disconnected(0 7 troupe/echo/0.1.0 none);"
            "on-credential-renewed(100.1);on-credential-expiring(200.2);"
            "on-mailbox-backpressure(12/10);"
            "on-data-stream(s9#4 data meta=1 a=b ts=77 from 0 7 troupe/echo/0.1.0);on-stop");
}

TEST_P(GuestSdk, AnArmedHookTrapsAndIsReportedAsATrap) {
  auto g = start("all-imports");
  EXPECT_EQ(dispatch(*g, "arm", "on-ready"), "armed");
  auto r = g->call("on-ready", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WasmErrc::kTrap);
}

TROUPE_BOTH_TIERS(GuestSdk);

}  // namespace
}  // namespace troupe::wasm
