// RemoteActors over real sockets: two nodes (Cluster + ActorSystem each) on 127.0.0.1.
#include "troupe/cluster/remote_actors.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "cluster/cluster_node.h"
#include "cluster/observer_actor.h"
#include "probe.h"
#include "troupe/cluster/cluster.h"
#include "troupe/cluster/cluster_error.h"
#include "troupe/net/net_error.h"
#include "troupe/net/noise_static_key.h"
#include "troupe/net/peer_allowlist.h"
#include "troupe/platform/platform_error.h"
#include "troupe/runtime/pool.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/supervisor.h"

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
    if (e.route == "caller" && m.request) {
      take_reply().deliver(Bytes(e.caller.to_string() + "|" + e.caller_type));
      return true;
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

using Node = testing::ClusterNode;

// Options for an unnamed actor of `type` (one typed "actor" is the node's own: not reachable).
SpawnOptions typed(const std::string& type) {
  SpawnOptions o;
  o.type_name = type;
  return o;
}

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
    testing::start_pair(a, b);
    service = b.system->spawn(std::make_unique<Service>(), SpawnOptions{"svc", "service", {}, {}});
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

// A node that connects but never becomes a member (here: a bare transport that never speaks
// SWIM) and then goes is never declared dead; what waits on it fails when its last connection
// closes, not at its timeout.
TEST(RemoteActorsNonMember, AsksToANodeThatNeverJoinedFailWhenItsConnectionCloses) {
  testing::ClusterNode a;
  net::NodeKey b_identity{};
  std::array<unsigned char, 64> b_secret{};
  crypto_sign_keypair(b_identity.data(), b_secret.data());
  a.options.mesh.allow.push_back(b_identity);
  a.start();
  net::PeerAllowlist b_allow;
  ASSERT_TRUE(b_allow.add(a.identity).ok());
  auto b = net::MeshTransport::start(b_identity, net::noise_key_pair_of(b_secret).value(), b_allow,
                                     net::MeshTransport::Options{}, {});
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  (*b)->connect(a.cluster->listening().front());
  const NodeId b_id = net::node_id_of_identity(b_identity);
  ASSERT_TRUE(eventually([&] { return a.cluster->transport().connected(b_id); }));
  auto done = std::make_shared<std::promise<Result<Bytes>>>();  // outlives a failed assertion
  Envelope e;
  e.route = "anything";
  a.cluster->remote()->ask(b_id, 1, "", e, std::chrono::seconds(60),
                           [done](Result<Bytes> r) { done->set_value(std::move(r)); });
  auto future = done->get_future();
  const auto t0 = std::chrono::steady_clock::now();
  (*b)->stop();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto r = future.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClusterErrc::kNoConnection) << r.error().to_string();
}

using testing::Observer;

Envelope envelope(const std::string& route, const std::string& payload = "") {
  Envelope e;
  e.route = route;
  e.payload = payload;
  return e;
}

TEST_F(RemoteActorsTest, AProxyIsTellAndAskLikeALocalRefAndItsMonitorsGetTheRemoteReason) {
  auto proxy = a.cluster->remote()->proxy(service.id(), "service");
  ASSERT_TRUE(proxy.ok()) << proxy.error().to_string();
  EXPECT_EQ(proxy->id(), service.id());  // the remote actor's id, not one of a's
  EXPECT_EQ(proxy->type_name(), "service");
  EXPECT_EQ(*a.cluster->remote()->proxy(service.id()), *proxy);  // one per remote actor
  EXPECT_EQ(a.system->find(service.id()), *proxy);
  auto echoed = a.system->ask<Bytes>(*proxy, envelope("echo", "x"), std::chrono::seconds(5)).get();
  ASSERT_TRUE(echoed.ok()) << echoed.error().to_string();
  EXPECT_EQ(*echoed, "x");
  a.system->tell(*proxy, envelope("count"));
  auto count = a.system->ask<Bytes>(*proxy, envelope("count"), std::chrono::seconds(5)).get();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, "2");
  testing::Probe downs;
  const int before = Observer::started.load();
  a.system->spawn(std::make_unique<Observer>(*proxy, false, downs));
  ASSERT_TRUE(eventually([&] { return Observer::started.load() > before; }));
  b.system->stop(service, ExitReason::error("boom"));
  ASSERT_TRUE(downs.wait_count(1));
  EXPECT_EQ(downs.events()[0], ExitReason::error("boom").to_string());
  EXPECT_FALSE(proxy->alive());
}

TEST_F(RemoteActorsTest, WhenTheNodeDiesItsProxiesMonitorsGetNoconnectionOnce) {
  auto proxy = a.cluster->remote()->proxy(service.id(), "service");
  ASSERT_TRUE(proxy.ok());
  testing::Probe downs, linked_downs;
  a.system->spawn(std::make_unique<Observer>(*proxy, false, downs));
  ActorRef linked = a.system->spawn(std::make_unique<Observer>(*proxy, true, linked_downs));
  ASSERT_TRUE(eventually([&] { return proxy->alive() && linked.alive(); }));
  b.cluster.reset();  // gone without a word
  ASSERT_TRUE(downs.wait_count(1, std::chrono::seconds(10)));
  EXPECT_EQ(downs.events()[0], "noconnection");
  // The link fired too: the linked observer died of it.
  ASSERT_TRUE(eventually([&] { return !linked.alive(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a second DOWN would come now
  EXPECT_EQ(downs.size(), 1u);
  // A proxy asked for now is dead at once: noconnection, as a monitor of it says.
  auto late = a.cluster->remote()->proxy(ActorId{b.id(), 999});
  ASSERT_TRUE(late.ok());
  testing::Probe late_downs;
  a.system->spawn(std::make_unique<Observer>(*late, false, late_downs));
  ASSERT_TRUE(late_downs.wait_count(1));
  EXPECT_EQ(late_downs.events()[0], "noconnection");
}

// Review finding: a proxy stopped here left its entry behind, and the one DOWN the remote node
// sends went to the dead entry: the new proxy never died.
TEST_F(RemoteActorsTest, AProxyMadeAgainAfterALocalStopStillHearsTheRemoteDeath) {
  auto first = a.cluster->remote()->proxy(service.id(), "service");
  ASSERT_TRUE(first.ok());
  a.system->stop(*first);
  ASSERT_TRUE(eventually([&] { return !first->alive(); }));
  auto second = a.cluster->remote()->proxy(service.id(), "service");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *first);
  testing::Probe downs;
  const int before = Observer::started.load();
  a.system->spawn(std::make_unique<Observer>(*second, false, downs));
  ASSERT_TRUE(eventually([&] { return Observer::started.load() > before; }));
  // The WATCH went ahead of this ask (system lane first): b holds it once the ask is answered,
  // so the death below is reported with its reason, not as noproc (a flake seen under load).
  ASSERT_TRUE(a.system->ask<Bytes>(*second, envelope("echo"), std::chrono::seconds(5)).get().ok());
  b.system->stop(service, ExitReason::error("gone"));
  ASSERT_TRUE(downs.wait_count(1));
  EXPECT_EQ(downs.events()[0], ExitReason::error("gone").to_string());
}

// Review finding: any allowed peer could answer another node's ask with a guessed request id.
TEST_F(RemoteActorsTest, OnlyTheNodeAskedCanAnswerTheAsk) {
  Node c;
  ASSERT_TRUE(a.cluster->allow(c.identity).ok());
  c.options.mesh.allow = {a.identity};
  c.options.mesh.join = {a.cluster->listening().front()};
  c.start();
  ASSERT_TRUE(eventually([&] { return c.cluster->transport().connected(a.id()); }));
  std::promise<Result<Bytes>> done;
  a.cluster->remote()->ask(b.id(), 0, "svc", envelope("hold"), std::chrono::seconds(10),
                           [&done](Result<Bytes> r) { done.set_value(std::move(r)); });
  auto future = done.get_future();
  const auto before = a.cluster->remote()->counters().late_replies;
  // c forges b's answer to every request id a may have used so far.
  for (std::uint64_t id = 1; id < 10; ++id) {
    ASSERT_TRUE(c.cluster->transport()
                    .send(a.id(), net::Lane::kRpcReliable, net::FrameType::kReply,
                          encode_remote_reply(RemoteReply{id, Bytes("forged")}))
                    .ok());
  }
  ASSERT_TRUE(
      eventually([&] { return a.cluster->remote()->counters().late_replies >= before + 9; }));
  EXPECT_EQ(future.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  // The node asked answers: that one counts.
  ASSERT_TRUE(ask(*a.cluster->remote(), b.id(), 0, "svc", "release", std::chrono::seconds(5)).ok());
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto r = future.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "late");
}

TEST_F(RemoteActorsTest, ALocalActorLinkedToAProxyTakesTheRemoteActorDownWhenItFails) {
  auto proxy = a.cluster->remote()->proxy(service.id(), "service");
  ASSERT_TRUE(proxy.ok());
  testing::Probe downs;
  ActorRef linked = a.system->spawn(std::make_unique<Observer>(*proxy, true, downs));
  ASSERT_TRUE(eventually([&] { return linked.alive(); }));
  a.system->tell(linked, envelope("die", "linked failure"));
  // The exit signal crossed: the service died (abnormally), and a's monitor heard of it.
  ASSERT_TRUE(eventually([&] { return !service.alive(); }));
  EXPECT_TRUE(service.cell()->exit_reason().abnormal());
}

// Remote spawn, the RemoteActors part: what the asking node sends reaches the target's spawn
// handler field for field (a real node's handler is Operations::spawn_for_peer, tested through
// the CLI in tests/cli/mesh_test.cc), its answer comes back, and a node without a handler
// refuses. The handler here spawns a Service.
class RemoteSpawnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b.options.spawn_handler = [this](NodeId from, RemoteSpawn r,
                                     std::function<void(Result<RemoteSpawned>)> done) {
      std::lock_guard lock(mutex);
      requests.push_back(
          {from, r.name, r.supervisor, r.tier, r.restart, r.limits, r.linked, r.package});
      if (hold) return held.push_back(std::move(done));
      if (refuse_first > 0) {
        --refuse_first;
        return done(Error{NetErrc::kOverloaded, "busy (test)"});
      }
      ActorRef spawned =
          b.system->spawn(std::make_unique<Service>(), SpawnOptions{r.name, "service", {}, {}});
      done(RemoteSpawned{spawned.id().serial, "service"});
    };
    testing::start_pair(a, b);
    ASSERT_TRUE(eventually([&] { return a.cluster->transport().connected(b.id()); }));
  }
  static std::future<Result<RemoteSpawned>> spawn(RemoteActors& remote, NodeId node, RemoteSpawn r,
                                                  std::chrono::milliseconds timeout) {
    auto done = std::make_shared<std::promise<Result<RemoteSpawned>>>();
    auto future = done->get_future();
    remote.spawn(node, std::move(r), timeout,
                 [done](Result<RemoteSpawned> s) { done->set_value(std::move(s)); });
    return future;
  }
  struct Seen {
    NodeId from;
    std::string name, supervisor;
    std::uint8_t tier, restart;
    std::vector<RemoteSpawnLimit> limits;
    bool linked;
    Bytes package;
  };
  // Before the nodes: b's handler uses them until b is gone (members go in reverse order).
  std::mutex mutex;
  std::vector<Seen> requests;
  bool hold = false;
  int refuse_first = 0;  // answer this many spawns overloaded first
  std::vector<std::function<void(Result<RemoteSpawned>)>> held;
  Node a, b;
};

TEST_F(RemoteSpawnTest, ASpawnReachesTheTargetsHandlerAndANodeWithoutOneRefusesIt) {
  RemoteSpawn r;
  r.name = "spawned-here";
  r.supervisor = "workers";
  r.tier = 2;
  r.restart = 1;
  r.limits = {RemoteSpawnLimit{0, false, 12345}, RemoteSpawnLimit{5, true, 0}};
  r.package = Bytes("PK not really a package");
  auto done = spawn(*a.cluster->remote(), b.id(), r, std::chrono::seconds(5)).get();
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->type, "service");
  ActorRef spawned = b.system->find(ActorId{b.id(), done->serial});
  ASSERT_TRUE(spawned);
  EXPECT_EQ(b.system->find("spawned-here").id(), spawned.id());
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(requests.size(), 1u);
    const Seen& seen = requests[0];
    EXPECT_EQ(seen.from, a.id());
    EXPECT_EQ(seen.name, "spawned-here");
    EXPECT_EQ(seen.supervisor, "workers");
    EXPECT_EQ(seen.tier, 2);
    EXPECT_EQ(seen.restart, 1);
    EXPECT_EQ(seen.limits, r.limits);
    EXPECT_EQ(seen.package, r.package);
  }
  // a has no handler (its node did not opt in): refused, saying how to opt in.
  auto refused = spawn(*b.cluster->remote(), a.id(), r, std::chrono::seconds(5)).get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, PlatformErrc::kPermissionDenied);
  EXPECT_NE(refused.error().detail.find("remote_spawn"), std::string::npos);
  // Refused at once, without sending: this node, an empty package, one past a frame.
  EXPECT_EQ(spawn(*a.cluster->remote(), a.id(), r, std::chrono::seconds(5)).get().error().code,
            BaseErrc::kInvalidArgument);
  RemoteSpawn empty = r;
  empty.package.clear();
  EXPECT_EQ(spawn(*a.cluster->remote(), b.id(), empty, std::chrono::seconds(5)).get().error().code,
            BaseErrc::kInvalidArgument);
  RemoteSpawn huge = r;
  huge.package.assign(net::kMaxFrameBytes, 'x');
  EXPECT_EQ(spawn(*a.cluster->remote(), b.id(), huge, std::chrono::seconds(5)).get().error().code,
            BaseErrc::kTooLarge);
  std::lock_guard lock(mutex);
  EXPECT_EQ(requests.size(), 1u);
}

// A target runs at most kMaxIncomingSpawns at once, half of them for one peer (beyond:
// overloaded, at once); spawns pending
// on a node that goes fail at once with noconnection, and the target's late answers go nowhere.
TEST_F(RemoteSpawnTest, IncomingSpawnsAreCappedAndPendingOnesFailWhenTheNodeGoes) {
  {
    std::lock_guard lock(mutex);
    hold = true;
  }
  RemoteSpawn r;
  r.package = Bytes("package");
  std::vector<std::future<Result<RemoteSpawned>>> pending;
  // One peer gets half of the target's slots.
  for (std::size_t i = 0; i < RemoteActors::kMaxIncomingSpawns / 2; ++i) {
    pending.push_back(spawn(*a.cluster->remote(), b.id(), r, std::chrono::seconds(30)));
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return held.size() == RemoteActors::kMaxIncomingSpawns / 2;
  }));
  auto over = spawn(*a.cluster->remote(), b.id(), r, std::chrono::seconds(30));
  ASSERT_EQ(over.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(over.get().error().code, NetErrc::kOverloaded);
  const auto t0 = std::chrono::steady_clock::now();
  b.cluster.reset();  // gone without a word
  for (auto& f : pending) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_EQ(f.get().error().code, ClusterErrc::kNoConnection);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  // The target's handler answers after its cluster is gone: dropped, no crash.
  std::lock_guard lock(mutex);
  for (auto& done : held) done(RemoteSpawned{42, "service"});
}

TEST(RemoteSpawnCodec, RoundTripsAndRefusesEveryBadField) {
  RemoteSpawn r;
  r.request_id = 7;
  r.time_left_ms = 1000;
  r.name = "n";
  r.supervisor = "s";
  r.tier = 1;
  r.restart = 2;
  r.limits = {RemoteSpawnLimit{3, false, 9}};
  r.package = Bytes("zip");
  auto back = decode_remote_spawn(encode_remote_spawn(r));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->request_id, 7u);
  EXPECT_EQ(back->time_left_ms, 1000u);
  EXPECT_EQ(back->name, "n");
  EXPECT_EQ(back->supervisor, "s");
  EXPECT_EQ(back->tier, 1);
  EXPECT_EQ(back->restart, 2);
  EXPECT_EQ(back->limits, r.limits);
  EXPECT_EQ(back->package, "zip");
  auto refused = [](RemoteSpawn bad, const std::string& field) {
    auto d = decode_remote_spawn(encode_remote_spawn(bad));
    ASSERT_FALSE(d.ok()) << field;
    EXPECT_EQ(d.error().code, ClusterErrc::kMalformed);
    EXPECT_NE(d.error().detail.find(field), std::string::npos) << d.error().detail;
  };
  RemoteSpawn bad = r;
  bad.time_left_ms = 0;
  refused(bad, "time left");
  bad = r;
  bad.tier = 3;
  refused(bad, "tier");
  bad = r;
  bad.restart = 3;
  refused(bad, "restart");
  Bytes flags = encode_remote_spawn(r);
  flags[8 + 4 + 3 + 3 + 1 + 1] = 2;  // the flags byte: 0 or 1
  EXPECT_FALSE(decode_remote_spawn(flags).ok());
  bad = r;
  bad.linked = true;
  EXPECT_TRUE(decode_remote_spawn(encode_remote_spawn(bad))->linked);
  bad = r;
  bad.limits.assign(kMaxRemoteSpawnLimits + 1, RemoteSpawnLimit{});
  refused(bad, "limits");
  bad = r;
  bad.package.clear();
  refused(bad, "package");
  bad = r;
  bad.name.assign(kMaxRemoteNameBytes + 1, 'x');
  refused(bad, "name");
  Bytes unlimited = encode_remote_spawn(r);
  unlimited[4 + 8 + 2 + 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1] = 2;  // the limit's unlimited byte
  EXPECT_FALSE(decode_remote_spawn(unlimited).ok());
  const Bytes full = encode_remote_spawn(r);
  for (std::size_t n = 0; n + 3 < full.size(); ++n) {  // every cut before the package
    EXPECT_FALSE(decode_remote_spawn(BytesView(full).substr(0, n)).ok()) << n;
  }
  auto spawned = decode_remote_spawned(encode_remote_spawned(RemoteSpawned{5, "acme:x:1"}));
  ASSERT_TRUE(spawned.ok());
  EXPECT_EQ(spawned->serial, 5u);
  EXPECT_EQ(spawned->type, "acme:x:1");
  EXPECT_FALSE(decode_remote_spawned(encode_remote_spawned(RemoteSpawned{0, "x"})).ok());
  EXPECT_FALSE(decode_remote_spawned(encode_remote_spawned(RemoteSpawned{5, "x"}) + "!").ok());
}

// Review finding: names, types and error texts of another node reached `troupe ls --cluster`
// and `troupe ask` raw (terminal escapes, forged lines). Names and types with a control
// character are refused as a local name would be; a REPLY's error text is shown escaped.
TEST(RemoteCodecs, AnotherNodesTextIsNeverShownRaw) {
  auto registry = [](const std::string& name, const std::string& type) {
    RegistryAnnouncement a;
    a.sequence = 1;
    a.ttl_ms = 1000;
    a.entries.push_back(RegistryEntry{name, 7, type});
    return decode_registry(encode_registry(a));
  };
  EXPECT_TRUE(registry("far-echo", "acme:echo:1.0.0").ok());
  EXPECT_TRUE(registry("名前", "echo").ok());
  EXPECT_FALSE(registry("evil\x1b[31m", "echo").ok());
  EXPECT_FALSE(registry("forged\nline", "echo").ok());
  EXPECT_FALSE(registry(std::string("nul\0name", 8), "echo").ok());
  EXPECT_FALSE(registry("svc", "type\x07").ok());
  EXPECT_FALSE(registry("\xff", "echo").ok());
  EXPECT_FALSE(decode_remote_spawned(encode_remote_spawned(RemoteSpawned{5, "x\x1b[2J"})).ok());

  // A REPLY's error, byte by byte as a hostile peer would send it.
  auto text16 = [](const std::string& t) {
    return std::string{static_cast<char>(t.size() >> 8), static_cast<char>(t.size() & 0xff)} + t;
  };
  const std::string reply = std::string(8, '\0') + std::string(1, '\1') + text16("evil\x1b[31m") +
                            text16("na\nme") + text16("d\x1b]0;pwned\x07\nerror: forged");
  auto decoded = decode_remote_reply(reply);
  ASSERT_TRUE(decoded.ok());
  ASSERT_FALSE(decoded->result.ok());
  const std::string shown = decoded->result.error().to_string();
  for (const char c : shown) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f)
        << "a raw byte " << int(static_cast<unsigned char>(c)) << " in: " << shown;
  }
  EXPECT_NE(shown.find("remote evil\\x1B[31m/na\\x0Ame: d\\x1B]0;pwned"), std::string::npos)
      << shown;
  // Plain text (UTF-8 included) stays as it is, as the same error made here would read.
  const std::string plain = std::string(8, '\0') + std::string(1, '\1') + text16("base") +
                            text16("not-found") + text16("keine Größe");
  EXPECT_EQ(decode_remote_reply(plain)->result.error().detail, "keine Größe");
  // A DOWN's or EXIT's reason becomes a local actor's (logged, shown by `troupe ls`): escaped
  // unless plain, and never refused (a lost DOWN would leave its monitors waiting).
  auto exit = decode_remote_exit(
      encode_remote_exit(RemoteExit{7, ExitReason::error("boom\x1b]0;pwned\x07\nerror: forged")}));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->reason.to_string().find('\x1b'), std::string::npos) << exit->reason.to_string();
  EXPECT_NE(exit->reason.to_string().find("boom\\x1B]0;pwned\\x07\\x0Aerror: forged"),
            std::string::npos);
  EXPECT_EQ(decode_remote_exit(encode_remote_exit(RemoteExit{7, ExitReason::error("größe")}))
                ->reason.to_string(),
            ExitReason::error("größe").to_string());
}

TEST(RemoteStreamCodec, RoundTripsAndRefusesEveryBadField) {
  RemoteStreamChunk c;
  c.reliable = true;
  c.request_id = 9;
  c.time_left_ms = 500;
  c.to_serial = 4;
  c.sender_serial = 6;
  c.sender_type = "acme:p:1";
  c.chunk.stream_id = "s";
  c.chunk.sequence = 3;
  c.chunk.payload = "data";
  c.chunk.metadata = {{"k", "v"}, {"", ""}};
  c.chunk.timestamp_ms = -5;
  auto back = decode_remote_stream(encode_remote_stream(c));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(back->reliable);
  EXPECT_EQ(back->request_id, 9u);
  EXPECT_EQ(back->time_left_ms, 500u);
  EXPECT_EQ(back->to_serial, 4u);
  EXPECT_EQ(back->sender_serial, 6u);
  EXPECT_EQ(back->sender_type, "acme:p:1");
  EXPECT_EQ(back->chunk.stream_id, "s");
  EXPECT_EQ(back->chunk.sequence, 3u);
  EXPECT_EQ(back->chunk.payload, "data");
  EXPECT_EQ(back->chunk.metadata, c.chunk.metadata);
  EXPECT_EQ(back->chunk.timestamp_ms, -5);
  RemoteStreamChunk latency = c;
  latency.reliable = false;
  latency.chunk.timestamp_ms.reset();
  auto fast = decode_remote_stream(encode_remote_stream(latency));
  ASSERT_TRUE(fast.ok());
  EXPECT_FALSE(fast->reliable);
  EXPECT_EQ(fast->request_id, 0u);  // a tell carries none
  EXPECT_FALSE(fast->chunk.timestamp_ms.has_value());
  auto refused = [](const Bytes& frame, const std::string& field) {
    auto d = decode_remote_stream(frame);
    ASSERT_FALSE(d.ok()) << field;
    EXPECT_EQ(d.error().code, ClusterErrc::kMalformed);
    EXPECT_NE(d.error().detail.find(field), std::string::npos) << d.error().detail;
  };
  RemoteStreamChunk bad = c;
  bad.time_left_ms = 0;
  refused(encode_remote_stream(bad), "time left");
  bad = c;
  bad.to_serial = 0;
  refused(encode_remote_stream(bad), "target serial");
  bad = c;
  bad.chunk.stream_id.assign(kMaxRemoteStreamIdBytes + 1, 's');
  refused(encode_remote_stream(bad), "stream id");
  EXPECT_FALSE(check_remote_stream(bad.chunk).ok());
  bad = c;
  bad.chunk.metadata.assign(kMaxRemoteStreamMetadata + 1, {"k", "v"});
  refused(encode_remote_stream(bad), "metadata count");
  EXPECT_FALSE(check_remote_stream(bad.chunk).ok());
  bad = c;
  bad.chunk.metadata = {{std::string(kMaxRemoteStreamMetadataBytes + 1, 'k'), "v"}};
  refused(encode_remote_stream(bad), "metadata key");
  EXPECT_FALSE(check_remote_stream(bad.chunk).ok());
  Bytes kind = encode_remote_stream(c);
  kind[0] = 2;
  refused(kind, "kind");
  Bytes flag = encode_remote_stream(c);
  flag[1 + 8 + 4 + 8 + 8 + 2 + 8 + 2 + 1 + 8] = 2;  // the timestamp flag: 0 or 1
  refused(flag, "timestamp flag");
  const Bytes full = encode_remote_stream(c);
  for (std::size_t n = 0; n + 4 < full.size(); ++n) {  // every cut before the payload
    EXPECT_FALSE(decode_remote_stream(BytesView(full).substr(0, n)).ok()) << n;
  }
  EXPECT_TRUE(check_remote_stream(c.chunk).ok());
}

// A supervisor here with a child on b (RemoteActors::child_factory): the child answers through
// its local stand-in (also what was sent before the remote actor existed), a remote death is
// restarted by the local supervisor as a new remote spawn, and stopping the supervisor stops
// the remote actor.
TEST_F(RemoteSpawnTest, ALocalSupervisorRestartsItsChildOnAnotherNodeAndStopsIt) {
  RemoteChildSpec spec;
  spec.nodes = {b.id()};
  spec.package = std::make_shared<const Bytes>("package");
  spec.name = "remote-child";
  auto factory = a.cluster->remote()->child_factory(spec);
  ASSERT_TRUE(factory.ok()) << factory.error().to_string();
  SupervisorOptions options;
  options.max_restarts = 5;
  ActorRef sup = a.system->spawn(
      std::make_unique<Supervisor>(
          options, std::vector<ChildSpec>{ChildSpec{
                       "child", "remote", *factory, RestartPolicy::kPermanent, {}}}),
      SpawnOptions{"sup", "supervisor", {}, {}});
  ActorRef child;
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(child = a.system->find("child")); }));
  // Asked at once: it waits for the spawn, then goes through.
  auto first = a.system->ask<Bytes>(child, envelope("echo", "early"), std::chrono::seconds(5));
  auto early = first.get();
  ASSERT_TRUE(early.ok()) << early.error().to_string();
  EXPECT_EQ(*early, "early");
  ActorRef remote = b.system->find("remote-child");
  ASSERT_TRUE(remote);
  EXPECT_EQ(requests.at(0).restart, 2);  // temporary there: restarts are ours
  // The remote actor dies: the stand-in dies of it, and the supervisor here makes a new one.
  b.system->stop(remote, ExitReason::error("boom"));
  ActorRef again;
  ASSERT_TRUE(eventually([&] {
    again = b.system->find("remote-child");
    return again && again.id() != remote.id();
  }));
  ASSERT_TRUE(eventually([&] {
    auto r = a.system->ask<Bytes>(child, envelope("echo", "after"), std::chrono::seconds(5)).get();
    return r.ok() && *r == "after";
  }));
  EXPECT_TRUE(child.alive());  // restarted in place: the same local reference
  // Stopping the supervisor stops its child there too.
  a.system->stop(sup, ExitReason::shutdown());
  ASSERT_TRUE(eventually([&] { return !again.alive(); }));
}

// A pool here whose workers live on two other nodes, taken in turn.
TEST_F(RemoteSpawnTest, APoolsWorkersSpreadOverOtherNodesAndAnswer) {
  Node c;
  std::atomic<int> on_c{0};
  c.options.mesh.allow = {a.identity};
  c.options.mesh.join = {a.cluster->listening().front()};
  c.options.spawn_handler = [&](NodeId, RemoteSpawn,
                                std::function<void(Result<RemoteSpawned>)> done) {
    on_c.fetch_add(1);
    ActorRef spawned =
        c.system->spawn(std::make_unique<Service>(), SpawnOptions{"", "service", {}, {}});
    done(RemoteSpawned{spawned.id().serial, "service"});
  };
  a.options.mesh.allow.push_back(c.identity);
  ASSERT_TRUE(a.cluster->allow(c.identity).ok());
  c.start();
  ASSERT_TRUE(eventually([&] { return a.cluster->transport().connected(c.id()); }));
  RemoteChildSpec spec;
  spec.nodes = {b.id(), c.id()};
  spec.package = std::make_shared<const Bytes>("package");
  auto factory = a.cluster->remote()->child_factory(spec);
  ASSERT_TRUE(factory.ok());
  PoolOptions po;
  po.size = 4;
  po.factory = *factory;
  ActorRef pool = a.system->spawn(std::make_unique<Pool>(po), SpawnOptions{"pool", "pool", {}, {}});
  for (int i = 0; i < 8; ++i) {
    auto r =
        a.system->ask<Bytes>(pool, envelope("echo", std::to_string(i)), std::chrono::seconds(5))
            .get();
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(*r, std::to_string(i));
  }
  EXPECT_EQ(on_c.load(), 2);
  std::lock_guard lock(mutex);
  EXPECT_EQ(requests.size(), 2u);
}

// Factories refuse what cannot work; a child whose node is gone fails its spawns, and its
// supervisor gives up within its intensity instead of waiting.
TEST_F(RemoteSpawnTest, ARemoteChildWhoseNodeIsGoneFailsAndItsSupervisorGivesUp) {
  RemoteChildSpec spec;
  EXPECT_FALSE(a.cluster->remote()->child_factory(spec).ok());  // no node
  spec.nodes = {a.id()};
  spec.package = std::make_shared<const Bytes>("package");
  EXPECT_FALSE(a.cluster->remote()->child_factory(spec).ok());  // this node
  spec.nodes = {b.id()};
  spec.package = std::make_shared<const Bytes>();
  EXPECT_FALSE(a.cluster->remote()->child_factory(spec).ok());  // no package
  spec.package = std::make_shared<const Bytes>("package");
  auto factory = a.cluster->remote()->child_factory(spec);
  ASSERT_TRUE(factory.ok());
  SupervisorOptions options;
  options.max_restarts = 3;
  ActorRef sup = a.system->spawn(
      std::make_unique<Supervisor>(
          options, std::vector<ChildSpec>{ChildSpec{
                       "child", "remote", *factory, RestartPolicy::kPermanent, {}}}),
      SpawnOptions{"sup", "supervisor", {}, {}});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return requests.size() == 1;
  }));
  testing::Probe downs;
  a.system->spawn(std::make_unique<Observer>(sup, false, downs));
  b.cluster.reset();  // gone without a word
  ASSERT_TRUE(downs.wait_count(1, std::chrono::seconds(15)));
  EXPECT_NE(downs.events()[0].find("error"), std::string::npos) << downs.events()[0];
}

// Review finding (third review): a DOWN lost with its connection left the proxy alive for good.
// When the connection comes up again the node watches its proxies' actors again, and one that
// died meanwhile is reported (noproc: how it died went unheard).
TEST(RemoteActorsReconnect, AProxyWhoseDownWasLostWithTheConnectionHearsOfTheDeathOnReconnect) {
  Node a, b;
  a.options.swim = SwimConfig{};  // LAN timing: the short cut below is not taken for a death
  b.options.swim = SwimConfig{};
  testing::start_pair(a, b);
  ActorRef service =
      b.system->spawn(std::make_unique<Service>(), SpawnOptions{"svc", "service", {}, {}});
  ASSERT_TRUE(eventually([&] { return a.cluster->transport().connected(b.id()); }));
  auto proxy = a.cluster->remote()->proxy(service.id(), "service");
  ASSERT_TRUE(proxy.ok());
  testing::Probe downs;
  const int before = Observer::started.load();
  a.system->spawn(std::make_unique<Observer>(*proxy, false, downs));
  ASSERT_TRUE(eventually([&] { return Observer::started.load() > before; }));
  // The WATCH went ahead of this ask (system lane first), so b holds it once the ask is answered.
  ASSERT_TRUE(a.system->ask<Bytes>(*proxy, envelope("echo"), std::chrono::seconds(5)).get().ok());
  // Cut: a refuses b, and the service dies while they are apart; its DOWN cannot be sent.
  ASSERT_TRUE(a.cluster->disallow(b.identity).ok());
  ASSERT_TRUE(eventually([&] { return !b.cluster->transport().connected(a.id()); }));
  b.system->stop(service, ExitReason::error("boom"));
  ASSERT_TRUE(eventually([&] { return b.cluster->remote()->counters().unsent_downs == 1; }));
  EXPECT_EQ(downs.size(), 0u);
  // Together again before either is declared dead: the re-WATCH learns of the death.
  ASSERT_TRUE(a.cluster->allow(b.identity).ok());
  ASSERT_TRUE(downs.wait_count(1, std::chrono::seconds(10)));
  EXPECT_NE(downs.events()[0].find("noproc"), std::string::npos) << downs.events()[0];
  EXPECT_FALSE(proxy->alive());
  EXPECT_NE(a.cluster->members()[1].state, MemberState::kDead);  // not noconnection: a DOWN
}

// Review finding: an ENVELOPE's caller was believed whatever node it named, so a peer could
// pass off another node's actor under a type of its choosing (guests then trusted it). A caller
// of another node than the sender's is cleared and counted; the sender's own actors are kept.
TEST_F(RemoteActorsTest, APeerSpeaksOnlyForItsOwnActorsAsCallers) {
  auto caller_seen = [&](ActorId caller) {
    RemoteEnvelope forged;
    forged.to_serial = service.id().serial;
    forged.envelope.kind = EnvelopeKind::kRequest;
    forged.envelope.route = "caller";
    forged.envelope.request_id = 777;
    forged.envelope.caller = caller;
    forged.envelope.caller_type = "acme:vault:1.0.0";
    forged.time_left_ms = 5000;
    std::promise<Result<Bytes>> done;
    a.cluster->remote()->ask(b.id(), service.id().serial, "", forged.envelope,
                             std::chrono::seconds(5),
                             [&done](Result<Bytes> r) { done.set_value(std::move(r)); });
    auto r = done.get_future().get();
    return r.ok() ? *r : r.error().to_string();
  };
  const ActorId other{0x1234abcdULL, 5};
  EXPECT_EQ(caller_seen(other), ActorId{}.to_string() + "|");
  EXPECT_EQ(b.cluster->remote()->counters().forged_callers, 1u);
  const ActorId own{a.id(), 9};
  EXPECT_EQ(caller_seen(own), own.to_string() + "|acme:vault:1.0.0");
  EXPECT_EQ(b.cluster->remote()->counters().forged_callers, 1u);
}

// Review findings: a stand-in whose node was declared dead left its actor running there for
// good (a leak per partition, and "name taken" for named children); and a target busy with
// other spawns failed a pool at once. A linked SPAWN's actor stops when the asking node goes;
// an overloaded answer is retried by the stand-in.
TEST_F(RemoteSpawnTest, ALinkedSpawnsActorStopsWhenTheAskingNodeGoes) {
  // b must know a as a member to declare it dead (connected is not enough).
  ASSERT_TRUE(eventually([&] {
    for (const Member& m : b.cluster->members()) {
      if (m.id == a.id() && m.state == MemberState::kAlive) return true;
    }
    return false;
  }));
  RemoteSpawn r;
  r.name = "tied";
  r.linked = true;
  r.package = Bytes("package");
  auto done = spawn(*a.cluster->remote(), b.id(), r, std::chrono::seconds(5)).get();
  ASSERT_TRUE(done.ok());
  RemoteSpawn loose = r;
  loose.name = "free";
  loose.linked = false;
  ASSERT_TRUE(spawn(*a.cluster->remote(), b.id(), loose, std::chrono::seconds(5)).get().ok());
  ActorRef tied = b.system->find("tied");
  ActorRef untied = b.system->find("free");
  ASSERT_TRUE(tied && untied);
  a.cluster.reset();  // gone without a word: b declares it dead
  ASSERT_TRUE(eventually([&] { return !tied.alive(); }, std::chrono::seconds(10)));
  EXPECT_EQ(tied.cell()->exit_reason().kind, ExitReason::Kind::kNoConnection);
  EXPECT_TRUE(untied.alive());  // `troupe spawn --node` actors belong to the target
}

TEST_F(RemoteSpawnTest, ARemoteChildRetriesATargetThatIsBusy) {
  {
    std::lock_guard lock(mutex);
    refuse_first = 3;
  }
  RemoteChildSpec spec;
  spec.nodes = {b.id()};
  spec.package = std::make_shared<const Bytes>("package");
  spec.name = "busy-child";
  auto factory = a.cluster->remote()->child_factory(spec);
  ASSERT_TRUE(factory.ok());
  SupervisorOptions options;
  options.max_restarts = 1;  // a failure per refusal would exceed it
  ActorRef sup = a.system->spawn(
      std::make_unique<Supervisor>(
          options, std::vector<ChildSpec>{ChildSpec{
                       "child", "remote", *factory, RestartPolicy::kPermanent, {}}}),
      SpawnOptions{"sup", "supervisor", {}, {}});
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(b.system->find("busy-child")); },
                         std::chrono::seconds(10)));
  EXPECT_TRUE(sup.alive());
  std::lock_guard lock(mutex);
  EXPECT_EQ(requests.size(), 4u);
  EXPECT_TRUE(requests.back().linked);
}

// Review findings (fifth review): a spawn answered after the asker's deadline left an actor
// nobody supervises; the target stops it and answers timed-out. And a peer inventing callers of
// its own made stand-ins without bound; they are capped per peer.
TEST_F(RemoteSpawnTest, ASpawnCompletedAfterTheAskersDeadlineIsStoppedAgain) {
  {
    std::lock_guard lock(mutex);
    hold = true;
  }
  RemoteSpawn r;
  r.name = "late";
  r.package = Bytes("package");
  const auto t0 = std::chrono::steady_clock::now();
  auto asked = spawn(*a.cluster->remote(), b.id(), r, std::chrono::milliseconds(200));
  EXPECT_EQ(asked.get().error().code, BaseErrc::kTimedOut);  // a gave up
  // b counts the 200 ms from when the SPAWN reached it: past that too (the time must pass).
  std::this_thread::sleep_until(t0 + std::chrono::milliseconds(600));
  std::function<void(Result<RemoteSpawned>)> done;
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(held.size(), 1u);
    done = std::move(held[0]);
  }
  ActorRef late =
      b.system->spawn(std::make_unique<Service>(), SpawnOptions{"late", "service", {}, {}});
  done(RemoteSpawned{late.id().serial, "service"});
  ASSERT_TRUE(eventually([&] { return !late.alive(); }));
}

TEST(RemoteActorsCaps, StandInsForOneNodesActorsAreCapped) {
  Node a, m;  // m answers no WATCH: it runs no actors
  m.options.system = nullptr;
  a.options.mesh.allow = {m.identity};
  m.options.mesh.allow = {a.identity};
  a.start();
  m.options.mesh.join = {a.cluster->listening().front()};
  m.cluster = Cluster::start(m.options, net::noise_key_pair_of(m.secret).value()).value();
  ASSERT_TRUE(eventually([&] { return a.cluster->transport().connected(m.id()); }));
  for (std::uint64_t serial = 1; serial <= RemoteActors::kMaxProxiesPerPeer; ++serial) {
    ASSERT_TRUE(a.cluster->remote()->proxy(ActorId{m.id(), serial}, "acme:x:1").ok()) << serial;
  }
  auto over = a.cluster->remote()->proxy(ActorId{m.id(), RemoteActors::kMaxProxiesPerPeer + 1});
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, NetErrc::kOverloaded);
  EXPECT_EQ(a.cluster->remote()->counters().proxies_refused, 1u);
  // One that exists is still found.
  EXPECT_TRUE(a.cluster->remote()->proxy(ActorId{m.id(), 1}).ok());
}

// Review finding: two threads making the proxy of one actor at once both spawned a cell; the
// loser's was never released. Every caller gets the one cell. (Whether a run hits the race is
// chance; the losing spawn itself is tested in ForeignCells.ASecondSpawnForTheSameId...)
TEST_F(RemoteActorsTest, ProxiesMadeAtOnceForOneActorAreOneCell) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  RemoteActors& remote = *a.cluster->remote();
  for (int round = 0; round < kRounds; ++round) {
    ActorRef target = b.system->spawn(std::make_unique<Service>(), typed("service"));
    ASSERT_TRUE(target);
    const ActorId id = target.id();
    const SystemStats before = a.system->stats();
    std::vector<ActorRef> refs(kThreads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        if (auto made = remote.proxy(id, "service"); made.ok()) refs[i] = *made;
      });
    }
    for (auto& t : threads) t.join();
    for (const ActorRef& r : refs) {
      ASSERT_TRUE(r) << "round " << round;
      EXPECT_EQ(r, refs[0]) << "round " << round;
    }
    EXPECT_EQ(a.system->stats().spawned - before.spawned, 1u) << "round " << round;
  }
}

// Review finding: a proxy recorded after RemoteActors::stop() had taken the proxies was never
// stopped: every proxy made around stop() dies, although the actors it stands for live on. The
// window is narrow: without the fix one round in three shows it, so four rounds run.
TEST(RemoteActorsStop, ProxiesMadeWhileRemoteActorsStopsAllDie) {
  constexpr int kRounds = 4;
  constexpr int kActors = 512;
  for (int round = 0; round < kRounds; ++round) {
    Node a, b;
    testing::start_pair(a, b);
    std::vector<ActorId> targets;
    for (int i = 0; i < kActors; ++i) {
      ActorRef r = b.system->spawn(std::make_unique<Service>(), typed("service"));
      ASSERT_TRUE(r);
      targets.push_back(r.id());
    }
    RemoteActors& remote = *a.cluster->remote();
    std::vector<ActorRef> made;  // the maker's until it is joined
    std::atomic<int> count{0};
    std::atomic<bool> stopped{false};
    std::thread maker([&] {
      for (const ActorId& id : targets) {
        const bool after = stopped.load();
        if (auto r = remote.proxy(id, "service"); r.ok()) {
          made.push_back(*r);
          count.fetch_add(1);
        }
        if (after) break;  // one more attempt once stop() has returned
      }
    });
    while (count.load() < 16) std::this_thread::yield();  // the maker is under way
    remote.stop();
    stopped = true;
    maker.join();
    ASSERT_GE(made.size(), 16u);
    for (const ActorRef& r : made) {
      ASSERT_TRUE(eventually([&] { return !r.alive(); }))
          << r.id().to_string() << " stays alive (round " << round << ")";
    }
    // One asked for after stop() is refused.
    EXPECT_FALSE(remote.proxy(targets.back()).ok());
  }
}
}  // namespace
}  // namespace troupe
