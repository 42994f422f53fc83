// Integration: the node's own edges (issue 9, section 3) — a real `troupe node run` process
// fed what a careless or hostile local user could give it: broken pipes, foreign files at the
// socket path, bytes that are not UTF-8, special files, idle and oversized connections.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cli/node_process.h"
#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"
#include "troupe/wasm/instance.h"
#include "troupe/wasm/wat.h"
#include "wat_guests.h"

namespace troupe {
namespace {

using testing::NodeProcess;

class Edge : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::temp_dir("edge"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<NodeProcess> start_node(std::vector<std::string> extra = {}) {
    auto node = std::make_unique<NodeProcess>(dir_, std::move(extra));
    EXPECT_TRUE(node->wait_ready()) << node->errors();
    return node;
  }
  std::string dir_;
};

// Runs the CLI with its stdout a pipe nobody reads.
int run_cli_into_closed_pipe(const std::vector<std::string>& args, const std::string& dir) {
  int fds[2];
  if (::pipe(fds) != 0) return -2;
  ::close(fds[0]);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    int e = ::open((dir + "/cli.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(e, 2);
    testing::exec_troupe(args);
  }
  ::close(fds[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(Edge, NodeSurvivesAClosedStdout) {
  auto node = start_node();
  node->close_stdout();
  // The shutdown line goes to the broken pipe: EPIPE, not SIGPIPE, and a clean exit.
  EXPECT_EQ(node->stop(), 0) << node->errors();
}

// A node started with stdin and stderr closed holds them on /dev/null: otherwise the first
// descriptors it opens (asio's event fd, its socket, its key) would take 0 and 2, and its log
// lines would be written into them.
// A node never writes a core file: its memory holds keys and guests' data.
TEST_F(Edge, ARunningNodeWritesNoCoreFile) {
  auto node = start_node({});
  std::ifstream limits("/proc/" + std::to_string(node->pid()) + "/limits");
  std::string line;
  bool seen = false;
  while (std::getline(limits, line)) {
    if (line.rfind("Max core file size", 0) != 0) continue;
    seen = true;
    std::istringstream fields(line.substr(std::string("Max core file size").size()));
    std::string soft, hard;
    fields >> soft >> hard;
    EXPECT_EQ(soft, "0") << line;
    EXPECT_EQ(hard, "0") << line;
  }
  EXPECT_TRUE(seen) << "no core file limit in /proc/PID/limits";
}

TEST_F(Edge, ANodeStartedWithClosedStandardStreamsHoldsThemOnDevNull) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string socket = dir_ + "/control.sock";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::close(0);
    ::close(2);
    testing::exec_troupe({"--socket", socket, "node", "run", "--data-dir", dir_ + "/data"});
  }
  ::close(fds[1]);
  std::string out;
  char c;
  while (out.find('\n') == std::string::npos && ::read(fds[0], &c, 1) == 1) out += c;
  ASSERT_EQ(out.rfind("troupe node ready", 0), 0u) << out;
  auto target = [pid](int fd) {
    return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" +
                                         std::to_string(fd))
        .string();
  };
  EXPECT_EQ(target(0), "/dev/null");
  EXPECT_EQ(target(2), "/dev/null");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(Edge, CliReportsAClosedStdoutInsteadOfDyingOfSigpipe) {
  auto node = start_node();
  int code = run_cli_into_closed_pipe({"--socket", node->socket(), "status"}, dir_);
  EXPECT_EQ(code, 1);
  std::string err = testing::read_file(dir_ + "/cli.err");
  EXPECT_EQ(err.rfind("error: io: cannot write the output", 0), 0u) << err;
  EXPECT_TRUE(node->running());
}

// Runs `troupe --socket PATH node run` and expects it to refuse at once.
testing::CliResult run_node_on(const std::string& socket, const std::string& dir) {
  return testing::run_cli({"--socket", socket, "node", "run", "--data-dir", dir}, dir);
}

TEST_F(Edge, NodeNeverRemovesAFileItDidNotCreate) {
  const std::string victim = dir_ + "/victim.txt";
  std::ofstream(victim) << "precious";
  auto r = run_node_on(victim, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: invalid-argument: " + victim +
                       " exists and is not a socket; refusing to use or remove it\n");
  EXPECT_EQ(testing::read_file(victim), "precious");

  const std::string empty_dir = dir_ + "/empty";
  std::filesystem::create_directory(empty_dir);
  r = run_node_on(empty_dir, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is not a socket"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_directory(empty_dir));

  const std::string link = dir_ + "/link";
  std::filesystem::create_symlink(victim, link);
  r = run_node_on(link, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(testing::read_file(victim), "precious");
}

TEST_F(Edge, NodeLeavesAFileThatReplacedItsSocketAlone) {
  auto node = start_node();
  ASSERT_TRUE(std::filesystem::remove(node->socket()));
  std::ofstream(node->socket()) << "someone else's";
  EXPECT_EQ(node->stop(), 0);
  EXPECT_EQ(testing::read_file(node->socket()), "someone else's");
}

TEST_F(Edge, StaleSocketIsReplacedAndRemovedOnExit) {
  // A socket nobody listens on: what a node that was killed leaves behind.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = dir_ + "/control.sock";
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  auto node = start_node();
  EXPECT_EQ(node->cli({"status"}).code, 0);
  EXPECT_EQ(node->stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path)));
}

// Every CLI failure is exactly one line `error: KIND: detail` and exit 1.
void expect_one_line_error(const testing::CliResult& r, const std::string& prefix) {
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "want " << prefix << "\ngot: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(Edge, TextThatIsNotUtf8GetsAnErrorNotAnAbort) {
  auto node = start_node();
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  const std::string bad = "\xff\xfe";
  const std::string not_utf8 = "error: invalid-argument: the ";
  expect_one_line_error(node->cli({"ask", bad, "x"}), not_utf8 + "actor name is not valid UTF-8");
  expect_one_line_error(node->cli({"tell", bad, "x"}), not_utf8 + "actor name");
  expect_one_line_error(node->cli({"stop", bad}), not_utf8 + "actor name");
  expect_one_line_error(node->cli({"ask", "e", bad}), not_utf8 + "route is not valid UTF-8");
  expect_one_line_error(node->cli({"spawn", bad}), not_utf8 + "actor kind");
  expect_one_line_error(node->cli({"spawn", "echo", "--name", bad}), not_utf8 + "actor name");
  expect_one_line_error(node->cli({"spawn", "echo", "--supervisor", bad}),
                        not_utf8 + "supervisor name");
  const std::string echo = std::string(TROUPE_GUEST_DIR) + "/echo.wasm";
  expect_one_line_error(node->cli({"spawn", "--wasm", echo, "--type", bad}),
                        not_utf8 + "type name");
  // A file name that is not UTF-8 works: an unsigned module's type is unsigned:<its hash>,
  // never taken from the file name.
  const std::string odd = dir_ + "/" + bad + ".wasm";
  std::filesystem::copy_file(echo, odd);
  auto r = node->cli({"spawn", "--wasm", odd, "--name", "o", "--tier", "interp"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = node->cli({"ask", "o", "echo", bad});  // payloads need not be text
  EXPECT_EQ(r.out, bad + "\n") << r.err;
  expect_one_line_error(node->cli({"spawn", "--wasm", dir_ + "/" + bad + "-missing.wasm"}),
                        "error: not-found: no module file");
  EXPECT_TRUE(node->running());
}

TEST_F(Edge, CallRefusesDirectoriesAndSpecialFiles) {
  const std::string echo = std::string(TROUPE_GUEST_DIR) + "/echo.wasm";
  auto call = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "call");
    return testing::run_cli(args, dir_);
  };
  expect_one_line_error(call({"--wasm", dir_, "--route", "echo"}),
                        "error: invalid-argument: module " + dir_ + " is a directory");
  expect_one_line_error(call({"--wasm", "/dev/zero", "--route", "echo"}),
                        "error: invalid-argument: module /dev/zero is a character device");
  expect_one_line_error(call({"--wasm", echo, "--route", "echo", "--data-file", dir_}),
                        "error: invalid-argument: payload " + dir_ + " is a directory");
  expect_one_line_error(call({"--wasm", echo, "--route", "echo", "--data-file", "/dev/zero"}),
                        "error: invalid-argument: payload /dev/zero is a character device");
  expect_one_line_error(call({"--wasm", dir_ + "/none.wasm", "--route", "echo"}),
                        "error: not-found: no module file");
  // Over the cap: refused on its size, before any read.
  const std::string big = dir_ + "/big.wasm";
  std::filesystem::copy_file(echo, big);
  std::filesystem::resize_file(big, (std::uintmax_t{64} << 20) + 1);
  expect_one_line_error(call({"--wasm", big, "--route", "echo"}),
                        "error: too-large: module " + big + " is over the 64 MiB cap");
}

TEST_F(Edge, AskAndTellTakeADataFile) {
  auto node = start_node();
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  const std::string payload("bin\0\xff\x01ary", 9);
  std::ofstream(dir_ + "/payload.bin", std::ios::binary) << payload;
  auto r = node->cli({"ask", "e", "x", "--data-file", dir_ + "/payload.bin"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, payload + "\n");
  EXPECT_EQ(node->cli({"tell", "e", "x", "--data-file", dir_ + "/payload.bin"}).code, 0);
  expect_one_line_error(node->cli({"ask", "e", "x", "text", "--data-file", dir_ + "/payload.bin"}),
                        "error: usage: ");
  expect_one_line_error(node->cli({"ask", "e", "x", "--data-file", dir_}),
                        "error: invalid-argument: payload " + dir_ + " is a directory");
  expect_one_line_error(node->cli({"tell", "e", "x", "--data-file", "/dev/zero"}),
                        "error: invalid-argument: payload /dev/zero is a character device");
  std::filesystem::resize_file(dir_ + "/payload.bin", (512 << 10) + 1);
  expect_one_line_error(node->cli({"ask", "e", "x", "--data-file", dir_ + "/payload.bin"}),
                        "error: too-large: payload");
  // The largest file allowed, not UTF-8 (base64 on the wire), still fits in one request.
  std::filesystem::resize_file(dir_ + "/payload.bin", 512 << 10);
  r = node->cli({"ask", "e", "x", "--data-file", dir_ + "/payload.bin"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.size(), (512u << 10) + 1);
}

TEST_F(Edge, UnknownCommandsAndTheSocketOptionAfterTheCommand) {
  auto r = testing::run_cli({"frobnicate"}, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: usage: unknown command 'frobnicate' (see troupe --help)\n");
  r = testing::run_cli({"--socket", dir_ + "/x.sock", "node", "sprint"}, dir_);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: usage: unknown command 'sprint' (see troupe --help)\n");
  auto node = start_node();
  r = testing::run_cli({"status", "--socket", node->socket()}, dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("socket " + node->socket()), std::string::npos) << r.out;
  r = testing::run_cli({"ls", "--socket", node->socket()}, dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("(root)"), std::string::npos) << r.out;
  r = testing::run_cli({"--socket", dir_ + "/none.sock", "ls", "--socket", node->socket()}, dir_);
  EXPECT_EQ(r.code, 0) << r.err;  // the later one wins
}

TEST_F(Edge, ErrorsNameTypesReadably) {
  auto node = start_node();
  // The root supervisor takes no requests: the runtime's error names the message type.
  auto r = node->cli({"ask", "root", "x"});
  expect_one_line_error(r, "error: not-found: no handler for troupe::Envelope");
  EXPECT_EQ(r.err.find("N6troupe"), std::string::npos) << r.err;
  ASSERT_EQ(node->cli({"spawn", "pinger", "--name", "p"}).code, 0);
  r = node->cli({"ask", "p", "ping", "root"});  // an actor passes the same error on
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find("N6troupe"), std::string::npos) << r.err;
}

TEST_F(Edge, NumericFlagsAreRangeChecked) {
  auto node = start_node();
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  for (const char* n : {"-1", "0", "3600001", "4294967296", "18446744073709551615",
                        "18446744073709551616", "99999999999999999999999", "1.5", "x"}) {
    expect_one_line_error(node->cli({"ask", "e", "x", "--timeout-ms", n}), "error: usage: ");
  }
  for (const char* n : {"-1", "1025", "4294967296", "18446744073709551616", "x"}) {
    expect_one_line_error(
        testing::run_cli({"--socket", dir_ + "/n.sock", "node", "run", "--workers", n}, dir_),
        "error: usage: ");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/n.sock"));
  EXPECT_EQ(node->cli({"ask", "e", "x", "--timeout-ms", "3600000"}).out, "\n");
}

// One raw request frame; returns the response JSON text.
std::string request_raw(const std::string& socket, const std::string& json) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string frame = control::encode_frame(json);
  ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
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

TEST_F(Edge, ControlFieldsOfTheWrongTypeOrRangeGetAOneLineError) {
  auto node = start_node();
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  const std::string wasm =
      R"("op":"spawn","tier":"interp","wasm":")" + std::string(TROUPE_GUEST_DIR) + "/echo.wasm\"";
  struct Case {
    std::string request;
    std::string error;
  };
  const std::vector<Case> cases{
      {R"({"v":4294967297,"op":"status"})", "unsupported control protocol version"},
      {R"({"v":1.0,"op":"status"})", "unsupported control protocol version"},
      {R"({"v":1,"op":"ask","actor":"e","route":"x","timeout_ms":-1})", "'timeout_ms' must be"},
      {R"({"v":1,"op":"ask","actor":"e","route":"x","timeout_ms":18446744073709551615})",
       "'timeout_ms' must be an integer in 1..3600000"},
      {R"({"v":1,"op":"ask","actor":"e","route":"x","timeout_ms":"5"})", "'timeout_ms' must be"},
      {R"({"v":1,"op":"ask","actor":"e","route":"x","data":5})", "'data' must be a string"},
      {R"({"v":1,"op":"ask","actor":"e","route":[]})", "'route' must be a string"},
      {R"({"v":1,"op":"spawn","kind":"echo","name":{}})", "'name' must be a string"},
      {R"({"v":1,)" + wasm + R"(,"fuel":-1})",
       "'fuel' must be an integer in 1..9223372036854775807 or \"unlimited\""},
      {R"({"v":1,)" + wasm + R"(,"fuel":"lots"})", "'fuel' must be an integer"},
      {R"({"v":1,)" + wasm + R"(,"memory_pages":4294967297})",
       "'memory_pages' must be an integer in 1..65536"},
      {R"({"v":1,)" + wasm + R"(,"timeout_ms":1e30})",
       "'timeout_ms' must be an integer in 1..3600000"},
      {R"({"v":1,)" + wasm + R"(,"tier":7})", "'tier' must be a string"},
      {R"({"v":1,"op":"spawn","wasm":7})", "'wasm' must be a string"},
      {R"({"v":1,"op":"spawn","wasm_b64":"!!"})", "'wasm_b64' is not valid base64"},
  };
  for (const Case& c : cases) {
    std::string resp = request_raw(node->socket(), c.request);
    auto j = nlohmann::json::parse(resp, nullptr, false);
    ASSERT_TRUE(j.is_object()) << c.request << " -> " << resp;
    EXPECT_EQ(j.value("ok", true), false) << c.request;
    std::string err = j.value("error", "");
    EXPECT_NE(err.find(c.error), std::string::npos) << c.request << " -> " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
  EXPECT_EQ(node->cli({"ask", "e", "x", "still here"}).out, "still here\n");
  auto r = node->cli({"ls"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header, root, e
}

TEST_F(Edge, NamesAreCheckedInTheNode) {
  auto node = start_node();
  const std::string longest(255, 'n');
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", longest}).code, 0);
  EXPECT_EQ(node->cli({"ask", longest, "x", "hi"}).out, "hi\n");
  const std::string bad = "error: invalid-argument: actor name ";
  expect_one_line_error(node->cli({"spawn", "echo", "--name", longest + "n"}),
                        bad + "is 256 bytes (at most 255)");
  expect_one_line_error(node->cli({"spawn", "echo", "--name", "two\nlines"}),
                        bad + "contains a control character");
  expect_one_line_error(node->cli({"spawn", "echo", "--name", "bell\a"}),
                        bad + "contains a control character");
  expect_one_line_error(node->cli({"spawn", "echo", "--name", "c1\xc2\x85"}),
                        bad + "contains a control character");
  expect_one_line_error(node->cli({"ask", "esc\x1b[2J", "x"}),
                        bad + "contains a control character");
  expect_one_line_error(node->cli({"stop", std::string(300, 's')}), bad + "is 300 bytes");
  expect_one_line_error(node->cli({"spawn", "echo", "--supervisor", "\t"}),
                        "error: invalid-argument: supervisor name contains a control character");
  expect_one_line_error(node->cli({"spawn", "ec\rho"}),
                        "error: invalid-argument: actor kind contains a control character");
  const std::string echo = std::string(TROUPE_GUEST_DIR) + "/echo.wasm";
  expect_one_line_error(node->cli({"spawn", "--wasm", echo, "--type", "a\nb"}),
                        "error: invalid-argument: type name contains a control character");
  std::string resp = request_raw(node->socket(), R"({"v":1,"op":"spawn","kind":"echo","name":""})");
  EXPECT_NE(resp.find("actor name is empty"), std::string::npos) << resp;
  resp = request_raw(node->socket(), R"({"v":1,"op":"ask","actor":"","route":"x"})");
  EXPECT_NE(resp.find("actor name is empty"), std::string::npos) << resp;
  auto r = node->cli({"ls"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header, root, one echo
}

TEST_F(Edge, LsOfTheLargestTreeFitsItsOwnClient) {
  auto node = start_node();
  // Names that escape to twice their size in JSON, as many as `ls` lists: the old 1 MiB
  // response frame could not hold them.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, node->socket().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  for (int i = 0; i < 2000; ++i) {
    std::string name = std::to_string(i) + std::string(250, '"');
    nlohmann::json req{{"v", 1}, {"op", "spawn"}, {"kind", "echo"}, {"name", name}};
    std::string frame = control::encode_frame(req.dump());
    ASSERT_EQ(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(frame.size()));
    char header[4];
    ASSERT_EQ(::recv(fd, header, 4, MSG_WAITALL), 4);
    std::string body(get_u32_be(header), '\0');
    ASSERT_EQ(::recv(fd, body.data(), body.size(), MSG_WAITALL), static_cast<ssize_t>(body.size()));
    ASSERT_NE(body.find("\"ok\":true"), std::string::npos) << body;
  }
  ::close(fd);
  auto r = node->cli({"ls"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("... and 1 more actors not shown"), std::string::npos);
  EXPECT_NE(r.out.find("1998\"\"\""), std::string::npos);  // root and 1999 of 2000 listed
}

// A guest whose dispatch answers with `size` zero bytes (zeros travel as base64).
std::string big_reply_guest(std::uint32_t size) {
  return testing::wat_guest(
      "",
      "(i32.store8 (i32.const 16) (i32.const 0)) "
      "(i32.store (i32.const 20) (i32.const 65536)) "
      "(i32.store (i32.const 24) (i32.const " +
          std::to_string(size) + ")) (i32.const 16)",
      "(memory (export \"memory\") " + std::to_string(size / 65536 + 2) + ")");
}

TEST_F(Edge, AskReplyAsLargeAsTheGuestCapReachesTheCli) {
  const std::uint32_t cap = wasm::Limits{}.max_reply_bytes;
  auto bin = wasm::wat_to_wasm(big_reply_guest(cap));
  ASSERT_TRUE(bin.ok()) << bin.error().to_string();
  std::ofstream(dir_ + "/big.wasm", std::ios::binary)
      .write(reinterpret_cast<const char*>(bin->data()), static_cast<std::streamsize>(bin->size()));
  auto node = start_node();
  auto r = node->cli({"spawn", "--wasm", dir_ + "/big.wasm", "--name", "big", "--tier", "interp",
                      "--memory-pages", std::to_string(cap / 65536 + 2)});
  ASSERT_EQ(r.code, 0) << r.err;
  r = node->cli({"ask", "big", "any"});
  ASSERT_EQ(r.code, 0) << r.err.substr(0, 300);
  ASSERT_EQ(r.out.size(), std::size_t{cap} + 1);
  EXPECT_EQ(r.out, std::string(cap, '\0') + "\n");
}

int connect_to(const std::string& socket) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << errno;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// A field of /proc/PID/status in kB ("VmRSS").
long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// User plus system CPU time of a process, in clock ticks.
long cpu_ticks(pid_t pid) {
  std::string stat = testing::read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

TEST_F(Edge, HalfFramesDoNotReserveTheAnnouncedSize) {
  auto node = start_node();
  ASSERT_EQ(node->cli({"status"}).code, 0);
  const long before = proc_status_kb(node->pid(), "VmRSS");
  // 60 clients announce the largest request (1 MiB) and send 4 bytes of it.
  std::vector<int> fds;
  std::string partial(control::kHeader, '\0');
  put_u32_be(partial.data(), static_cast<std::uint32_t>(control::kMaxFrame));
  partial += "{\"v\"";
  for (int i = 0; i < 60; ++i) {
    fds.push_back(connect_to(node->socket()));
    ASSERT_EQ(::send(fds.back(), partial.data(), partial.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(partial.size()));
  }
  // Served in order on the node's one I/O thread: after these answers the headers were read.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(node->cli({"status"}).code, 0);
  const long grown_kb = proc_status_kb(node->pid(), "VmRSS") - before;
  EXPECT_LT(grown_kb, 16 * 1024) << "60 half frames cost " << grown_kb << " kB";
  for (int fd : fds) ::close(fd);
}

TEST_F(Edge, ConnectionsPastTheCapAreRefused) {
  auto node = start_node({"--max-control-connections", "3"});
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(connect_to(node->socket()));
  auto r = node->cli({"status"});
  expect_one_line_error(r, "error: unavailable: too many control connections (at most 3)");
  ::close(fds.back());
  fds.pop_back();
  // The slot is free once the node has seen the close, which may come after a new connection
  // is accepted (the two are separate events): retry until it has, within a bound.
  std::string resp;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    resp = request_raw(node->socket(), R"({"v":1,"op":"status"})");
  } while (resp.find("\"ok\":true") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(resp.find("\"ok\":true"), std::string::npos) << resp;
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(node->cli({"status"}).code, 0);
  expect_one_line_error(testing::run_cli({"node", "run", "--max-control-connections", "0"}, dir_),
                        "error: usage:");
}

TEST_F(Edge, IdleAndHalfFrameConnectionsAreClosed) {
  auto node = start_node({"--control-idle-ms", "200"});
  int silent = connect_to(node->socket());
  int half = connect_to(node->socket());
  std::string partial(control::kHeader, '\0');
  put_u32_be(partial.data(), 100);
  partial += "{\"v\":1";
  ASSERT_EQ(::send(half, partial.data(), partial.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(partial.size()));
  const auto start = std::chrono::steady_clock::now();
  char buf[1];
  EXPECT_EQ(::recv(silent, buf, 1, 0), 0);  // closed by the node (SO_RCVTIMEO is 10 s)
  EXPECT_EQ(::recv(half, buf, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ::close(silent);
  ::close(half);
  // A connection that is waiting for its answer is not idle.
  ASSERT_EQ(node->cli({"spawn", "pinger", "--name", "p"}).code, 0);
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  EXPECT_EQ(node->cli({"ask", "e", "x", "ok"}).out, "ok\n");
}

// A client that asks for a reply larger than the socket buffers and never reads it: before,
// its connection (and the reply's bytes) stayed with the node for as long as the client lived,
// so as many such clients as max_connections shut every other client out for good.
TEST_F(Edge, AClientThatStopsReadingLosesItsConnection) {
  auto node = start_node({"--max-control-connections", "1", "--control-idle-ms", "1000"});
  ASSERT_EQ(node->cli({"spawn", "echo", "--name", "e"}).code, 0);
  const nlohmann::json ask{{"v", 1},
                           {"op", "ask"},
                           {"actor", "e"},
                           {"route", "any"},
                           {"data", std::string(900 << 10, 'x')}};
  const std::string frame = control::encode_frame(ask.dump());
  // The only slot is free once the node has seen the spawn's connection close, which may come
  // after it accepts this one (separate events) and refuses it: retry within a bound.
  int hog = -1;
  ssize_t sent = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    if (hog >= 0) ::close(hog);
    hog = connect_to(node->socket());
    sent = ::send(hog, frame.data(), frame.size(), MSG_NOSIGNAL);
  } while (sent != static_cast<ssize_t>(frame.size()) &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(sent, static_cast<ssize_t>(frame.size()));
  // Never read: the node must hang up within the idle timeout (give it 10 s).
  pollfd p{hog, POLLRDHUP, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1) << "the node kept the connection of a client not reading";
  EXPECT_NE(p.revents & (POLLRDHUP | POLLHUP), 0);
  ::close(hog);
  // Its slot is free again (the node has closed it, so the count has dropped).
  std::string resp = request_raw(node->socket(), R"({"v":1,"op":"status"})");
  EXPECT_NE(resp.find("\"ok\":true"), std::string::npos) << resp;
  EXPECT_TRUE(node->running());
}

TEST_F(Edge, AcceptFailuresBackOffInsteadOfSpinning) {
  auto node = start_node();
  ASSERT_EQ(node->cli({"status"}).code, 0);
  const pid_t pid = node->pid();
  // A limit at the lowest free descriptor number: the node keeps what it holds (a limit does
  // not close descriptors) but can open no new one.
  std::set<rlim_t> used;
  for (auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    used.insert(std::stoul(e.path().filename().string()));
  }
  rlim_t lowest_free = 0;
  while (used.count(lowest_free) != 0) ++lowest_free;
  rlimit low{lowest_free, lowest_free}, old{};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &old), 0);
  low.rlim_max = old.rlim_max;
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &low, nullptr), 0);
  // The connections wait in the backlog while every accept fails with EMFILE.
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) fds.push_back(connect_to(node->socket()));
  const long ticks_before = cpu_ticks(pid);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // measuring, not waiting
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(cpu_ticks(pid) - ticks_before) /
                     static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_LT(cpu, 0.2 * seconds) << "the node used " << cpu << " s of CPU in " << seconds << " s";
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &old, nullptr), 0);
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(node->cli({"status"}).code, 0);  // accepting again once descriptors are back
  EXPECT_TRUE(node->wait_line("accept failed", std::chrono::seconds(2)));  // it was tried
}

// Milliseconds for one `status` round trip on a fresh connection.
double status_round_trip_ms(const std::string& socket) {
  const auto start = std::chrono::steady_clock::now();
  std::string resp = request_raw(socket, R"({"v":1,"op":"status"})");
  EXPECT_NE(resp.find("\"ok\":true"), std::string::npos) << resp;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST_F(Edge, StatusAnswersWhileAColdAotCompileRuns) {
  const std::string cache = dir_ + "/aot-cache";  // empty: the compile is cold
  std::filesystem::create_directory(cache);
  auto node = std::make_unique<NodeProcess>(
      dir_, std::vector<std::string>{},
      std::vector<std::pair<std::string, std::string>>{{"TROUPE_AOT_CACHE", cache}});
  ASSERT_TRUE(node->wait_ready()) << node->errors();
  const std::string guest = std::string(TROUPE_GUEST_DIR) + "/echo.wasm";
  int spawn = connect_to(node->socket());
  timeval slow{120, 0};  // a cold compile on a busy machine can take a while
  ::setsockopt(spawn, SOL_SOCKET, SO_RCVTIMEO, &slow, sizeof slow);
  nlohmann::json req{{"v", 1}, {"op", "spawn"}, {"wasm", guest}, {"tier", "aot"}, {"name", "w"}};
  std::string frame = control::encode_frame(req.dump());
  ASSERT_EQ(::send(spawn, frame.data(), frame.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(frame.size()));
  const double ms = status_round_trip_ms(node->socket());
  pollfd p{spawn, POLLIN, 0};
  const bool spawn_answered = ::poll(&p, 1, 0) > 0;
  ASSERT_FALSE(spawn_answered) << "the compile ended before status was asked: nothing measured";
  EXPECT_LT(ms, 100.0) << "status took " << ms << " ms during a compile";
  // The spawn itself completes.
  char header[4];
  ASSERT_EQ(::recv(spawn, header, 4, MSG_WAITALL), 4);
  std::string body(get_u32_be(header), '\0');
  ASSERT_EQ(::recv(spawn, body.data(), body.size(), MSG_WAITALL),
            static_cast<ssize_t>(body.size()));
  EXPECT_NE(body.find("\"ok\":true"), std::string::npos) << body;
  ::close(spawn);
  EXPECT_EQ(node->cli({"ask", "w", "echo", "compiled"}).out, "compiled\n");
}

TEST_F(Edge, SpecialModuleFilesFailFastAndNeverStallTheNode) {
  auto node = start_node();
  ASSERT_EQ(::mkfifo((dir_ + "/fifo.wasm").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  expect_one_line_error(node->cli({"spawn", "--wasm", dir_ + "/fifo.wasm"}),
                        "error: invalid-argument: module " + dir_ + "/fifo.wasm is a FIFO");
  expect_one_line_error(node->cli({"spawn", "--wasm", "/dev/zero"}),
                        "error: invalid-argument: module /dev/zero is a character device");
  expect_one_line_error(node->cli({"spawn", "--wasm", dir_}),
                        "error: invalid-argument: module " + dir_ + " is a directory");
  const std::string big = dir_ + "/big.wasm";
  std::filesystem::copy_file(std::string(TROUPE_GUEST_DIR) + "/echo.wasm", big);
  std::filesystem::resize_file(big, (std::uintmax_t{64} << 20) + 1);
  expect_one_line_error(node->cli({"spawn", "--wasm", big}),
                        "error: too-large: module " + big + " is over the 64 MiB cap");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_LT(status_round_trip_ms(node->socket()), 100.0);
  EXPECT_EQ(node->stop(), 0);  // SIGTERM is not held up either
}

}  // namespace
}  // namespace troupe
