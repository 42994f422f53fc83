// Integration: a real `troupe node run` process driven by the real CLI.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>

#include "cli/node_process.h"
#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"

namespace troupe {
namespace {

using testing::NodeProcess;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("cli");
    node_ = std::make_unique<NodeProcess>(dir_);
    ASSERT_TRUE(node_->wait_ready()) << node_->errors();
  }
  void TearDown() override {
    if (node_) {
      EXPECT_EQ(node_->stop(), 0);
    }
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(Cli, SpawnTellAskLsStopStatus) {
  auto r = node_->cli({"spawn", "counter", "--name", "c"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find('.'), std::string::npos);  // an id NODE.SERIAL
  EXPECT_EQ(node_->cli({"tell", "c", "inc", "5"}).code, 0);
  r = node_->cli({"ask", "c", "inc", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "7\n");

  ASSERT_EQ(node_->cli({"spawn", "echo", "--name", "e"}).code, 0);
  r = node_->cli({"ask", "e", "any", "hello there"});
  EXPECT_EQ(r.out, "hello there\n");

  ASSERT_EQ(node_->cli({"spawn", "pinger", "--name", "p"}).code, 0);
  r = node_->cli({"ask", "p", "ping", "e"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("e answered 'ping'"), std::string::npos) << r.out;

  r = node_->cli({"ls"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("(root)"), std::string::npos);
  EXPECT_NE(r.out.find("├─"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("counter"), std::string::npos);
  EXPECT_NE(r.out.find("pinger"), std::string::npos);

  ASSERT_EQ(node_->cli({"stop", "c"}).code, 0);
  r = node_->cli({"ask", "c", "get"});
  EXPECT_NE(r.code, 0);

  r = node_->cli({"status"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("kinds:"), std::string::npos);
  EXPECT_NE(r.out.find("crasher"), std::string::npos);
}

TEST_F(Cli, WasmActorsRunBesideNativeOnes) {
  const std::string guests = TROUPE_GUEST_DIR;
  auto r =
      node_->cli({"spawn", "--wasm", guests + "/echo.wasm", "--name", "we", "--tier", "interp"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = node_->cli({"ask", "we", "echo", "from wasm"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "from wasm\n");
  // An unsigned guest is granted nothing: the WebAssembly pinger (AOT) runs, but may not even
  // discover the echo it would call (the signed example package may: PackageSpawn).
  ASSERT_EQ(node_->cli({"spawn", "echo", "--name", "ne"}).code, 0);
  ASSERT_EQ(
      node_->cli({"spawn", "--wasm", guests + "/pinger.wasm", "--name", "wp", "--tier", "aot"})
          .code,
      0);
  r = node_->cli({"ask", "wp", "ping"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("permission-denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("outside this actor's call grants"), std::string::npos) << r.err;
  ASSERT_EQ(node_->cli({"spawn", "--wasm", guests + "/counter.wasm"}).code, 0);
  ASSERT_EQ(node_->cli({"spawn", "counter", "--name", "nc"}).code, 0);
  r = node_->cli({"ls"});
  ASSERT_EQ(r.code, 0);
  for (const char* t : {"we", "wp", "unsigned:", "counter"}) {
    EXPECT_NE(r.out.find(t), std::string::npos) << t << " in\n" << r.out;
  }
  // A guest error is an error of the ask; a trap restarts the actor, which keeps its name.
  r = node_->cli({"ask", "we", "shout"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown-route"), std::string::npos) << r.err;
  ASSERT_EQ(node_
                ->cli({"spawn", "--wasm", guests + "/all-imports.wasm", "--name", "wa", "--fuel",
                       "100000", "--timeout-ms", "2000", "--tier", "aot"})
                .code,
            0);
  r = node_->cli({"ask", "wa", "spin"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("fuel-exhausted"), std::string::npos) << r.err;
  r = node_->cli({"ask", "wa", "echo", "back"});
  EXPECT_EQ(r.out, "back\n") << r.err;
  // Refused modules: one line, nothing spawned, the node keeps going.
  std::ofstream(dir_ + "/junk.wasm") << "junk";
  r = node_->cli({"spawn", "--wasm", dir_ + "/junk.wasm"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  r = node_->cli({"spawn", "--wasm", dir_ + "/missing.wasm"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(node_->cli({"spawn", "echo", "--wasm", guests + "/echo.wasm"}).code, 1);
  r = node_->cli({"spawn", "--wasm", guests + "/echo.wasm", "--tier", "jit"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("'tier' must be auto, aot or interp"), std::string::npos) << r.err;
  EXPECT_EQ(node_->cli({"ask", "we", "echo", "ok"}).out, "ok\n");
}

TEST_F(Cli, CrashIsRestartedBySupervisor) {
  ASSERT_EQ(node_->cli({"spawn", "crasher", "--name", "x"}).code, 0);
  auto r = node_->cli({"ask", "x", "crash", "now"});
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err, "error: handler-error: crash requested: now\n");
  r = node_->cli({"ask", "x", "ping"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "pong after 1 messages\n");  // a fresh instance
  r = node_->cli({"ls"});
  // The crasher row shows one restart.
  auto row = r.out.substr(r.out.find("(x)"));
  row = row.substr(0, row.find('\n'));
  EXPECT_NE(row.find("crasher"), std::string::npos);
  EXPECT_NE(row.find("       1 "), std::string::npos) << row;
}

TEST_F(Cli, BadInputGetsAOneLineErrorAndTheNodeKeepsRunning) {
  struct Case {
    std::vector<std::string> args;
    std::string err_prefix;
  };
  std::vector<Case> cases{
      {{"spawn", "nope"}, "error: not-found: no actor kind 'nope'"},
      {{"tell", "ghost", "x"}, "error: not-found: no actor 'ghost'"},
      {{"ask", "ghost", "x"}, "error: not-found: no actor 'ghost'"},
      {{"stop", "ghost"}, "error: not-found: no actor 'ghost'"},
      {{"stop", "root"}, "error: invalid-argument: the root supervisor"},
      {{"spawn", "echo", "--supervisor", "ghost"}, "error: not-found: no supervisor 'ghost'"},
      {{"ask"}, "error: "},
      {{"frobnicate"}, "error: "},
      {{"ask", "root", "x", "--timeout-ms", "0"}, "error: "},
  };
  ASSERT_EQ(node_->cli({"spawn", "echo", "--name", "e"}).code, 0);
  cases.push_back({{"spawn", "echo", "--name", "e"}, "error: invalid-argument: name 'e' is taken"});
  cases.push_back(
      {{"spawn", "echo", "--supervisor", "e"}, "error: invalid-argument: 'e' is not a supervisor"});
  for (auto& c : cases) {
    auto r = node_->cli(c.args);
    EXPECT_NE(r.code, 0) << c.args[0];
    EXPECT_EQ(r.err.rfind(c.err_prefix, 0), 0u) << "got: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_TRUE(node_->running());
  EXPECT_EQ(node_->cli({"ask", "e", "x", "still here"}).out, "still here\n");
}

TEST_F(Cli, LsIsBoundedForLargeNodes) {
  // More actors than `ls` lists (2000); a few seconds of real CLI processes.
  for (int i = 0; i < 2100; ++i) ASSERT_EQ(node_->cli({"spawn", "echo"}).code, 0);
  auto r = node_->cli({"ls"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("more actors not shown"), std::string::npos);
}

TEST_F(Cli, SecondNodeOnTheSameSocketIsRefused) {
  NodeProcess second(dir_);
  EXPECT_FALSE(second.wait_ready());
  EXPECT_EQ(second.stop(), 1);
  EXPECT_NE(second.errors().find("another node is already running"), std::string::npos)
      << second.errors();
  EXPECT_TRUE(node_->running());
}

TEST_F(Cli, SocketIsPrivate) {
  struct stat st {};
  ASSERT_EQ(::stat(node_->socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(Cli, NoNodeIsAClearError) {
  auto r = testing::run_cli({"--socket", dir_ + "/none.sock", "status"}, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: unavailable: no node listening on", 0), 0u) << r.err;
}

// Raw frames that the CLI would never send.
class RawControl : public Cli {
 protected:
  int connect_raw() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, node_->socket().c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  // Sends bytes, returns the response JSON text ("" if the connection closed without one).
  std::string exchange(const std::string& bytes) {
    int fd = connect_raw();
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    char header[4];
    std::string body;
    if (::recv(fd, header, 4, MSG_WAITALL) == 4) {
      body.resize(get_u32_be(header));
      if (::recv(fd, body.data(), body.size(), MSG_WAITALL) != static_cast<ssize_t>(body.size()))
        body.clear();
    }
    ::close(fd);
    return body;
  }
};

TEST_F(RawControl, MalformedFramesAreAnsweredAndTheNodeSurvives) {
  std::string oversized(4, '\0');
  put_u32_be(oversized.data(), 64u << 20);
  EXPECT_NE(exchange(oversized).find("control frame of 67108864 bytes"), std::string::npos);
  std::string zero(4, '\0');
  EXPECT_NE(exchange(zero).find("\"ok\":false"), std::string::npos);
  EXPECT_NE(exchange(control::encode_frame("{not json")).find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(exchange(control::encode_frame("[1,2]")).find("not a JSON object"), std::string::npos);
  EXPECT_NE(exchange(control::encode_frame(R"({"v":99,"op":"ls"})")).find("version"),
            std::string::npos);
  EXPECT_NE(exchange(control::encode_frame(R"({"v":1})")).find("missing 'op'"), std::string::npos);
  EXPECT_NE(exchange(control::encode_frame(R"({"v":1,"op":"ask","actor":5,"route":"x"})"))
                .find("'actor' must be a string"),
            std::string::npos);
  EXPECT_NE(exchange(control::encode_frame(R"({"v":1,"op":"nuke"})")).find("unknown op"),
            std::string::npos);
  // A client that disconnects mid-frame.
  int fd = connect_raw();
  ::send(fd, "\0\0\0\x10{\"v\"", 8, MSG_NOSIGNAL);
  ::close(fd);
  EXPECT_TRUE(node_->running());
  auto r = node_->cli({"status"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(CliConfig, NodeWideGuestCapsRefuseSpawnsPastThem) {
  std::string dir = testing::temp_dir("caps");
  // Guests get 128 MiB (2048 pages) unless they ask for less.
  std::ofstream(dir + "/caps.toml") << "[wasm]\nmax_guest_instances = 2\n"
                                       "max_guest_memory_mb = 64\nmemory_pages = 2048\n";
  NodeProcess node(dir, {"--config", dir + "/caps.toml"});
  ASSERT_TRUE(node.wait_ready()) << node.errors();
  const std::string echo = std::string(TROUPE_GUEST_DIR) + "/echo.wasm";
  // The example guests declare no maximum memory: the default page limit counts (128 MiB
  // against the 64 MiB cap).
  auto r = node.cli({"spawn", "--wasm", echo, "--tier", "interp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("memory-limit: node-wide guest memory"), std::string::npos) << r.err;
  for (const char* name : {"e1", "e2"}) {
    r = node.cli(
        {"spawn", "--wasm", echo, "--name", name, "--memory-pages", "256", "--tier", "interp"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  r = node.cli({"ask", "e2", "echo", "fits"});
  EXPECT_EQ(r.out, "fits\n") << r.err;
  r = node.cli({"spawn", "--wasm", echo, "--memory-pages", "16", "--tier", "interp"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("maximum of 2 WebAssembly instances"), std::string::npos) << r.err;
  // Stopping one frees its share.
  ASSERT_EQ(node.cli({"stop", "e1"}).code, 0);
  r = node.cli({"spawn", "--wasm", echo, "--memory-pages", "16", "--tier", "interp"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(node.stop(), 0);
  std::filesystem::remove_all(dir);
}

TEST(CliConfig, NodeReadsATomlConfigAndRejectsABadOne) {
  std::string dir = testing::temp_dir("cfg");
  {
    std::ofstream(dir + "/good.toml") << "[node]\nworkers = 1\n";
    NodeProcess node(dir, {"--config", dir + "/good.toml"});
    ASSERT_TRUE(node.wait_ready()) << node.errors();
    EXPECT_NE(node.output().find("workers=1"), std::string::npos);
    EXPECT_EQ(node.stop(), 0);
  }
  {
    std::ofstream(dir + "/bad.toml") << "[node]\nworkers = \"many\"\n";
    NodeProcess node(dir, {"--config", dir + "/bad.toml"});
    EXPECT_FALSE(node.wait_ready());
    EXPECT_EQ(node.stop(), 1);
    EXPECT_NE(node.errors().find("node.workers must be"), std::string::npos) << node.errors();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace troupe
