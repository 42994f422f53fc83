// RemoteActors over real sockets: two nodes (Cluster + ActorSystem each) on 127.0.0.1.
#include "troupe/cluster/remote_actors.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <future>

#include "probe.h"
#include "troupe/cluster/cluster.h"
#include "troupe/cluster/cluster_error.h"
#include "troupe/net/noise_static_key.h"
#include "troupe/runtime/runtime_error.h"

namespace troupe {
namespace {

using testing::eventually;

// "echo" replies with the payload; "hold" keeps the reply slot until a "release" answers it.
class Service final : public Actor {
 public:
  bool receive(Message& m) override {
    if (!m.is<Envelope>()) return false;
    Envelope& e = m.as<Envelope>();
    if (e.route == "hold") {
      held_.push_back(take_reply());
      return true;
    }
    if (e.route == "release") {
      for (auto& r : held_) r.deliver(Bytes("late"));
      held_.clear();
    }
    if (e.route == "count") ++tells_;
    if (m.request)
      take_reply().deliver(Bytes(e.route == "count" ? std::to_string(tells_) : e.payload));
    return true;
  }

 private:
  std::vector<ReplyPromise> held_;
  int tells_ = 0;
};

struct Node {
  net::NodeKey identity{};
  std::array<unsigned char, 64> secret{};
  std::unique_ptr<ActorSystem> system;
  std::unique_ptr<Cluster> cluster;
  Cluster::Options options;

  Node() {
    crypto_sign_keypair(identity.data(), secret.data());
    SystemConfig sc;
    sc.workers = 2;
    sc.node_id = net::node_id_of_identity(identity);
    system = std::make_unique<ActorSystem>(sc);
    options.mesh.listen = {net::MeshAddress::parse("127.0.0.1:0", true).value()};
    options.swim.probe_interval = std::chrono::milliseconds(100);
    options.swim.probe_timeout = std::chrono::milliseconds(50);
    options.swim.gossip_interval = std::chrono::milliseconds(20);
    options.identity = identity;
    options.incarnation = 1ULL << 32;
    options.system = system.get();
    options.remote.registry_refresh = std::chrono::milliseconds(200);
    options.remote.registry_ttl = std::chrono::milliseconds(1000);
  }
  ~Node() {
    if (cluster) cluster->stop();
    system->shutdown();
  }
  void start() {
    cluster = Cluster::start(options, net::noise_key_pair_of(secret).value()).value();
  }
  NodeId id() const { return net::node_id_of_identity(identity); }
};

Result<Bytes> ask(RemoteActors& remote, NodeId node, std::uint64_t serial, const std::string& name,
                  const std::string& route, std::chrono::milliseconds timeout) {
  std::promise<Result<Bytes>> done;
  Envelope e;
  e.route = route;
  e.payload = "payload:" + route;
  remote.ask(node, serial, name, e, timeout,
             [&done](Result<Bytes> r) { done.set_value(std::move(r)); });
  return done.get_future().get();
}

class RemoteActorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a.options.mesh.allow = {b.identity};
    b.options.mesh.allow = {a.identity};
    a.start();
    b.options.mesh.join = {a.cluster->listening().front()};
    b.start();
    service = b.system->spawn(std::make_unique<Service>(), SpawnOptions{"svc", "service", {}});
    ASSERT_TRUE(service);
    ASSERT_TRUE(eventually([&] { return a.cluster->remote()->lookup("svc").has_value(); }));
  }
  Node a, b;
  ActorRef service;
};

TEST_F(RemoteActorsTest, AsksAndTellsReachAnActorOnTheOtherNodeByNameAndBySerial) {
  auto named = a.cluster->remote()->lookup("svc");
  EXPECT_EQ(named->id, service.id());
  EXPECT_EQ(named->type, "service");
  auto r = ask(*a.cluster->remote(), b.id(), 0, "svc", "echo", std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "payload:echo");
  Envelope tell;
  tell.route = "count";
  ASSERT_TRUE(a.cluster->remote()->tell(b.id(), service.id().serial, "", tell).ok());
  ASSERT_TRUE(a.cluster->remote()->tell(b.id(), service.id().serial, "", tell).ok());
  // Tells and asks on one lane keep their order: the count sees both tells.
  auto count =
      ask(*a.cluster->remote(), b.id(), service.id().serial, "", "count", std::chrono::seconds(5));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, "3");
  auto missing = ask(*a.cluster->remote(), b.id(), 0, "nobody", "echo", std::chrono::seconds(5));
  EXPECT_EQ(missing.error().code, BaseErrc::kNotFound);
  // The node's machinery is not reachable from another node (and is not announced).
  EXPECT_FALSE(a.cluster->remote()->lookup("root"));
}

TEST_F(RemoteActorsTest, AnAskFailsAtItsDeadlineAndAReplyNobodyWaitsForIsDroppedAndCounted) {
  auto r = ask(*a.cluster->remote(), b.id(), 0, "svc", "hold", std::chrono::milliseconds(100));
  EXPECT_EQ(r.error().code, BaseErrc::kTimedOut);
  // Both nodes hold the deadline: which of a's timer and b's own timed-out reply comes first is
  // a race, so the late reply is sent by hand: the request id of an ask that is over.
  const auto before = a.cluster->remote()->counters().late_replies;
  for (std::uint64_t id : {std::uint64_t{1}, std::uint64_t{424242}}) {
    ASSERT_TRUE(b.cluster->transport()
                    .send(a.id(), net::Lane::kRpcReliable, net::FrameType::kReply,
                          encode_remote_reply(RemoteReply{id, Bytes("late")}))
                    .ok());
  }
  ASSERT_TRUE(
      eventually([&] { return a.cluster->remote()->counters().late_replies >= before + 2; }));
}

TEST_F(RemoteActorsTest, AsksPendingOnANodeThatDiesFailAtOnceWithNoConnection) {
  std::promise<Result<Bytes>> done;
  Envelope e;
  e.route = "hold";
  a.cluster->remote()->ask(b.id(), 0, "svc", e, std::chrono::seconds(60),
                           [&done](Result<Bytes> r) { done.set_value(std::move(r)); });
  auto future = done.get_future();
  ASSERT_TRUE(eventually([&] { return b.system->find("svc").cell()->mailbox_depth() == 0; }));
  const auto t0 = std::chrono::steady_clock::now();
  b.cluster.reset();  // gone without a word
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto r = future.get();
  EXPECT_EQ(r.error().code, ClusterErrc::kNoConnection);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));  // not at 60 s
  EXPECT_EQ(a.cluster->remote()->counters().failed_on_death, 1u);
  // Its names went with it.
  EXPECT_FALSE(a.cluster->remote()->lookup("svc"));
}

}  // namespace
}  // namespace troupe
