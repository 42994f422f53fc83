// The control socket over the operations layer, in one process: asks whose replies the
// clients do not read yet hold their bytes in the node-wide reply budget until the frame has
// been written, and an ask past the budget gets an error instead of being buffered.
#include "troupe/node/control_handler.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "probe.h"
#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"
#include "troupe/node/node.h"
#include "troupe/runtime/envelope.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

// Replies with as many bytes as its payload's number says.
class BigReplier final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m, [](Envelope& e) -> Result<Bytes> { return Bytes(std::stoul(e.payload), 'x'); });
  }
};

// Replies with as many zero bytes as its payload's number says: they travel as base64.
class ZeroReplier final : public Actor {
 public:
  bool receive(Message& m) override {
    return match(m,
                 [](Envelope& e) -> Result<Bytes> { return Bytes(std::stoul(e.payload), '\0'); });
  }
};

// A raw control connection: sends one request, reads one response when asked to.
class Client {
 public:
  explicit Client(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  bool send(const json& request) {
    const std::string frame = control::encode_frame(request.dump());
    return connected_ && ::write(fd_, frame.data(), frame.size()) == ssize_t(frame.size());
  }
  json read() {
    char header[4];
    if (!read_exactly(header, 4)) return json();
    std::string body(get_u32_be(header), '\0');
    if (!read_exactly(body.data(), body.size())) return json();
    return json::parse(body, nullptr, false);
  }

 private:
  bool read_exactly(char* out, std::size_t n) {
    while (n > 0) {
      ssize_t got = ::read(fd_, out, n);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }
  int fd_;
  bool connected_ = false;
};

json ask_request(std::size_t reply_bytes) {
  return json{{"v", control::kVersion},
              {"op", "ask"},
              {"actor", "b"},
              {"route", "r"},
              {"data", std::to_string(reply_bytes)}};
}

// A node with the two replier kinds, an 8 MiB reply budget and actor "b" of `kind` running.
class ControlHandler : public ::testing::Test {
 protected:
  void start(const std::string& kind, std::chrono::milliseconds idle_timeout = 10'000ms) {
    std::string tmpl = (fs::temp_directory_path() / "troupe-replies-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    config_.data_dir = dir_ + "/data";
    config_.workers = 1;
    config_.max_held_reply_bytes = std::size_t{8} << 20;
    config_.control.idle_timeout = idle_timeout;
    KindRegistry kinds;
    kinds.add("big", "replies with N bytes", [] { return std::make_unique<BigReplier>(); });
    kinds.add("zeros", "replies with N zero bytes", [] { return std::make_unique<ZeroReplier>(); });
    auto node = Node::start(config_, std::move(kinds));
    ASSERT_TRUE(node.ok()) << node.error().to_string();
    node_ = std::move(node).value();
    Client spawner(config_.socket_path());
    ASSERT_TRUE(spawner.send(json{{"v", 1}, {"op", "spawn"}, {"kind", kind}, {"name", "b"}}));
    ASSERT_EQ(spawner.read().value("ok", false), true);
  }
  void TearDown() override {
    if (node_) node_->shutdown();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  Operations& ops() { return node_->operations(); }
  std::string socket() const { return config_.socket_path(); }

  std::string dir_;
  NodeConfig config_;
  std::unique_ptr<Node> node_;
};

TEST_F(ControlHandler, RepliesHeldForClientsStayWithinTheNodeBudget) {
  start("big");
  constexpr std::size_t kReply = std::size_t{6} << 20;
  // A client that asks and does not read: its 6 MiB reply cannot all be written, so the node
  // holds it, and counts it.
  Client slow(socket());
  ASSERT_TRUE(slow.send(ask_request(kReply)));
  ASSERT_TRUE(testing::eventually([&] { return ops().reply_budget().held() == kReply; }, 10s));
  // A second one past the budget is refused, not buffered.
  Client second(socket());
  ASSERT_TRUE(second.send(ask_request(kReply)));
  json refused = second.read();
  EXPECT_EQ(refused.value("ok", true), false) << refused.dump().substr(0, 200);
  EXPECT_NE(refused.value("error", std::string()).find("max_held_reply_bytes"), std::string::npos)
      << refused.value("error", std::string());
  // Once the slow client has its reply, the bytes are released and the next ask fits.
  json got = slow.read();
  ASSERT_EQ(got.value("ok", false), true);
  EXPECT_EQ(got.value("reply", std::string()).size(), kReply);
  ASSERT_TRUE(testing::eventually([&] { return ops().reply_budget().held() == 0; }, 10s));
  Client third(socket());
  ASSERT_TRUE(third.send(ask_request(kReply)));
  EXPECT_EQ(third.read().value("ok", false), true);
}

// The node holds a reply as it is sent, and bytes that are not text go as base64, a third
// larger: the budget counts that. Before, a 7 MiB binary reply fit an 8 MiB budget while the
// node held 9.3 MiB for it (60 clients not reading 16 MiB replies: 620 MB resident for a
// 256 MiB budget).
TEST_F(ControlHandler, TheBudgetCountsRepliesAsSent) {
  start("zeros");
  // 7 MiB of zeros are 9.33 MiB of base64: past the 8 MiB budget.
  Client big(socket());
  ASSERT_TRUE(big.send(ask_request(std::size_t{7} << 20)));
  json refused = big.read();
  EXPECT_EQ(refused.value("ok", true), false) << refused.dump().substr(0, 200);
  EXPECT_NE(refused.value("error", std::string()).find("as sent"), std::string::npos)
      << refused.value("error", std::string());
  ASSERT_TRUE(testing::eventually([&] { return ops().reply_budget().held() == 0; }, 10s));
  // 3 MiB not read yet are held as their 4 MiB of base64, and released once read.
  Client slow(socket());
  ASSERT_TRUE(slow.send(ask_request(std::size_t{3} << 20)));
  ASSERT_TRUE(testing::eventually(
      [&] { return ops().reply_budget().held() == (std::size_t{4} << 20); }, 10s))
      << ops().reply_budget().held();
  json got = slow.read();
  ASSERT_EQ(got.value("ok", false), true);
  EXPECT_EQ(got.value("reply_b64", std::string()).size(), std::size_t{4} << 20);
  ASSERT_TRUE(testing::eventually([&] { return ops().reply_budget().held() == 0; }, 10s));
}

// A client that asks and then never reads does not pin its reply (nor its place in the reply
// budget, nor its connection) for ever: the response frame must be taken within the idle
// timeout, like a request frame must arrive within it.
TEST_F(ControlHandler, AReplyNobodyReadsIsReleasedAfterTheIdleTimeout) {
  start("big", 1000ms);
  constexpr std::size_t kReply = std::size_t{6} << 20;
  Client never_reads(socket());
  ASSERT_TRUE(never_reads.send(ask_request(kReply)));
  ASSERT_TRUE(testing::eventually([&] { return ops().reply_budget().held() == kReply; }, 10s));
  // The client stays connected and silent: the node closes it and lets the bytes go.
  EXPECT_TRUE(testing::eventually([&] { return ops().reply_budget().held() == 0; }, 10s))
      << ops().reply_budget().held() << " bytes still held";
  Client next(socket());
  ASSERT_TRUE(next.send(ask_request(kReply)));
  EXPECT_EQ(next.read().value("ok", false), true);
}

// The trust ops check their fields before anything reaches the trust store; what the store
// refuses comes back as its kind.
TEST_F(ControlHandler, TrustRequestsAreCheckedAndAnsweredWithKinds) {
  start("big");
  auto answer = [&](const json& req) {
    Client c(socket());
    EXPECT_TRUE(c.send(req));
    return c.read();
  };
  auto error_of = [&](json req) {
    req["v"] = 1;
    json r = answer(req);
    EXPECT_EQ(r.value("ok", true), false) << r.dump();
    return r.value("error", std::string());
  };
  EXPECT_NE(error_of({{"op", "trust-add"}}).find("missing 'public_key'"), std::string::npos);
  EXPECT_NE(error_of({{"op", "trust-add"}, {"public_key", 7}}).find("must be a string"),
            std::string::npos);
  EXPECT_EQ(error_of({{"op", "trust-add"}, {"public_key", "not base64"}}).rfind("malformed: ", 0),
            0u);
  EXPECT_NE(error_of({{"op", "trust-revoke"}}).find("give 'key_id' or 'package_hash'"),
            std::string::npos);
  EXPECT_NE(error_of({{"op", "trust-revoke"}, {"key_id", "mfr-0"}, {"package_hash", "a"}})
                .find("give 'key_id' or 'package_hash'"),
            std::string::npos);
  EXPECT_EQ(error_of({{"op", "trust-revoke"}, {"key_id", "../x"}}).rfind("malformed: ", 0), 0u);
  EXPECT_EQ(error_of({{"op", "trust-revoke"}, {"package_hash", "abc"}}).rfind("malformed: ", 0),
            0u);
  json ls = answer(json{{"v", 1}, {"op", "trust-ls"}});
  ASSERT_EQ(ls.value("ok", false), true) << ls.dump();
  EXPECT_TRUE(ls["keys"].empty());
  EXPECT_TRUE(ls["revoked_keys"].empty());
  json revoked =
      answer(json{{"v", 1}, {"op", "trust-revoke"}, {"package_hash", std::string(64, 'c')}});
  EXPECT_EQ(revoked.value("ok", false), true) << revoked.dump();
  EXPECT_EQ(revoked.value("stopped", 1), 0);
  ls = answer(json{{"v", 1}, {"op", "trust-ls"}});
  EXPECT_EQ(ls["revoked_packages"], json::array({std::string(64, 'c')}));
}

}  // namespace
}  // namespace troupe
