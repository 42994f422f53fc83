// CAF 0.17 side of the mesh benchmarks: the same workloads as troupe_mesh_bench.cc on CAF's
// remote actors (libcaf_io: the serving process `publish`es its actor, the driver gets a
// handle with `remote_actor`), written the same way: function-based (event-based) actors with
// their state in a shared block, the same messages, the same window, the same work inside the
// timed region. CAF's remote traffic is not encrypted (that takes libcaf_openssl); troupe's is.
//   caf_mesh_bench WORKLOAD                   (fan_in | ping_pong | bulk)
//   caf_mesh_bench --serve WORKLOAD -         (the second process; the driver starts it)
#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/io/all.hpp"
#include "mesh_common.h"

using namespace caf;
namespace mesh = bench::mesh;

namespace {

using go_atom = atom_constant<atom("go")>;
using ack_atom = atom_constant<atom("ack")>;
using total_atom = atom_constant<atom("total")>;

actor_system_config& config(actor_system_config& cfg) {
  cfg.load<io::middleman>();
  cfg.set("scheduler.max-threads", bench::kWorkers);
  cfg.set("logger.verbosity", atom("quiet"));
  return cfg;
}

const auto kTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(mesh::kPatience);

// The serving process: the target actor, published on 127.0.0.1, until stdin closes.
int serve(const std::string& workload) {
  actor_system_config cfg;
  actor_system sys{config(cfg)};
  actor target;
  if (workload == "ping_pong") {
    // Answers each ask with its payload.
    target = sys.spawn([](event_based_actor*) -> behavior { return {[](int n) { return n; }}; });
  } else {
    // Counts what it is sent; answers an ask once it has counted it (total_atom: the count).
    target = sys.spawn([](event_based_actor*) -> behavior {
      auto count = std::make_shared<long>(0);
      return {[count](int) { ++*count; },
              [count](ack_atom, int) {
                ++*count;
                return 0;
              },
              [count](const std::string&) { ++*count; },
              [count](ack_atom, const std::string&) {
                ++*count;
                return 0;
              },
              [count](total_atom) { return *count; }};
    });
  }
  auto port = sys.middleman().publish(target, 0, "127.0.0.1");
  if (!port) mesh::fail("publish: " + sys.render(port.error()));
  std::printf("READY 127.0.0.1:%u -\n", static_cast<unsigned>(*port));
  std::fflush(stdout);
  mesh::serve_until_stdin_closes();
  anon_send_exit(target, exit_reason::user_shutdown);
  return 0;
}

// A sender: sends `total` messages with `payload` to `target` through the window.
struct Sender {
  event_based_actor* self;
  actor target;
  mesh::Window window;
  std::string payload;  // empty: each message carries its index
  std::function<void()> on_done;

  void tell(int i) {
    if (payload.empty()) {
      self->send(target, i);
    } else {
      self->send(target, payload);
    }
  }
  void ask(int i, const std::shared_ptr<Sender>& me) {
    auto on_reply = [me](int) {
      if (me->window.answered([&](int k) { me->tell(k); }, [&](int k) { me->ask(k, me); })) {
        me->on_done();
      }
    };
    auto on_error = [](error& e) { mesh::fail("an ack failed: " + to_string(e)); };
    if (payload.empty()) {
      self->request(target, kTimeout, ack_atom::value, i).then(on_reply, on_error);
    } else {
      self->request(target, kTimeout, ack_atom::value, payload).then(on_reply, on_error);
    }
  }
};

// K senders, each sending `per_sender` messages to the target; seconds from the first start
// message until every sender's last ack is in.
double run_senders(actor_system& sys, const actor& target, int senders, int per_sender, int window,
                   const std::string& payload) {
  bench::Done done;
  std::atomic<int> left{senders};
  std::vector<actor> refs;
  for (int s = 0; s < senders; ++s) {
    refs.push_back(sys.spawn([&, target](event_based_actor* self) -> behavior {
      auto me = std::make_shared<Sender>(
          Sender{self, target, mesh::Window{per_sender, window}, payload, [&done, &left] {
                   if (left.fetch_sub(1) == 1) done.set();
                 }});
      return {[me](go_atom) {
        me->window.start([&](int k) { me->tell(k); }, [&](int k) { me->ask(k, me); });
      }};
    }));
  }
  const double t0 = bench::now_s();
  for (auto& r : refs) anon_send(r, go_atom::value);
  done.wait();
  const double t = bench::now_s() - t0;
  for (auto& r : refs) anon_send_exit(r, exit_reason::user_shutdown);
  return t;
}

// The count the target holds, checked against what was sent: a dropped message fails the run.
void check_total(actor_system& sys, const actor& target, long expected) {
  scoped_actor scope{sys};
  scope->request(target, kTimeout, total_atom::value)
      .receive(
          [&](long total) {
            if (total != expected) {
              mesh::fail("the target counted " + std::to_string(total) + " of " +
                         std::to_string(expected) + " messages (some were dropped)");
            }
          },
          [&](error& e) { mesh::fail("total: " + to_string(e)); });
}

int drive(const std::string& workload) {
  mesh::ServingProcess server({"--serve", workload, "-"});
  auto ready = server.wait_ready();
  if (!ready) mesh::fail("the serving process did not get ready");
  std::istringstream line(*ready);
  std::string address;
  line >> address;
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) mesh::fail("a bad readiness line: " + *ready);
  const auto port = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));

  actor_system_config cfg;
  actor_system sys{config(cfg)};
  auto target = sys.middleman().remote_actor(address.substr(0, colon), port);
  if (!target) mesh::fail("remote_actor: " + sys.render(target.error()));

  if (workload == "fan_in") {
    const long total = static_cast<long>(mesh::kFanInSenders) * mesh::kFanInPerSender;
    const double t = run_senders(sys, *target, mesh::kFanInSenders, mesh::kFanInPerSender,
                                 mesh::kFanInWindow, std::string{});
    check_total(sys, *target, total);
    bench::report("caf", "mesh_fan_in", "msg_per_s", static_cast<double>(total) / t);
  } else if (workload == "ping_pong") {
    bench::Done done;
    struct Pinger {
      event_based_actor* self;
      actor target;
      bench::Done& done;
      void next(int n, const std::shared_ptr<Pinger>& me) {
        self->request(target, kTimeout, n)
            .then(
                [me, n](int m) {
                  if (m != n) mesh::fail("a pong with the wrong number");
                  if (n + 1 == mesh::kPingPongRounds) return me->done.set();
                  me->next(n + 1, me);
                },
                [](error& e) { mesh::fail("a ping failed: " + to_string(e)); });
      }
    };
    auto pinger = sys.spawn([&](event_based_actor* self) -> behavior {
      auto me = std::make_shared<Pinger>(Pinger{self, *target, done});
      return {[me](go_atom) { me->next(0, me); }};
    });
    const double t0 = bench::now_s();
    anon_send(pinger, go_atom::value);
    done.wait();
    const double t = bench::now_s() - t0;
    anon_send_exit(pinger, exit_reason::user_shutdown);
    bench::report("caf", "mesh_ping_pong", "rtt_us", t * 1e6 / mesh::kPingPongRounds);
  } else {
    std::string payload(mesh::kBulkBytes, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
    const double t = run_senders(sys, *target, 1, mesh::kBulkMessages, mesh::kBulkWindow, payload);
    check_total(sys, *target, mesh::kBulkMessages);
    const double bytes = static_cast<double>(payload.size()) * mesh::kBulkMessages;
    bench::report("caf", "mesh_bulk", "mb_per_s", bytes / t / 1e6);
  }
  if (server.finish() != 0) mesh::fail("the serving process failed");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = "usage: caf_mesh_bench fan_in|ping_pong|bulk  (or --serve WORKLOAD -)";
  if (argc == 4 && std::string(argv[1]) == "--serve") return serve(argv[2]);
  if (argc != 2) mesh::fail(usage);
  const std::string w = argv[1];
  if (w != "fan_in" && w != "ping_pong" && w != "bulk") mesh::fail(usage);
  return drive(w);
}
