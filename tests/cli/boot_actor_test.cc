// [[actor]] entries in a node's config, through the real binary: the actors they name run when
// the node prints its readiness line (a package's key trusted on an earlier run), relative
// package paths are the config file's, a package the node would not spawn fails the run with
// one line naming the entry, and the entry's restart policy applies to a packaged actor.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/node_process.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

class BootActors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::temp_dir("bootactors");
    fs::create_directories(dir_ + "/node");
    fs::create_directories(dir_ + "/conf/pkgs");
  }
  void TearDown() override {
    node_.reset();
    fs::remove_all(dir_);
  }
  testing::CliResult cli(std::vector<std::string> args) { return testing::run_cli(args, dir_); }

  // Writes the config file; its path.
  std::string config(const std::string& text) {
    const std::string path = dir_ + "/conf/node.toml";
    std::ofstream(path) << text;
    return path;
  }
  void start_node(std::vector<std::string> extra = {}) {
    node_.reset();
    extra.insert(extra.end(), {"--workers", "2"});
    node_ = std::make_unique<testing::NodeProcess>(
        dir_ + "/node", extra, std::vector<std::pair<std::string, std::string>>{},
        /*allow_unsigned=*/false);
  }
  // Trusts `pubfile` on a run of the node without boot entries (there is no offline trust add).
  void trust(const std::string& pubfile) {
    start_node();
    ASSERT_TRUE(node_->wait_ready()) << node_->errors();
    auto t = node_->cli({"trust", "add", pubfile});
    ASSERT_EQ(t.code, 0) << t.err;
    ASSERT_EQ(node_->stop(), 0);
  }
  // `troupe node run` with `config`, expected to fail: its one line on stderr.
  std::string failed_run(const std::string& config_path) {
    auto r = cli({"--socket", dir_ + "/node/control.sock", "node", "run", "--data-dir",
                  dir_ + "/node", "--workers", "2", "--config", config_path});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_EQ(r.out.find("troupe node ready"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_FALSE(fs::exists(dir_ + "/node/control.sock"));
    return r.err;
  }

  std::string dir_;
  std::unique_ptr<testing::NodeProcess> node_;
};

// The readiness line means every boot actor runs: asked right after it, each answers.
TEST_F(BootActors, TheBootActorsAnswerOnceTheNodeReportsReady) {
  const std::string pkgs = TROUPE_PACKAGE_DIR;
  trust(pkgs + "/dev-key/signing.pub");
  for (const char* name : {"echo", "counter"}) {
    fs::copy_file(pkgs + "/" + name + ".actr", dir_ + "/conf/pkgs/" + name + ".actr");
  }
  // Relative to the config file's directory, not to the directory the node runs in.
  const std::string path = config(R"(
[[actor]]
package = "pkgs/echo.actr"
name = "wecho"
tier = "interp"

[[actor]]
kind = "counter"
name = "nc"

[[actor]]
package = "pkgs/counter.actr"
name = "wc"
fuel = 2000000
)");
  ASSERT_NE(fs::current_path(), fs::path(dir_ + "/conf"));
  start_node({"--config", path});
  ASSERT_TRUE(node_->wait_ready()) << node_->errors();
  auto r = node_->cli({"ask", "wecho", "echo", "hi"});
  EXPECT_EQ(r.out, "hi\n") << r.err;
  r = node_->cli({"ask", "wc", "inc", "41"});
  EXPECT_EQ(r.out, "41\n") << r.err;
  r = node_->cli({"ask", "nc", "inc", "2"});
  EXPECT_EQ(r.out, "2\n") << r.err;
  r = node_->cli({"ls"});
  for (const char* type : {"example:echo:0.1.0", "example:counter:0.1.0", "counter"}) {
    EXPECT_NE(r.out.find(type), std::string::npos) << type << " in\n" << r.out;
  }
  // Spawned in the file's order, before the readiness line.
  const std::string& out = node_->output();
  const auto first = out.find("boot: actor[0] (wecho) started");
  const auto last = out.find("boot: actor[2] (wc) started");
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(last, std::string::npos) << out;
  EXPECT_LT(first, last);
  EXPECT_LT(last, out.find("troupe node ready"));
  EXPECT_EQ(node_->stop(), 0);
}

// A package the node would not spawn by `troupe spawn` fails the run: exit 1, no readiness
// line, no socket, one line with the spawn's error kind and the entry.
TEST_F(BootActors, APackageTheNodeWouldRefuseFailsTheRunNamingTheEntry) {
  const std::string pkgs = TROUPE_PACKAGE_DIR;
  std::string err =
      failed_run(config("[[actor]]\nkind = \"echo\"\nname = \"first\"\n"
                        "[[actor]]\npackage = \"" +
                        pkgs + "/pinger.actr\"\nname = \"pinger\"\n"));
  EXPECT_EQ(err.rfind("error: untrusted: actor[1] (pinger): signing key mfr-", 0), 0u) << err;

  trust(pkgs + "/dev-key/signing.pub");
  std::ofstream(dir_ + "/conf/pkgs/junk.actr") << "not a zip";
  err = failed_run(config("[[actor]]\npackage = \"pkgs/junk.actr\"\nname = \"j\"\n"));
  EXPECT_EQ(err.rfind("error: malformed: actor[0] (j): ", 0), 0u) << err;
  err = failed_run(config("[[actor]]\npackage = \"pkgs/missing.actr\"\n"));
  EXPECT_EQ(err.rfind("error: io: actor[0]: cannot open " + dir_ + "/conf/pkgs/missing.actr", 0),
            0u)
      << err;
  err = failed_run(config("[[actor]]\nkind = \"nosuch\"\nname = \"n\"\n"));
  EXPECT_EQ(err.rfind("error: not-found: actor[0] (n): no actor kind 'nosuch'", 0), 0u) << err;
  // A bad entry is refused when the file is read, before the data directory is touched.
  err = failed_run(config("[[actor]]\nkind = \"echo\"\nfuel = 5\n"));
  EXPECT_EQ(err, "error: invalid-argument: " + dir_ +
                     "/conf/node.toml: actor[0]: fuel is a package's: a native kind takes no "
                     "WebAssembly limits or tier\n");

  // The trusted package runs, and the node after these failures is the same node.
  start_node({"--config", config("[[actor]]\npackage = \"" + pkgs +
                                 "/echo.actr\"\nname = \"e\"\ntier = \"interp\"\n")});
  ASSERT_TRUE(node_->wait_ready()) << node_->errors();
  EXPECT_EQ(node_->cli({"ask", "e", "echo", "x"}).out, "x\n");
}

// The entry's restart policy applies to a packaged actor: after its guest traps, a permanent
// one is restarted (the ask after the trap waits in its kept mailbox, and finds the data it
// wrote before), a temporary one is gone.
TEST_F(BootActors, APermanentBootPackageRestartsAfterItCrashesATemporaryOneDoesNot) {
  auto k = cli({"pkg", "keygen", "--out", dir_ + "/keys"});
  ASSERT_EQ(k.code, 0) << k.err;
  std::ofstream(dir_ + "/kv.toml")
      << "manufacturer = \"acme\"\nname = \"kv\"\nversion = \"1.0.0\"\n\n[binary]\npath = "
         "\"bin/kv.wasm\"\ntarget = \"wasm32-wasip1\"\n\n[troupe.capabilities]\nstorage = { "
         "quota_bytes = 65536 }\n";
  auto b = cli({"pkg", "build", "--manifest", dir_ + "/kv.toml", "--binary",
                std::string(TROUPE_GUEST_DIR) + "/kv.wasm", "--key", dir_ + "/keys/signing.key",
                "-o", dir_ + "/conf/pkgs/kv.actr"});
  ASSERT_EQ(b.code, 0) << b.err;
  trust(dir_ + "/keys/signing.pub");
  start_node({"--config", config(R"(
[[actor]]
package = "pkgs/kv.actr"
name = "perm"
restart = "permanent"
tier = "interp"

[[actor]]
package = "pkgs/kv.actr"
name = "temp"
restart = "temporary"
tier = "interp"
)")});
  ASSERT_TRUE(node_->wait_ready()) << node_->errors();
  for (const char* name : {"perm", "temp"}) {
    ASSERT_EQ(node_->cli({"ask", name, "put", "a=1"}).code, 0) << name;
    auto r = node_->cli({"ask", name, "put-trap", "b=2"});
    EXPECT_EQ(r.code, 1) << name << ": " << r.out;
  }
  auto r = node_->cli({"ask", "perm", "get", "a"});
  EXPECT_EQ(r.out, "1\n") << r.err;
  r = node_->cli({"ask", "temp", "get", "a"});
  EXPECT_EQ(r.code, 1) << r.out;
  r = node_->cli({"ls"});
  const auto at = r.out.find("(perm)");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string row = r.out.substr(at, r.out.find('\n', at) - at);
  EXPECT_NE(row.find("       1 "), std::string::npos) << row;  // one restart
  EXPECT_EQ(r.out.find("(temp)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace troupe
