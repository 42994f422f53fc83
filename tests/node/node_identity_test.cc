// NodeIdentity: the node's key and boot counter in its data directory, and every way a
// hostile or damaged directory is refused.
#include "troupe/node/node_identity.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "example_actors.h"
#include "troupe/node/node.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;

class NodeIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "troupe-identity-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data";
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const std::string& path, const std::string& bytes, mode_t mode) {
    std::ofstream(path, std::ios::binary) << bytes;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void expect_refused(const std::string& what) {
    auto id = NodeIdentity::load_or_create(dir_);
    ASSERT_FALSE(id.ok()) << what;
    EXPECT_EQ(id.error().code, BaseErrc::kRefused) << id.error().to_string();
    EXPECT_NE(id.error().detail.find(what), std::string::npos) << id.error().detail;
  }
  std::string root_, dir_;
};

TEST_F(NodeIdentityTest, FirstStartMakesAPrivateKeyAndLaterStartsKeepIt) {
  auto first = NodeIdentity::load_or_create(dir_);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_ + "/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 64);
  EXPECT_EQ(first->boot(), 1u);

  auto second = NodeIdentity::load_or_create(dir_);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->node_id(), first->node_id());
  EXPECT_EQ(second->public_key(), first->public_key());
  EXPECT_EQ(second->boot(), 2u);
  EXPECT_EQ(read(dir_ + "/node.boot"), "2\n");
  // Serial ranges of different boots never meet.
  EXPECT_GT(second->first_serial(), first->last_serial());
  EXPECT_LT(first->first_serial(), first->last_serial());

  // The id derives from the public key alone, and the key signs as itself.
  EXPECT_EQ(first->node_id(), NodeIdentity::node_id_of(first->public_key()));
  auto sig = first->sign("hello");
  EXPECT_EQ(crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>("hello"),
                                        5, first->public_key().data()),
            0);
  // Another directory is another node.
  auto other = NodeIdentity::load_or_create(root_ + "/other");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->node_id(), first->node_id());
}

// Starts that race on one data directory (two nodes, or a node and a CLI command) each get a
// boot number of their own: the counter is read, raised and written under a lock.
// A start killed mid-write leaves `node.key.new-N` (an unused secret key) or `node.boot.new-N`
// behind; the next running node removes exactly those, and nothing else.
TEST_F(NodeIdentityTest, ARunningNodeRemovesWhatAnInterruptedStartLeftAndNothingElse) {
  ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());
  for (const char* name : {"node.key.new-123", "node.boot.new-4294967295"}) {
    write(dir_ + "/" + name, "left", 0600);
  }
  const std::vector<std::string> kept = {"node.key.new-12a", "node.key.new-", "node.keys.new-1",
                                         "notes.txt", "node.boot.new-12345678901"};
  for (const std::string& name : kept) write(dir_ + "/" + name, "mine", 0600);
  fs::create_directory(dir_ + "/node.key.new-77");
  // Not a running node (no key lock): nothing is removed.
  ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());
  EXPECT_TRUE(fs::exists(dir_ + "/node.key.new-123"));
  auto running = NodeIdentity::load_or_create(dir_, /*exclusive=*/true);
  ASSERT_TRUE(running.ok()) << running.error().to_string();
  EXPECT_FALSE(fs::exists(dir_ + "/node.key.new-123"));
  EXPECT_FALSE(fs::exists(dir_ + "/node.boot.new-4294967295"));
  for (const std::string& name : kept) EXPECT_EQ(read(dir_ + "/" + name), "mine") << name;
  EXPECT_TRUE(fs::is_directory(dir_ + "/node.key.new-77"));
}

TEST_F(NodeIdentityTest, ConcurrentStartsNeverShareABootNumber) {
  ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());  // boot 1
  constexpr int kThreads = 8, kEach = 5;
  std::vector<std::uint64_t> boots(kThreads * kEach, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto id = NodeIdentity::load_or_create(dir_);
        if (id.ok()) boots[t * kEach + i] = id->boot();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::sort(boots.begin(), boots.end());
  EXPECT_EQ(boots.front(), 2u);
  EXPECT_EQ(std::adjacent_find(boots.begin(), boots.end()), boots.end()) << "a boot reused";
  EXPECT_EQ(boots.back(), 1u + kThreads * kEach);
}

// A FIFO planted as the key or the boot counter is refused at once: opening it must not wait
// for a writer (the node would hang at start).
TEST_F(NodeIdentityTest, AFifoInPlaceOfAFileIsRefusedWithoutWaiting) {
  for (const char* name : {"node.key", "node.boot"}) {
    fs::remove_all(dir_);
    ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());  // a key and a boot counter
    const std::string fifo = dir_ + "/" + name;
    ASSERT_TRUE(fs::remove(fifo));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto started =
        std::async(std::launch::async, [&] { return NodeIdentity::load_or_create(dir_); });
    if (started.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      ADD_FAILURE() << "load_or_create waits on the FIFO " << name;
      const int unblock = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // lets the open return
      started.wait();
      if (unblock >= 0) ::close(unblock);
      continue;
    }
    auto id = started.get();
    ASSERT_FALSE(id.ok()) << name;
    EXPECT_EQ(id.error().code, BaseErrc::kRefused) << id.error().to_string();
    EXPECT_NE(id.error().detail.find("not a regular file"), std::string::npos) << id.error().detail;
  }
}

TEST_F(NodeIdentityTest, AKeyOthersCanReadIsRefused) {
  ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());
  ASSERT_EQ(::chmod((dir_ + "/node.key").c_str(), 0644), 0);
  expect_refused("mode 0644");
}

TEST_F(NodeIdentityTest, AKeyOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file away";
  ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());
  ASSERT_EQ(::chown((dir_ + "/node.key").c_str(), 65534, 65534), 0);
  expect_refused("belongs to another user");
}

TEST_F(NodeIdentityTest, DamagedOrPlantedKeysAreRefused) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  write(dir_ + "/node.key", std::string(63, 'k'), 0600);
  expect_refused("not an Ed25519 secret key");
  write(dir_ + "/node.key", std::string(65, 'k'), 0600);
  expect_refused("at most 64");
  write(dir_ + "/node.key", std::string(64, 'k'), 0600);  // public half not the seed's
  expect_refused("damaged");
  fs::remove(dir_ + "/node.key");
  write(root_ + "/elsewhere", std::string(64, 'k'), 0600);
  fs::create_symlink(root_ + "/elsewhere", dir_ + "/node.key");
  expect_refused("symbolic link");
  fs::remove(dir_ + "/node.key");
  fs::create_directory(dir_ + "/node.key");
  expect_refused("not a regular file");
}

// A FIFO planted as the key or the boot counter: the open used to wait for a writer, so the
// node hung at start, deaf to SIGTERM (it waits for signals only once started).
TEST_F(NodeIdentityTest, ABadBootCounterIsRefusedAndLeftAlone) {
  ASSERT_TRUE(NodeIdentity::load_or_create(dir_).ok());
  write(dir_ + "/node.boot", "seven\n", 0600);
  expect_refused("boot count");
  EXPECT_EQ(read(dir_ + "/node.boot"), "seven\n");
  write(dir_ + "/node.boot", std::to_string(NodeIdentity::kMaxBoot) + "\n", 0600);
  expect_refused("used all its boots");
}

TEST_F(NodeIdentityTest, ADataDirectoryOthersCanWriteIsRefused) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  expect_refused("writable by group or others");
  EXPECT_FALSE(fs::exists(dir_ + "/node.key"));  // nothing written into it
}

// A node restarted on the same data directory keeps its id and never gives out an actor id
// it gave out before.
TEST_F(NodeIdentityTest, ARestartedNodeKeepsItsIdAndNeverReusesActorIds) {
  NodeConfig config;
  config.data_dir = dir_;
  config.workers = 1;
  ActorId before;
  NodeId node_before = 0;
  {
    KindRegistry kinds;
    examples::register_example_kinds(kinds);
    auto node = Node::start(config, std::move(kinds));
    ASSERT_TRUE(node.ok()) << node.error().to_string();
    node_before = (*node)->system().node_id();
    before = (*node)->system().spawn_fn([](Actor&) { return Behavior([](int&) {}); }).id();
  }
  KindRegistry kinds;
  examples::register_example_kinds(kinds);
  auto node = Node::start(config, std::move(kinds));
  ASSERT_TRUE(node.ok()) << node.error().to_string();
  EXPECT_EQ((*node)->system().node_id(), node_before);
  EXPECT_EQ((*node)->identity().node_id(), node_before);
  ActorId after = (*node)->system().spawn_fn([](Actor&) { return Behavior([](int&) {}); }).id();
  EXPECT_EQ(after.node, before.node);
  EXPECT_GT(after.serial, before.serial);
}

// A start the control socket would refuse writes nothing: no key, no boot counter bump.
TEST_F(NodeIdentityTest, AStartRefusedForItsSocketWritesNothing) {
  NodeConfig config;
  config.data_dir = dir_;
  config.workers = 1;
  write(root_ + "/victim.txt", "keep me", 0600);
  config.control_socket = root_ + "/victim.txt";  // not a socket
  auto refused = Node::start(config, KindRegistry{});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("not a socket"), std::string::npos)
      << refused.error().to_string();
  config.control_socket = root_ + "/" + std::string(200, 's');  // too long for sun_path
  ASSERT_FALSE(Node::start(config, KindRegistry{}).ok());
  config.runtime.max_call_depth = 0;
  config.control_socket.clear();
  ASSERT_FALSE(Node::start(config, KindRegistry{}).ok());
  EXPECT_FALSE(fs::exists(dir_)) << "a refused start created the data directory";
  EXPECT_EQ(read(root_ + "/victim.txt"), "keep me");
}

// A socket path whose directory cannot be made or written, or that the system would read
// only up to a NUL byte, is refused before the key and the boot counter are written.
TEST_F(NodeIdentityTest, AStartRefusedForItsSocketDirectoryWritesNothing) {
  NodeConfig config;
  config.data_dir = dir_;
  config.workers = 1;
  write(root_ + "/file", "keep me", 0600);
  for (const std::string& socket :
       {root_ + "/file/control.sock", root_ + "/file/deeper/control.sock",
        std::string("\0abstract", 9), root_ + std::string("/cut\0here", 9)}) {
    config.control_socket = socket;
    auto refused = Node::start(config, KindRegistry{});
    ASSERT_FALSE(refused.ok()) << socket;
    EXPECT_EQ(refused.error().code, BaseErrc::kInvalidArgument) << refused.error().to_string();
    EXPECT_FALSE(fs::exists(dir_)) << "a refused start created the data directory: " << socket;
  }
  EXPECT_FALSE(fs::exists(root_ + "/cut"));
  EXPECT_EQ(read(root_ + "/file"), "keep me");
}

// A second node on a running node's socket is refused before it raises the boot counter.
TEST_F(NodeIdentityTest, ASecondNodeOnARunningNodesSocketLeavesTheBootCounter) {
  NodeConfig config;
  config.data_dir = dir_;
  config.workers = 1;
  auto first = Node::start(config, KindRegistry{});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  const std::string boot = read(dir_ + "/node.boot");
  auto second = Node::start(config, KindRegistry{});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, BaseErrc::kUnavailable) << second.error().to_string();
  EXPECT_EQ(read(dir_ + "/node.boot"), boot);
}

// Two nodes on one data directory through different sockets would run as one node: the second
// is refused, before it raises the boot counter, until the first has stopped.
TEST_F(NodeIdentityTest, ASecondNodeOnARunningNodesDataDirectoryIsRefused) {
  NodeConfig config;
  config.data_dir = dir_;
  config.workers = 1;
  config.control_socket = root_ + "/first.sock";
  auto first = Node::start(config, KindRegistry{});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  const std::string boot = read(dir_ + "/node.boot");
  config.control_socket = root_ + "/second.sock";
  auto second = Node::start(config, KindRegistry{});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, BaseErrc::kUnavailable) << second.error().to_string();
  EXPECT_NE(second.error().detail.find("another node is running on the data directory"),
            std::string::npos)
      << second.error().detail;
  EXPECT_EQ(read(dir_ + "/node.boot"), boot);
  first->reset();
  auto again = Node::start(config, KindRegistry{});
  ASSERT_TRUE(again.ok()) << again.error().to_string();
}

}  // namespace
}  // namespace troupe
