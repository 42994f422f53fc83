// troupe side of the mesh benchmarks: two processes on 127.0.0.1, each an ActorSystem with a
// Cluster (the real mesh: Noise XX, encrypted frames on lanes), the driver's actors talking to
// an actor of the other process through a proxy ActorRef (RemoteActors::proxy), as CAF's talk
// to a remote actor handle. bench/caf_mesh_bench.cc runs the same workloads on CAF 0.17's
// remote actors, written the same way: function-based actors with their state in a shared
// block, the same messages, the same window, the same work inside the timed region. A change
// to one side is made to the other.
//   troupe_mesh_bench WORKLOAD                       (fan_in | ping_pong | bulk)
//   troupe_mesh_bench --serve WORKLOAD DRIVER_KEY    (the second process; the driver starts it)
//   troupe_mesh_bench --serve pipe BYTES             (bulk's sealed pipe, bench/sealed_pipe.h)
// bulk also times raw libsodium ChaCha20-Poly1305 over the same bytes on one core, the
// reference of mesh_bulk_vs_aead_ratio, and the sealed pipe between two processes, the
// reference of mesh_bulk_vs_pipe_ratio.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mesh_common.h"
#include "sealed_pipe.h"
#include "troupe/cluster/cluster.h"
#include "troupe/net/noise_static_key.h"
#include "troupe/net/preamble.h"
#include "troupe/runtime/actor_system.h"

using namespace troupe;
namespace mesh = bench::mesh;

namespace {

Bytes int_bytes(int n) { return Bytes(reinterpret_cast<const char*>(&n), sizeof n); }
int int_of(const Bytes& b) {
  int n = -1;
  if (b.size() == sizeof n) std::memcpy(&n, b.data(), sizeof n);
  return n;
}

Envelope envelope(const char* route, Bytes payload) {
  Envelope e;
  e.route = route;
  e.payload = std::move(payload);
  return e;
}

// One process's node: its identity, its actors and its place in the mesh.
struct MeshNode {
  net::NodeKey identity{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret{};
  std::unique_ptr<ActorSystem> system;
  std::unique_ptr<Cluster> cluster;

  MeshNode() { crypto_sign_keypair(identity.data(), secret.data()); }

  void start(const net::NodeKey& peer, std::optional<net::MeshAddress> join) {
    SystemConfig sc;
    sc.workers = bench::kWorkers;
    sc.node_id = net::node_id_of_identity(identity);
    system = std::make_unique<ActorSystem>(sc);
    Cluster::Options o;
    o.mesh.listen = {net::MeshAddress::parse("127.0.0.1:0", true).value()};
    if (join) o.mesh.join = {*join};
    o.mesh.allow = {peer};
    o.identity = identity;
    o.incarnation = 1ULL << 32;
    o.system = system.get();
    auto started = Cluster::start(o, net::noise_key_pair_of(secret).value());
    if (!started.ok()) mesh::fail("cluster: " + started.error().to_string());
    cluster = std::move(started).value();
  }
  void stop() {
    if (cluster) cluster->stop();
    if (system) system->shutdown();
  }
};

// The serving process: the target actor, registered as "target", until stdin closes.
int serve(const std::string& workload, const std::string& driver_key) {
  auto peer = net::parse_node_key(driver_key);
  if (!peer.ok()) mesh::fail("bad driver key");
  MeshNode node;
  node.start(*peer, std::nullopt);
  SpawnOptions named;
  named.name = "target";
  named.type_name = workload == "ping_pong" ? "pong" : "counter";  // not "actor": internal
  if (workload == "ping_pong") {
    // Answers each ask with its payload.
    node.system->spawn_fn(
        [](Actor&) { return Behavior([](Envelope& e) -> Bytes { return std::move(e.payload); }); },
        named);
  } else {
    // Counts what it is sent; answers an ask once it has counted it ("total": the count).
    node.system->spawn_fn(
        [](Actor&) {
          auto count = std::make_shared<long>(0);
          return Behavior([count](Envelope& e) -> Bytes {
            if (e.route == "total") return std::to_string(*count);
            ++*count;
            return Bytes{};
          });
        },
        named);
  }
  std::printf("READY %s %s\n", node.cluster->listening().front().to_string().c_str(),
              net::node_key_text(node.identity).c_str());
  std::fflush(stdout);
  mesh::serve_until_stdin_closes();
  node.stop();
  return 0;
}

// A sender: sends `total` messages with `payload` to `target` through the window.
struct Sender {
  Actor& self;
  ActorRef target;
  mesh::Window window;
  Bytes payload;  // empty: each message carries its index
  std::function<void()> on_done;

  void tell(int i) { self.tell(target, envelope("n", payload.empty() ? int_bytes(i) : payload)); }
  void ask(int i, const std::shared_ptr<Sender>& me) {
    self.ask<Bytes>(
        target, envelope("ack", payload.empty() ? int_bytes(i) : payload), mesh::kPatience,
        [me](Result<Bytes> r) {
          if (!r.ok()) mesh::fail("an ack failed: " + r.error().to_string());
          if (me->window.answered([&](int k) { me->tell(k); }, [&](int k) { me->ask(k, me); })) {
            me->on_done();
          }
        });
  }
};

struct Go {};

// K senders, each sending `per_sender` messages to the target; seconds from the first start
// message until every sender's last ack is in.
double run_senders(ActorSystem& sys, const ActorRef& target, int senders, int per_sender,
                   int window, const Bytes& payload) {
  bench::Done done;
  std::atomic<int> left{senders};
  std::vector<ActorRef> refs;
  for (int s = 0; s < senders; ++s) {
    refs.push_back(sys.spawn_fn([&, target](Actor& self) {
      auto me = std::make_shared<Sender>(
          Sender{self, target, mesh::Window{per_sender, window}, payload, [&done, &left] {
                   if (left.fetch_sub(1) == 1) done.set();
                 }});
      return Behavior([me](Go&) {
        me->window.start([&](int k) { me->tell(k); }, [&](int k) { me->ask(k, me); });
      });
    }));
  }
  const double t0 = bench::now_s();
  for (auto& r : refs) sys.tell(r, Go{});
  done.wait();
  const double t = bench::now_s() - t0;
  for (auto& r : refs) sys.stop(r);
  return t;
}

// The count the target holds, checked against what was sent: a dropped message fails the run.
void check_total(ActorSystem& sys, const ActorRef& target, long expected) {
  auto total = sys.ask<Bytes>(target, envelope("total", {}), mesh::kPatience).get();
  if (!total.ok()) mesh::fail("total: " + total.error().to_string());
  if (std::stol(*total) != expected) {
    mesh::fail("the target counted " + *total + " of " + std::to_string(expected) +
               " messages (some were dropped)");
  }
}

// Raw ChaCha20-Poly1305 (IETF) over `messages` messages of `bytes`, one call each, one core:
// MB/s of plaintext.
double aead_mb_per_s(const Bytes& payload, int messages) {
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_KEYBYTES> key{};
  std::array<unsigned char, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  crypto_aead_chacha20poly1305_ietf_keygen(key.data());
  std::vector<unsigned char> out(payload.size() + crypto_aead_chacha20poly1305_ietf_ABYTES);
  unsigned long long out_len = 0;
  unsigned char sink = 0;
  const double t0 = bench::now_s();
  for (int i = 0; i < messages; ++i) {
    sodium_increment(nonce.data(), nonce.size());
    crypto_aead_chacha20poly1305_ietf_encrypt(
        out.data(), &out_len, reinterpret_cast<const unsigned char*>(payload.data()),
        payload.size(), nullptr, 0, nullptr, nonce.data(), key.data());
    sink ^= out[static_cast<std::size_t>(i) % out_len];
  }
  const double t = bench::now_s() - t0;
  if (sink == 0x5a && out_len == 0) std::puts("");  // keep the work observable
  return static_cast<double>(payload.size()) * messages / t / 1e6;
}

// Bulk's message: 64 KiB of a fixed pattern.
Bytes bulk_payload() {
  Bytes payload(mesh::kBulkBytes, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
  return payload;
}

int drive(const std::string& workload) {
  MeshNode node;
  const Bytes payload = bulk_payload();
  mesh::ServingProcess server({"--serve", workload, net::node_key_text(node.identity)});
  // Bulk's sealed pipe: started now, while this process has one thread (it forks); it waits
  // in accept() until the troupe run is over.
  std::optional<mesh::ServingProcess> pipe;
  if (workload == "bulk") {
    pipe.emplace(std::vector<std::string>{
        "--serve", "pipe",
        std::to_string(static_cast<long long>(payload.size()) * mesh::kBulkMessages)});
  }
  auto ready = server.wait_ready();
  if (!ready) mesh::fail("the serving process did not get ready");
  std::istringstream line(*ready);
  std::string address, key;
  line >> address >> key;
  auto peer = net::parse_node_key(key);
  auto join = net::MeshAddress::parse(address);
  if (!peer.ok() || !join.ok()) mesh::fail("a bad readiness line: " + *ready);
  node.start(*peer, *join);

  // The target's name reaches this node in the other's registry announcement.
  const auto deadline = std::chrono::steady_clock::now() + mesh::kPatience;
  std::optional<RemoteActors::RemoteName> found;
  while (!(found = node.cluster->remote()->lookup("target"))) {
    if (std::chrono::steady_clock::now() > deadline) mesh::fail("no 'target' on the other node");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto target = node.cluster->remote()->proxy(found->id, found->type);
  if (!target.ok()) mesh::fail("proxy: " + target.error().to_string());
  ActorSystem& sys = *node.system;

  if (workload == "fan_in") {
    const long total = static_cast<long>(mesh::kFanInSenders) * mesh::kFanInPerSender;
    const double t = run_senders(sys, *target, mesh::kFanInSenders, mesh::kFanInPerSender,
                                 mesh::kFanInWindow, Bytes{});
    check_total(sys, *target, total);
    bench::report("troupe", "mesh_fan_in", "msg_per_s", static_cast<double>(total) / t);
  } else if (workload == "ping_pong") {
    bench::Done done;
    struct Pinger {
      Actor& self;
      ActorRef target;
      bench::Done& done;
      void next(int n, const std::shared_ptr<Pinger>& me) {
        self.ask<Bytes>(target, envelope("ping", int_bytes(n)), mesh::kPatience,
                        [me, n](Result<Bytes> r) {
                          if (!r.ok()) mesh::fail("a ping failed: " + r.error().to_string());
                          if (int_of(*r) != n) mesh::fail("a pong with the wrong number");
                          if (n + 1 == mesh::kPingPongRounds) return me->done.set();
                          me->next(n + 1, me);
                        });
      }
    };
    ActorRef pinger = sys.spawn_fn([&](Actor& self) {
      auto me = std::make_shared<Pinger>(Pinger{self, *target, done});
      return Behavior([me](Go&) { me->next(0, me); });
    });
    const double t0 = bench::now_s();
    sys.tell(pinger, Go{});
    done.wait();
    const double t = bench::now_s() - t0;
    sys.stop(pinger);
    bench::report("troupe", "mesh_ping_pong", "rtt_us", t * 1e6 / mesh::kPingPongRounds);
  } else {
    const double t = run_senders(sys, *target, 1, mesh::kBulkMessages, mesh::kBulkWindow, payload);
    check_total(sys, *target, mesh::kBulkMessages);
    const double bytes = static_cast<double>(payload.size()) * mesh::kBulkMessages;
    bench::report("troupe", "mesh_bulk", "mb_per_s", bytes / t / 1e6);
    node.stop();
    if (server.finish() != 0) mesh::fail("the serving process failed");
    // The references, with both nodes gone: nothing else runs beside them.
    auto port = pipe->wait_ready();
    if (!port) mesh::fail("the sealed pipe's process did not get ready");
    bench::report("pipe", "mesh_bulk", "mb_per_s",
                  mesh::sealed_pipe_mb_per_s(static_cast<unsigned>(std::stoul(*port)), payload,
                                             mesh::kBulkMessages));
    if (pipe->finish() != 0) mesh::fail("the sealed pipe's process failed");
    bench::report("aead", "mesh_bulk", "mb_per_s", aead_mb_per_s(payload, mesh::kBulkMessages));
    return 0;
  }
  node.stop();
  if (server.finish() != 0) mesh::fail("the serving process failed");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) mesh::fail("libsodium did not initialise");
  spdlog::set_level(spdlog::level::warn);  // not the mesh's connection news
  const std::string usage =
      "usage: troupe_mesh_bench fan_in|ping_pong|bulk  (or --serve WORKLOAD DRIVER_KEY)";
  if (argc == 4 && std::string(argv[1]) == "--serve") {
    if (std::string(argv[2]) == "pipe") return mesh::serve_sealed_pipe(std::stoll(argv[3]));
    return serve(argv[2], argv[3]);
  }
  if (argc != 2) mesh::fail(usage);
  const std::string w = argv[1];
  if (w != "fan_in" && w != "ping_pong" && w != "bulk") mesh::fail(usage);
  return drive(w);
}
