// A native kind granted storage and signing (the example notary) on a running node, through
// the real binary: its notes and its custodial key outlive a restart of the node, its
// signatures verify with libsodium under the public key it reports, its store is where the node
// says and private, and an unnamed or path-unsafe spawn is refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/node_process.h"
#include "troupe/base/encoding.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

class NativeSpawn : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    dir_ = testing::temp_dir("nativespawn");
    fs::create_directories(dir_ + "/node");
  }
  void TearDown() override {
    node_.reset();
    fs::remove_all(dir_);
  }
  void start_node() {
    node_.reset();
    node_ = std::make_unique<testing::NodeProcess>(
        dir_ + "/node", std::vector<std::string>{"--workers", "2"},
        std::vector<std::pair<std::string, std::string>>{}, /*allow_unsigned=*/false);
    ASSERT_TRUE(node_->wait_ready()) << node_->errors();
  }
  // The reply of `troupe ask` without its newline; fails the test on an error.
  std::string ask(std::vector<std::string> args) {
    args.insert(args.begin(), "ask");
    auto r = node_->cli(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(r.out.empty());
    if (!r.out.empty()) r.out.pop_back();
    return r.out;
  }
  // Whether the notary's receipt "NUMBER SIGNATURE" signs `note` under `public_key` (base64).
  static bool verifies(const std::string& receipt, const std::string& note,
                       const std::string& public_key) {
    auto sig = base64_decode(receipt.substr(receipt.find(' ') + 1));
    auto key = base64_decode(public_key);
    if (!sig || !key || sig->size() != 64 || key->size() != 32) return false;
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                       reinterpret_cast<const unsigned char*>(note.data()),
                                       note.size(),
                                       reinterpret_cast<const unsigned char*>(key->data())) == 0;
  }

  std::string dir_;
  std::unique_ptr<testing::NodeProcess> node_;
};

TEST_F(NativeSpawn, TheNotaryKeepsItsNotesAndItsKeyAcrossANodeRestart) {
  start_node();
  auto s = node_->cli({"spawn", "notary", "--name", "n"});
  ASSERT_EQ(s.code, 0) << s.err;
  const std::string first = ask({"n", "note", "I owe Bob 5 EUR"});
  ASSERT_EQ(first.rfind("1 ", 0), 0u) << first;
  const std::string key = ask({"n", "public-key"});
  EXPECT_TRUE(verifies(first, "I owe Bob 5 EUR", key)) << first << " / " << key;
  EXPECT_FALSE(verifies(first, "I owe Bob 50 EUR", key));

  const std::string store = dir_ + "/node/storage/native/notary/n/store.sqlite";
  struct stat st {};
  ASSERT_EQ(::stat(store.c_str(), &st), 0) << store;
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  EXPECT_EQ(node_->stop(), 0);
  start_node();
  ASSERT_EQ(node_->cli({"spawn", "notary", "--name", "n"}).code, 0);
  EXPECT_EQ(ask({"n", "get", "1"}), "I owe Bob 5 EUR");
  EXPECT_EQ(ask({"n", "public-key"}), key);
  const std::string second = ask({"n", "note", "paid"});
  ASSERT_EQ(second.rfind("2 ", 0), 0u) << second;
  EXPECT_TRUE(verifies(second, "paid", key));
  EXPECT_EQ(ask({"n", "list"}), "1\n2\n");

  // Another notary has its own notes and key.
  ASSERT_EQ(node_->cli({"spawn", "notary", "--name", "m"}).code, 0);
  EXPECT_EQ(ask({"m", "list"}), "");
  EXPECT_NE(ask({"m", "public-key"}), key);
}

TEST_F(NativeSpawn, AnUnnamedOrPathUnsafeNotaryIsRefusedOnOneLine) {
  start_node();
  auto unnamed = node_->cli({"spawn", "notary"});
  EXPECT_EQ(unnamed.code, 1);
  EXPECT_EQ(unnamed.err.rfind("error: invalid-argument: ", 0), 0u) << unnamed.err;
  EXPECT_NE(unnamed.err.find("--name"), std::string::npos) << unnamed.err;
  for (const std::string name : {"..", "a b", "x/y"}) {
    auto r = node_->cli({"spawn", "notary", "--name", name});
    EXPECT_EQ(r.code, 1) << name;
    EXPECT_EQ(r.err.rfind("error: invalid-argument: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/node/storage/native/notary"));
  EXPECT_TRUE(node_->running());
}

// What a client sends comes back in an error escaped, on one line and cut short: a terminal
// escape sequence or a newline in an argument is shown, not played.
TEST_F(NativeSpawn, HostileArgumentsComeBackEscapedOnOneLine) {
  start_node();
  ASSERT_EQ(node_->cli({"spawn", "notary", "--name", "n"}).code, 0);
  auto r = node_->cli({"ask", "n", "get", "\x1b]0;pwned\x07\n1" + std::string(1000, 'x')});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_LT(r.err.size(), 300u) << r.err;
}

}  // namespace
}  // namespace troupe
