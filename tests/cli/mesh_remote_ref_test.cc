// A remote ActorRef across processes: this test's own node (an ActorSystem and a Cluster in the
// test process, tests/cluster/cluster_node.h) joins a `troupe node run` process and reaches the
// node's actors through proxies — tell, ask, monitor and link — and hears of their deaths: an
// actor that fails there, and the whole process killed with SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>

#include "cli/mesh_node.h"
#include "cluster/cluster_node.h"
#include "cluster/observer_actor.h"
#include "probe.h"
#include "troupe/net/noise_static_key.h"
#include "troupe/net/preamble.h"
#include "troupe/runtime/envelope.h"

namespace troupe::testing {
namespace {

Envelope envelope(const std::string& route, const std::string& payload = "") {
  Envelope e;
  e.route = route;
  e.payload = payload;
  return e;
}

// A `troupe node run` process at fast timing, with this process's node joined to it.
struct ProcessAndHere {
  MeshNode there{"mesh-ref"};
  ClusterNode here;

  ::testing::AssertionResult start() {
    std::ofstream(there.dir + "/node.toml")
        << kFastCluster << "[mesh]\nallow = [\"" << net::node_key_text(here.identity) << "\"]\n";
    if (!there.start({"--listen", "127.0.0.1:0"})) {
      return ::testing::AssertionFailure() << "the node process did not start";
    }
    auto key = net::parse_node_key(there.key);
    auto address = net::MeshAddress::parse(there.address);
    if (!key.ok() || !address.ok()) return ::testing::AssertionFailure() << "bad key or address";
    here.options.mesh.allow = {*key};
    here.options.mesh.join = {*address};
    here.start();
    if (!within(std::chrono::seconds(10), [&] {
          return there.members()[net::node_key_text(here.identity)]["state"] == "alive";
        })) {
      return ::testing::AssertionFailure() << there.process->cli({"cluster", "members"}).out;
    }
    return ::testing::AssertionSuccess();
  }

  // A proxy for the actor the process spawns as `kind` named `name`.
  Result<ActorRef> spawn_there(const std::string& kind, const std::string& name) {
    auto spawned = there.process->cli({"spawn", kind, "--name", name});
    if (spawned.code != 0) return Error{BaseErrc::kInternal, spawned.err};
    std::optional<RemoteActors::RemoteName> found;
    if (!within(std::chrono::seconds(5),
                [&] { return (found = here.cluster->remote()->lookup(name)).has_value(); })) {
      return Error{BaseErrc::kNotFound, name + " never reached this node's registry"};
    }
    return here.cluster->remote()->proxy(found->id, found->type);
  }
};

TEST(MeshRemoteRef, TellAskMonitorAndLinkReachAnotherProcessAndAKill9IsOneNoconnection) {
  ProcessAndHere nodes;
  ASSERT_TRUE(nodes.start());
  ActorSystem& sys = *nodes.here.system;

  // Tell and ask through the proxy, in order on one lane.
  auto counter = nodes.spawn_there("counter", "far-counter");
  ASSERT_TRUE(counter.ok()) << counter.error().to_string();
  EXPECT_EQ(counter->id().node, net::node_id_of_identity(*net::parse_node_key(nodes.there.key)));
  for (int i = 0; i < 3; ++i) sys.tell(*counter, envelope("inc"));
  auto got = sys.ask<Bytes>(*counter, envelope("get"), std::chrono::seconds(5)).get();
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(*got, "3");

  // An actor stopped there: its monitors here get its reason. (One that fails is restarted in
  // place by its supervisor, as locally: no DOWN.)
  auto echo = nodes.spawn_there("echo", "far-echo");
  ASSERT_TRUE(echo.ok()) << echo.error().to_string();
  Probe echo_downs;
  const int before = Observer::started.load();
  sys.spawn(std::make_unique<Observer>(*echo, false, echo_downs));
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return Observer::started.load() > before; }));
  // The WATCH went ahead of this ask (system lane first): the process holds it once it answers.
  ASSERT_TRUE(sys.ask<Bytes>(*echo, envelope("any", "x"), std::chrono::seconds(5)).get().ok());
  auto stopped = nodes.there.process->cli({"stop", "far-echo"});
  ASSERT_EQ(stopped.code, 0) << stopped.err;
  ASSERT_TRUE(echo_downs.wait_count(1));
  EXPECT_EQ(echo_downs.events()[0], ExitReason::normal().to_string());  // `troupe stop`'s

  // A local actor linked to a proxy fails: the actor there is taken down with it (its
  // supervisor there restarts it, so its count starts again).
  auto victim = nodes.spawn_there("counter", "far-victim");
  ASSERT_TRUE(victim.ok()) << victim.error().to_string();
  Probe unused;
  const int linking = Observer::started.load();
  ActorRef failing = sys.spawn(std::make_unique<Observer>(*victim, true, unused));
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return Observer::started.load() > linking; }));
  sys.tell(*victim, envelope("inc"));
  auto one = sys.ask<Bytes>(*victim, envelope("get"), std::chrono::seconds(5)).get();
  ASSERT_TRUE(one.ok() && *one == "1");
  sys.tell(failing, envelope("fail", "linked failure"));
  CliResult count;
  EXPECT_TRUE(within(std::chrono::seconds(5),
                     [&] {
                       count = nodes.there.process->cli({"ask", "far-victim", "get"});
                       return count.code == 0 && count.out == "0\n";
                     }))
      << count.out << count.err;

  // kill -9 of the process: the counter's monitor gets noconnection once, the link fires.
  Probe downs, linked_downs;
  const int started = Observer::started.load();
  sys.spawn(std::make_unique<Observer>(*counter, false, downs));
  ActorRef linked = sys.spawn(std::make_unique<Observer>(*counter, true, linked_downs));
  ASSERT_TRUE(
      within(std::chrono::seconds(5), [&] { return Observer::started.load() >= started + 2; }));
  ::kill(nodes.there.process->pid(), SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(downs.wait_count(1, std::chrono::seconds(8)));
  std::printf("kill -9 to DOWN here: %lld ms\n", ms_since(t0));
  EXPECT_EQ(downs.events()[0], ExitReason::noconnection().to_string());
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return !linked.alive(); }));
  ASSERT_TRUE(within(std::chrono::seconds(5), [&] { return !counter->alive(); }));
  // An ask through the dead proxy fails at once, not at its timeout.
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_FALSE(sys.ask<Bytes>(*counter, envelope("get"), std::chrono::seconds(5)).get().ok());
  EXPECT_LT(ms_since(asked), 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a second DOWN would come now
  EXPECT_EQ(downs.size(), 1u);
}

}  // namespace
}  // namespace troupe::testing
