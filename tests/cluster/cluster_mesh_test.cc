// Cluster over real sockets: MeshTransport (Noise over TCP on 127.0.0.1) driving Membership.
#include <gtest/gtest.h>
#include <sodium.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>

#include "probe.h"
#include "troupe/cluster/cluster.h"
#include "troupe/net/noise_static_key.h"

namespace troupe {
namespace {

using testing::eventually;
using testing::Probe;

struct Keys {
  net::NodeKey identity{};
  std::array<unsigned char, 64> secret{};
  Keys() { crypto_sign_keypair(identity.data(), secret.data()); }
  net::NoiseKeyPair noise() const { return net::noise_key_pair_of(secret).value(); }
};

// Fast timing for tests: the same protocol, ten times quicker than memberlist's LAN profile.
SwimConfig fast_swim() {
  SwimConfig c;
  c.probe_interval = std::chrono::milliseconds(100);
  c.probe_timeout = std::chrono::milliseconds(50);
  c.gossip_interval = std::chrono::milliseconds(20);
  c.push_pull_interval = std::chrono::seconds(3);
  c.reconnect_interval = std::chrono::seconds(1);
  return c;
}

struct TestMember {
  Keys keys;
  Probe events;
  std::function<void()> after_event;  // on the membership thread, after each event
  std::unique_ptr<Cluster> cluster;
  Cluster::Options options;

  TestMember() {
    options.mesh.listen = {net::MeshAddress::parse("127.0.0.1:0", true).value()};
    options.swim = fast_swim();
    options.identity = keys.identity;
    options.incarnation = 1ULL << 32;
  }
  Result<void> start() {
    auto c = Cluster::start(options, keys.noise(), [this](const MemberEvent& e) {
      events.push(std::string(member_event_name(e.kind)) + " " +
                  net::node_key_text(e.member.identity));
      if (after_event) after_event();
    });
    if (!c.ok()) return c.error();
    cluster = std::move(c).value();
    return {};
  }
  std::string key() const { return net::node_key_text(keys.identity); }
  std::size_t alive() const {
    std::size_t n = 0;
    for (const Member& m : cluster->members()) n += m.state == MemberState::kAlive;
    return n;
  }
  std::optional<Member> member(const TestMember& other) const {
    for (const Member& m : cluster->members()) {
      if (m.identity == other.keys.identity) return m;
    }
    return std::nullopt;
  }
};

void allow_all(std::vector<TestMember*> members) {
  for (auto* a : members) {
    for (auto* b : members) {
      if (a != b) a->options.mesh.allow.push_back(b->keys.identity);
    }
  }
}

// Three members allowing each other, b and c joining through a, all alive at all three.
void start_three(TestMember& a, TestMember& b, TestMember& c) {
  allow_all({&a, &b, &c});
  ASSERT_TRUE(a.start().ok());
  b.options.mesh.join = {a.cluster->listening().front()};
  c.options.mesh.join = {a.cluster->listening().front()};
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(c.start().ok());
  for (auto* m : {&a, &b, &c}) {
    ASSERT_TRUE(eventually([&] { return m->alive() == 3; })) << m->cluster->members().size();
  }
}

TEST(ClusterMesh, ThreeNodesJoinThroughOneAndSeeAKilledNodeDeadOnce) {
  TestMember a, b, c;
  ASSERT_NO_FATAL_FAILURE(start_three(a, b, c));
  c.cluster.reset();  // gone without a word, like kill -9: its sockets just close
  const auto t0 = std::chrono::steady_clock::now();
  for (auto* m : {&a, &b}) {
    ASSERT_TRUE(m->events.wait_for("dead " + c.key()));
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("dead at both others %lld ms after the kill\n", static_cast<long long>(ms.count()));
  EXPECT_EQ(a.member(c)->state, MemberState::kDead);
  EXPECT_EQ(a.events.count("dead " + c.key()), 1u);
  EXPECT_EQ(b.events.count("dead " + c.key()), 1u);
}

// Review finding: a node that disallowed another dialled it every probe round (the others
// gossip it alive), to be refused after each handshake, both sides logging it, for good. It is
// dialled no more; the others still reach it.
TEST(ClusterMesh, ADisallowedMemberIsDialledNoMore) {
  TestMember a, b, c;
  ASSERT_NO_FATAL_FAILURE(start_three(a, b, c));
  const NodeId c_id = net::node_id_of_identity(c.keys.identity);
  ASSERT_TRUE(a.cluster->disallow(c.keys.identity).ok());
  ASSERT_TRUE(eventually([&] { return !a.cluster->transport().connected(c_id); }));
  const auto dials = a.cluster->transport().counters().dials;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // 20 probe rounds at this timing
  EXPECT_EQ(a.cluster->transport().counters().dials, dials) << "a still dials c";
  EXPECT_FALSE(a.cluster->transport().connected(c_id));
  EXPECT_EQ(b.member(c)->state, MemberState::kAlive);
  EXPECT_EQ(c.member(b)->state, MemberState::kAlive);
}

// Stops a member's membership thread at its next event until released (or destroyed): to the
// others it then looks like a stalled process, whose sockets stay open and whose kernel still
// acknowledges what they send.
class MembershipStall {
 public:
  explicit MembershipStall(TestMember& m) {
    m.after_event = [this] {
      std::unique_lock lock(mutex_);
      if (!armed_) return;
      stalled_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    };
  }
  ~MembershipStall() { release(); }
  void arm() {
    std::lock_guard lock(mutex_);
    armed_ = true;
  }
  bool wait_stalled() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return stalled_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool armed_ = false, stalled_ = false, released_ = false;
};

// Partition finding (tests/cli/mesh_partition_test.cc): a connection to a member declared dead
// was kept. Through a partition TCP backs its retransmissions off to tens of seconds without
// closing the connection, so after the heal every message to that member waited on the stalled
// connection and the two sides stayed apart as long. A member declared dead has its
// connections closed, and the reconnect loop dials it afresh.
TEST(ClusterMesh, AMemberDeclaredDeadHasItsConnectionClosedAndIsDialledAfresh) {
  TestMember a, b, c;
  allow_all({&a, &b, &c});
  MembershipStall stall(b);
  ASSERT_TRUE(a.start().ok());
  b.options.mesh.join = {a.cluster->listening().front()};
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return a.alive() == 2 && b.alive() == 2; }));
  auto connection_to_b = [&]() -> std::optional<net::PeerInfo> {
    for (const net::PeerInfo& p : a.cluster->transport().peers()) {
      if (p.id == b.cluster->self_id()) return p;
    }
    return std::nullopt;
  };
  const auto before = connection_to_b();
  ASSERT_TRUE(before);
  ASSERT_FALSE(before->initiated_here);  // b dialled a to join
  // c's join is b's next event: b's membership stops there, its connection to a stays open.
  stall.arm();
  c.options.mesh.join = {a.cluster->listening().front()};
  ASSERT_TRUE(c.start().ok());
  ASSERT_TRUE(stall.wait_stalled());
  ASSERT_TRUE(a.events.wait_for("dead " + b.key()));
  EXPECT_TRUE(eventually(
      [&] {
        auto now = connection_to_b();
        return !now || now->remote_endpoint != before->remote_endpoint;
      },
      std::chrono::seconds(3)))
      << "a still sends to b on the connection b opened, " << before->remote_endpoint;
  // Released, b hears it was declared dead (a's reconnect loop dials it), refutes, and is
  // alive at a again, on a connection a dialled.
  stall.release();
  ASSERT_TRUE(eventually([&] {
    auto m = a.member(b);
    return m && m->state == MemberState::kAlive;
  }));
}

TEST(ClusterMesh, AnUnlistedNodeIsNeverAMember) {
  TestMember a, b, stranger;
  allow_all({&a, &b});
  stranger.options.mesh.allow = {a.keys.identity};  // it lists a; a does not list it
  ASSERT_TRUE(a.start().ok());
  b.options.mesh.join = {a.cluster->listening().front()};
  stranger.options.mesh.join = {a.cluster->listening().front()};
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(stranger.start().ok());
  ASSERT_TRUE(eventually([&] { return a.alive() == 2 && b.alive() == 2; }));
  ASSERT_TRUE(
      eventually([&] { return a.cluster->transport().counters().refused_not_allowed >= 1; }));
  EXPECT_FALSE(a.member(stranger));
  EXPECT_FALSE(b.member(stranger));
  EXPECT_EQ(stranger.alive(), 1u);  // itself only
}

TEST(ClusterMesh, ARestartedNodeRejoinsWithAHigherIncarnation) {
  TestMember a, b;
  allow_all({&a, &b});
  ASSERT_TRUE(a.start().ok());
  b.options.mesh.join = {a.cluster->listening().front()};
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return a.alive() == 2; }));
  const std::uint64_t before = a.member(b)->incarnation;
  b.cluster.reset();
  ASSERT_TRUE(a.events.wait_for("dead " + b.key()));
  b.options.incarnation = 2ULL << 32;  // the next boot
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] {
    auto m = a.member(b);
    return m && m->state == MemberState::kAlive && m->incarnation > before;
  }));
}

TEST(ClusterMesh, AllowPersistsInTheDataDirAndIsReadAtTheNextStart) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("troupe-cluster-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  TestMember a, b, c;
  a.options.data_dir = dir.string();
  a.options.mesh.allow = {c.keys.identity};  // from the config
  // What a write killed before its rename left is cleared at the start; a symlink is not.
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  std::ofstream(dir / ".mesh.allow.tmp-42") << "half";
  ASSERT_TRUE(a.start().ok());
  EXPECT_FALSE(std::filesystem::exists(dir / ".mesh.allow.tmp-42"));
  EXPECT_EQ(a.cluster->allow(a.keys.identity).error().code, BaseErrc::kInvalidArgument);
  ASSERT_TRUE(b.start().ok());
  EXPECT_TRUE(a.cluster->allow(b.keys.identity).value());
  EXPECT_FALSE(a.cluster->allow(b.keys.identity).value());
  a.cluster.reset();
  // Review finding: the file held the config's keys too, so a key taken out of the config
  // stayed allowed. It holds only what `cluster allow` added.
  a.options.mesh.allow.clear();
  ASSERT_TRUE(a.start().ok());
  auto allowed = a.cluster->allowed();
  ASSERT_EQ(allowed.size(), 1u);
  EXPECT_EQ(allowed[0], b.keys.identity);
  // disallow takes it out, on disk too.
  auto out = a.cluster->disallow(b.keys.identity);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->removed);
  EXPECT_FALSE(out->in_config);
  EXPECT_TRUE(a.cluster->allowed().empty());
  a.cluster.reset();
  ASSERT_TRUE(a.start().ok());
  EXPECT_TRUE(a.cluster->allowed().empty());
  // A damaged file fails the start with the file and line.
  a.cluster.reset();
  std::FILE* f = std::fopen((dir / "mesh.allow").c_str(), "a");
  std::fputs((net::node_key_text(b.keys.identity) + "\nnot-a-key\n").c_str(), f);
  std::fclose(f);
  auto refused = a.start();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("mesh.allow:2"), std::string::npos)
      << refused.error().detail;
  std::filesystem::remove_all(dir);
}

// Review finding: a disallow whose mesh.allow could not be written (a full disk) kept the key
// allowed and its connections up — revocation failed open. The key is refused at once; the
// error says the file still names it.
TEST(ClusterMesh, ADisallowThatCannotBeWrittenStillRefusesTheKeyAtOnce) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("troupe-cluster-disallow-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  TestMember a, b;
  a.options.data_dir = dir.string();
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(a.cluster->allow(b.keys.identity).value());
  b.options.mesh.allow = {a.keys.identity};
  b.options.mesh.join = {a.cluster->listening().front()};
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually(
      [&] { return a.cluster->transport().connected(net::node_id_of_identity(b.keys.identity)); }));
  // mesh.allow can no longer be replaced: a directory (with something in it) where it was.
  std::filesystem::remove(dir / "mesh.allow");
  std::filesystem::create_directories(dir / "mesh.allow" / "in-the-way");
  auto out = a.cluster->disallow(b.keys.identity);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().detail.find("refused from now on, but mesh.allow still names it"),
            std::string::npos)
      << out.error().detail;
  EXPECT_TRUE(a.cluster->allowed().empty());
  ASSERT_TRUE(eventually([&] {
    return !a.cluster->transport().connected(net::node_id_of_identity(b.keys.identity));
  }));
  // b keeps dialling; it stays refused.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(a.cluster->transport().connected(net::node_id_of_identity(b.keys.identity)));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace troupe
