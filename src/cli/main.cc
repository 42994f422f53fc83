// troupe: the one command-line tool. `troupe node run` runs a node in the foreground; every
// other subcommand talks to a running node over its control socket.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "call_command.h"
#include "control_client.h"
#include "example_actors.h"
#include "limit_flags.h"
#include "pkg_command.h"
#include "troupe/base/encoding.h"
#include "troupe/node/control_protocol.h"
#include "troupe/node/node.h"
#include "troupe/node/regular_file.h"
#include "troupe/platform/signing_key.h"

namespace troupe::cli {
namespace {

using nlohmann::json;

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

// Names, kinds and routes travel as JSON strings, so they must be UTF-8 (payloads and file
// names need not be: they travel as base64 when they are not).
bool is_text(const std::string& value, const char* what) {
  if (is_valid_utf8(value)) return true;
  fail(std::string("invalid-argument: the ") + what + " is not valid UTF-8");
  return false;
}

// A `--data-file` payload travels inside one control request (at most control::kMaxFrame,
// 1 MiB), base64 when it is not text: 512 KiB always fits.
constexpr std::size_t kMaxDataFileBytes = std::size_t{512} << 10;

// The first word on the command line that names no (sub)command where one is expected, so that
// `troupe frobnicate` says so instead of "a subcommand is required".
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--socket") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    if (level->get_subcommands({}).empty()) return std::nullopt;  // a positional argument
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : level->get_subcommands({})) {
      if (sub->check_name(word)) next = sub;
    }
    if (next == nullptr) return is_valid_utf8(word) ? word : std::string("(not UTF-8)");
    level = next;
  }
  return std::nullopt;
}

std::string default_socket() {
  if (const char* env = std::getenv("TROUPE_SOCKET"); env && *env) return env;
  return NodeConfig{}.socket_path();
}

// Sends one request; prints the node's error and returns nullopt when it failed.
std::optional<json> request(const std::string& socket, json req,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto client = ControlClient::connect(socket);
  if (!client.ok()) {
    fail(client.error().to_string());
    return std::nullopt;
  }
  auto resp = client->call(std::move(req), timeout);
  if (!resp.ok()) {
    fail(resp.error().to_string());
    return std::nullopt;
  }
  if (!resp->value("ok", false)) {
    fail(resp->value("error", std::string("the node reported an unspecified error")));
    return std::nullopt;
  }
  return *resp;
}

// A standard stream that whoever started the node closed (`troupe node run 2>&-`) would be the
// next descriptor the node opens (asio's event fd, a socket, a key file), and the ready line or
// log lines would be written into it: each closed one is held open on /dev/null instead.
void hold_closed_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // The lowest free descriptor: `fd` itself, as those below it are open.
    const int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (opened >= 0 && opened != fd) ::close(opened);
  }
}

// A node holds keys and guests' data in memory: a crash must not write them to a core file.
// (Decrypted keys also live in sodium_malloc memory, which is left out of dumps; the process
// stays dumpable, as /proc/self — the AOT loader, the memory pool — needs it to stay its own.)
void refuse_core_dumps() {
  const rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

// `troupe node run --listen/--join`: added to (not replacing) the config's [mesh] lists.
struct MeshFlags {
  std::vector<std::string> listen;
  std::vector<std::string> join;
};

// `troupe node id`: the identity in the data directory (made there if it is the first time,
// as the node's first start would), printed as other nodes' allowlists name it.
int run_node_id(const std::string& config_path, const std::string& data_dir) {
  NodeConfig cfg;
  if (!config_path.empty()) {
    auto loaded = NodeConfig::load(config_path);
    if (!loaded.ok()) return fail(loaded.error().to_string());
    cfg = std::move(loaded).value();
  }
  if (!data_dir.empty()) cfg.data_dir = data_dir;
  auto identity = NodeIdentity::load_or_create(cfg.data_dir, /*exclusive=*/false,
                                               NodeIdentity::IdentityUse::kKeyOnly);
  if (!identity.ok()) return fail(identity.error().to_string());
  std::printf("%s\n", identity->public_key_base64().c_str());
  return 0;
}

int run_node(const std::string& config_path, const std::string& socket_override,
             const std::string& data_dir, int workers, int max_connections, int idle_ms,
             bool allow_unsigned, const MeshFlags& mesh) {
  hold_closed_standard_streams();
  refuse_core_dumps();
  NodeConfig cfg;
  if (!config_path.empty()) {
    auto loaded = NodeConfig::load(config_path);
    if (!loaded.ok()) return fail(loaded.error().to_string());
    cfg = std::move(loaded).value();
  }
  if (!data_dir.empty()) cfg.data_dir = data_dir;
  if (!socket_override.empty()) cfg.control_socket = socket_override;
  if (workers >= 0) cfg.workers = static_cast<unsigned>(workers);
  if (max_connections > 0) cfg.control.max_connections = static_cast<std::size_t>(max_connections);
  if (idle_ms > 0) cfg.control.idle_timeout = std::chrono::milliseconds(idle_ms);
  if (allow_unsigned) cfg.platform.allow_unsigned = true;
  for (const auto& [flag, texts, list, zero] :
       {std::tuple{"--listen", &mesh.listen, &cfg.mesh.listen, true},
        std::tuple{"--join", &mesh.join, &cfg.mesh.join, false}}) {
    for (const std::string& text : *texts) {
      auto address = net::MeshAddress::parse(text, zero);
      if (!address.ok()) return fail(std::string("usage: ") + flag + ": " + address.error().detail);
      list->push_back(std::move(address).value());
    }
  }

  // Block the shutdown signals in every thread; this one waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  KindRegistry kinds;
  examples::register_example_kinds(kinds);
  // A SIGINT or SIGTERM during a long boot (many [[actor]] entries) stops it between entries:
  // the signals are blocked, so they wait as pending.
  auto stop_requested = [&signals] {
    sigset_t pending;
    if (sigpending(&pending) != 0) return false;
    return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
  };
  auto node = Node::start(cfg, std::move(kinds), stop_requested);
  if (!node.ok() && stop_requested()) {
    spdlog::info("stopped during boot: {}", node.error().to_string());
    std::printf("troupe node stopped\n");
    return 0;
  }
  if (!node.ok()) return fail(node.error().to_string());
  std::string mesh_part;
  if (Cluster* c = (*node)->cluster()) {
    mesh_part = " mesh=" + (c->advertised_address().empty() ? std::string("dial-only")
                                                            : c->advertised_address());
  }
  std::printf("troupe node ready: node=%llx socket=%s workers=%u%s\n",
              static_cast<unsigned long long>((*node)->system().node_id()),
              cfg.socket_path().c_str(), (*node)->system().scheduler().workers(),
              mesh_part.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*node)->shutdown();
  std::printf("troupe node stopped\n");
  std::fflush(stdout);
  // Nobody may be reading the node's stdout any more: that is not a failure of the node.
  std::clearerr(stdout);
  return 0;
}

void print_tree(const json& actor, const std::string& prefix, bool last, bool top) {
  std::string branch = top ? "" : (last ? "└─ " : "├─ ");
  std::string label = actor.value("name", std::string());
  std::string head = prefix + branch + actor.value("id", std::string("?"));
  if (!label.empty()) head += " (" + label + ")";
  // Pad by display columns: the tree glyphs are several bytes each.
  std::size_t columns = 0;
  for (unsigned char ch : head) columns += (ch & 0xC0) != 0x80;
  if (columns < 34) head.append(34 - columns, ' ');
  std::printf("%s %-16s %8llu %8llu %10llu %10llu\n", head.c_str(),
              actor.value("type", std::string()).c_str(),
              static_cast<unsigned long long>(actor.value("mailbox", 0ULL)),
              static_cast<unsigned long long>(actor.value("restarts", 0ULL)),
              static_cast<unsigned long long>(actor.value("in", 0ULL)),
              static_cast<unsigned long long>(actor.value("out", 0ULL)));
  std::string next = top ? "" : prefix + (last ? "   " : "│  ");
  if (std::string state = actor.value("state", std::string("running")); state != "running") {
    // A reason may carry a guest's or another node's words: shown, never obeyed.
    std::string reason = printable_line(actor.value("reason", std::string()));
    std::printf("%s  %s%s%s\n", next.c_str(), state.c_str(), reason.empty() ? "" : ": ",
                reason.c_str());
  }
  const json& children = actor["children"];
  for (std::size_t i = 0; i < children.size(); ++i) {
    print_tree(children[i], next, i + 1 == children.size(), false);
  }
}

}  // namespace

int run(int argc, char** argv) {
  // A closed stdout (`troupe node run | head -1`, a dead log collector) must not kill the node
  // or the CLI: writes then fail with EPIPE, which the output checks below report.
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"troupe: a secure, distributed actor platform"};
  app.require_subcommand(1);
  // Options a subcommand does not know fall through to this one: `troupe ls --socket X`.
  app.fallthrough();
  std::string socket = default_socket();
  app.add_option("--socket", socket, "control socket of the node (env TROUPE_SOCKET)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  auto* node_cmd = app.add_subcommand("node", "run a node");
  node_cmd->require_subcommand(1);
  auto* node_run = node_cmd->add_subcommand("run", "run a node in the foreground until Ctrl-C");
  std::string config_path, data_dir, node_socket;
  int workers = -1;
  node_run->add_option("--config", config_path, "TOML config file ([node] table)")
      ->check(CLI::ExistingFile);
  node_run->add_option("--data-dir", data_dir, "data directory (default .troupe)");
  node_run->add_option("--workers", workers, "worker threads (0 = one per core)")
      ->check(CLI::Range(0, 1024));
  int max_connections = -1, idle_ms = -1;
  node_run
      ->add_option("--max-control-connections", max_connections,
                   "control connections open at once (default 64, [control] max_connections)")
      ->check(CLI::Range(1, 4096));
  node_run
      ->add_option("--control-idle-ms", idle_ms,
                   "a control connection must send each request, and read each response, "
                   "within this (default 10000, [control] idle_timeout_ms)")
      ->check(CLI::Range(1, 3600000));

  std::vector<std::string> mesh_listen, mesh_join;
  node_run->add_option("--listen", mesh_listen,
                       "take part in a mesh, listening here (HOST:PORT or unix:PATH; [mesh] "
                       "listen)");
  node_run->add_option("--join", mesh_join,
                       "join the mesh through this node (HOST:PORT or unix:PATH; repeatable; "
                       "[mesh] join)");

  auto* node_id = node_cmd->add_subcommand(
      "id", "print this node's identity key (what other nodes' [mesh] allow lists name)");
  node_id->add_option("--config", config_path, "TOML config file (its [node] data_dir)")
      ->check(CLI::ExistingFile);
  node_id->add_option("--data-dir", data_dir, "data directory (default .troupe)");

  bool allow_unsigned = false;
  node_run->add_flag("--allow-unsigned", allow_unsigned,
                     "development: let `spawn --wasm` run unsigned modules (type "
                     "unsigned:<SHA-256 prefix>, no capabilities; [platform] allow_unsigned)");

  auto* spawn = app.add_subcommand("spawn", "spawn an actor of a kind under a supervisor");
  std::string kind, name, supervisor;
  std::string wasm_file, wasm_type, package_file;
  LimitFlags wasm_limits;
  std::string wasm_tier = "auto";
  spawn->add_option("kind", kind, "actor kind (see `troupe status`); omit with --wasm");
  spawn->add_option("--name", name, "register the actor under this name");
  spawn->add_option("--supervisor", supervisor, "parent supervisor (default: root)");
  std::string spawn_node;
  spawn->add_option("--node", spawn_node,
                    "spawn on another node of the mesh (its id, from `troupe cluster members`): "
                    "a --package only, verified against that node's trust store, if it accepts "
                    "remote spawns ([mesh] remote_spawn)");
  auto* package_opt = spawn->add_option(
      "--package", package_file,
      "a signed package (.actr), verified against the node's trust store; its type is its "
      "manifest's manufacturer:name:version");
  spawn
      ->add_option("--wasm", wasm_file,
                   "an unsigned WebAssembly guest (.wasm), when the node allows them")
      ->excludes(package_opt);
  spawn->add_option("--type", wasm_type,
                    "refused for modules and packages (their type is not chosen by the spawner)");
  add_limit_flags(spawn, wasm_limits);  // defaults and maxima: the node's [wasm] table
  spawn->add_option("--tier", wasm_tier,
                    "engine: aot (compile first), interp, or auto (interpreter until the AOT "
                    "build finishes in the background; the default)");

  auto* ls = app.add_subcommand("ls", "list actors as a supervision tree");
  bool ls_cluster = false;
  ls->add_flag("--cluster", ls_cluster, "also the names other nodes of the mesh registered");

  std::string actor, route, data, data_file;
  long long timeout_ms = 0;
  auto* tell = app.add_subcommand("tell", "send a message (fire and forget)");
  auto* ask = app.add_subcommand("ask", "send a request and print the reply");
  for (auto* cmd : {tell, ask}) {
    cmd->add_option("actor", actor, "name or id")->required();
    cmd->add_option("route", route, "route key")->required();
    auto* text = cmd->add_option("data", data, "payload (text)");
    cmd->add_option("--data-file", data_file, "payload (file; any bytes, up to 512 KiB)")
        ->excludes(text);
  }
  ask->add_option("--timeout-ms", timeout_ms, "reply timeout")->check(CLI::Range(1LL, 3600000LL));

  auto* stop = app.add_subcommand("stop", "stop an actor (final: its supervisor forgets it)");
  stop->add_option("actor", actor, "name or id")->required();

  auto* status = app.add_subcommand("status", "node status and the kinds it can spawn");

  CallOptions call_options;
  auto* call = app.add_subcommand(
      "call", "run one WebAssembly guest in-process: on-start, one dispatch, on-stop");
  call->add_option("--wasm", call_options.wasm_file, "guest module (.wasm)")->required();
  call->add_option("--route", call_options.route, "route key of the dispatch")->required();
  call->add_option("--data", call_options.data, "payload (text)");
  call->add_option("--data-file", call_options.data_file, "payload (file)");
  add_limit_flags(call, call_options.limits);
  call->add_option("--tier", call_options.tier,
                   "engine: aot (compiled with wasm2c and cc, cached), interp, or auto (aot when "
                   "a C compiler is present; the default)");

  auto* trust = app.add_subcommand("trust", "the running node's trust store");
  trust->require_subcommand(1);
  std::string trust_arg;
  bool trust_json = false;
  auto* trust_add = trust->add_subcommand("add", "trust a manufacturer's public key file");
  trust_add->add_option("pubfile", trust_arg, "public key file (signing.pub)")->required();
  auto* trust_ls = trust->add_subcommand("ls", "trusted keys, revoked keys and packages");
  trust_ls->add_flag("--json", trust_json, "print the listing as JSON");
  auto* trust_revoke = trust->add_subcommand(
      "revoke", "revoke a key (or, with --package, a package hash): its actors are stopped");
  std::string revoke_package;
  auto* revoke_key_opt = trust_revoke->add_option("key_id", trust_arg, "key id (mfr-...)");
  trust_revoke->add_option("--package", revoke_package, "a package hash (SHA-256 of its manifest)")
      ->excludes(revoke_key_opt);

  auto* identity = app.add_subcommand("identity", "credentials of actors spawned from packages");
  identity->require_subcommand(1);
  std::string identity_actor;
  bool identity_json = false;
  auto* identity_jwks =
      identity->add_subcommand("jwks", "the node identity service's public keys (a JWK Set)");
  auto* identity_show =
      identity->add_subcommand("show", "an actor's current credential and its public key");
  identity_show->add_option("actor", identity_actor, "actor name or id")->required();
  identity_show->add_flag("--json", identity_json, "print it as JSON");

  auto* keys = app.add_subcommand("keys", "the node's custodial keys (public material only)");
  keys->require_subcommand(1);
  std::string keys_actor;
  bool keys_json = false;
  auto* keys_ls = keys->add_subcommand("ls", "every custodial key and the actor holding it");
  keys_ls->add_flag("--json", keys_json, "print the listing as JSON");
  auto* keys_rotate = keys->add_subcommand(
      "rotate", "give an actor a new key and credential (old public keys are kept)");
  keys_rotate->add_option("actor", keys_actor, "actor name or id")->required();

  auto* cluster = app.add_subcommand("cluster", "the mesh this node takes part in");
  cluster->require_subcommand(1);
  bool members_json = false;
  std::string allow_key;
  auto* cluster_members =
      cluster->add_subcommand("members", "every member: id, address, state, incarnation");
  cluster_members->add_flag("--json", members_json, "print the members as JSON");
  auto* cluster_allow = cluster->add_subcommand(
      "allow", "accept a node into the mesh (its `troupe node id`); kept across restarts");
  cluster_allow->add_option("key", allow_key, "the node's identity key")->required();
  auto* cluster_disallow =
      cluster->add_subcommand("disallow", "refuse a node from now on and close its connections");
  cluster_disallow->add_option("key", allow_key, "the node's identity key")->required();

  PkgOptions pkg_options;
  auto* pkg = add_pkg_command(app, pkg_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (auto unknown = unknown_command(app, argc, argv)) {
      return fail("usage: unknown command '" + *unknown + "' (see troupe --help)");
    }
    std::string what = e.what();
    return fail("usage: " + what + " (see troupe --help)");
  }

  if (*call) return run_call(call_options);
  if (*pkg) return run_pkg(pkg_options);
  if (*node_run) {
    MeshFlags mesh{mesh_listen, mesh_join};
    return run_node(config_path, socket == default_socket() ? "" : socket, data_dir, workers,
                    max_connections, idle_ms, allow_unsigned, mesh);
  }
  if (*node_id) return run_node_id(config_path, data_dir);

  if (*spawn) {
    const std::string& module_file = package_file.empty() ? wasm_file : package_file;
    if (kind.empty() == module_file.empty()) {
      return fail("usage: give an actor kind, --package FILE or --wasm FILE");
    }
    if (!is_text(kind, "actor kind") || !is_text(name, "actor name") ||
        !is_text(supervisor, "supervisor name") || !is_text(wasm_type, "type name") ||
        !is_text(wasm_tier, "tier")) {
      return 1;
    }
    json req{{"op", "spawn"}};
    if (!kind.empty()) req["kind"] = kind;
    if (!module_file.empty()) {
      auto limits = parse_limit_flags(wasm_limits);
      if (!limits.ok()) return fail("usage: " + limits.error().detail);
      for (const wasm::LimitInfo& info : wasm::limit_infos()) {
        const auto& v = (*limits)[static_cast<std::size_t>(info.key)];
        if (v) req[info.name] = v->unlimited ? json("unlimited") : json(v->number);
      }
      std::error_code ec;
      auto path = std::filesystem::absolute(module_file, ec);
      if (ec) return fail("invalid-argument: cannot resolve " + module_file + ": " + ec.message());
      // A file name need not be UTF-8.
      control::put_bytes(req, package_file.empty() ? "wasm" : "package", path.string());
      if (!wasm_type.empty()) req["type"] = wasm_type;  // else the node takes the file stem
      req["tier"] = wasm_tier;
    }
    if (!name.empty()) req["name"] = name;
    if (!supervisor.empty()) req["supervisor"] = supervisor;
    if (!spawn_node.empty()) {
      if (package_file.empty()) return fail("usage: --node spawns a --package on another node");
      if (!parse_node_id(spawn_node)) {
        return fail("usage: --node takes a node id (hex, as `troupe cluster members` shows it)");
      }
      req["node"] = spawn_node;
    }
    auto r = request(socket, req);
    if (!r) return 1;
    std::printf("%s\n", r->value("id", std::string()).c_str());
    return 0;
  }
  if (*ls) {
    auto r = request(socket, json{{"op", "ls"}, {"cluster", ls_cluster}});
    if (!r) return 1;
    std::printf("%-34s %-16s %8s %8s %10s %10s\n", "ACTOR", "TYPE", "MAILBOX", "RESTARTS", "IN",
                "OUT");
    for (const json& a : (*r)["actors"]) print_tree(a, "", true, true);
    if (auto omitted = r->value("omitted", 0ULL); omitted > 0) {
      std::printf("... and %llu more actors not shown\n", omitted);
    }
    if (ls_cluster) {
      std::printf("\n%-34s %-16s %s\n", "CLUSTER NAME", "TYPE", "ACTOR");
      for (const json& n : (*r)["cluster"]) {
        std::printf("%-34s %-16s %s\n", n.value("name", std::string()).c_str(),
                    n.value("type", std::string()).c_str(), n.value("id", std::string()).c_str());
      }
    }
    return 0;
  }
  if (*tell || *ask) {
    if (!is_text(actor, "actor name") || !is_text(route, "route")) return 1;
    json req{{"op", *ask ? "ask" : "tell"}, {"actor", actor}, {"route", route}};
    if (!data_file.empty()) {
      auto d = read_regular_file(data_file, kMaxDataFileBytes, "payload");
      if (!d.ok()) return fail(d.error().to_string());
      data = std::move(d).value();
    }
    control::put_bytes(req, "data", data);
    auto wait = std::chrono::seconds(30);
    if (timeout_ms > 0) {
      req["timeout_ms"] = timeout_ms;
      wait = std::chrono::seconds(timeout_ms / 1000 + 5);
    }
    auto r = request(socket, req, wait);
    if (!r) return 1;
    if (*ask) {
      auto reply = control::get_bytes(*r, "reply");
      if (!reply.ok()) return fail(reply.error().to_string());
      std::fwrite(reply->data(), 1, reply->size(), stdout);
      std::fputc('\n', stdout);
    }
    return 0;
  }
  if (*stop) {
    if (!is_text(actor, "actor name")) return 1;
    auto r = request(socket, json{{"op", "stop"}, {"actor", actor}});
    return r ? 0 : 1;
  }
  if (*trust_add) {
    auto key = platform::load_public_key(trust_arg);
    if (!key.ok()) return fail(key.error().to_string());
    auto r = request(socket,
                     json{{"op", "trust-add"}, {"public_key", platform::encode_public_key(*key)}});
    if (!r) return 1;
    std::printf("%s\n", r->value("key_id", std::string()).c_str());
    return 0;
  }
  if (*trust_ls) {
    auto r = request(socket, json{{"op", "trust-ls"}});
    if (!r) return 1;
    if (trust_json) {
      r->erase("ok");
      std::printf("%s\n", r->dump().c_str());
      return 0;
    }
    for (const json& k : (*r)["keys"]) {
      std::printf("trusted  %s  %s\n", k.value("key_id", std::string()).c_str(),
                  k.value("public_key", std::string()).c_str());
    }
    for (const json& k : (*r)["revoked_keys"]) {
      std::printf("revoked  %s\n", k.get<std::string>().c_str());
    }
    for (const json& h : (*r)["revoked_packages"]) {
      std::printf("revoked package  %s\n", h.get<std::string>().c_str());
    }
    return 0;
  }
  if (*trust_revoke) {
    if (trust_arg.empty() == revoke_package.empty()) {
      return fail("usage: give a key id or --package HASH");
    }
    if (!is_text(trust_arg, "key id") || !is_text(revoke_package, "package hash")) return 1;
    json req{{"op", "trust-revoke"}};
    if (!trust_arg.empty()) req["key_id"] = trust_arg;
    if (!revoke_package.empty()) req["package_hash"] = revoke_package;
    auto r = request(socket, req);
    if (!r) return 1;
    std::printf("revoked; %llu running actor(s) stopped\n",
                static_cast<unsigned long long>(r->value("stopped", 0ULL)));
    return 0;
  }
  if (*cluster_members) {
    auto r = request(socket, json{{"op", "cluster-members"}});
    if (!r) return 1;
    if (members_json) {
      std::printf("%s\n", (*r)["members"].dump().c_str());
      return 0;
    }
    std::printf("%-16s %-24s %-8s %20s  %s\n", "ID", "ADDRESS", "STATE", "INCARNATION", "KEY");
    for (const json& m : (*r)["members"]) {
      std::printf("%-16s %-24s %-8s %20llu  %s\n", m.value("id", std::string()).c_str(),
                  m.value("address", std::string()).c_str(),
                  m.value("state", std::string()).c_str(),
                  static_cast<unsigned long long>(m.value("incarnation", 0ULL)),
                  m.value("key", std::string()).c_str());
    }
    return 0;
  }
  if (*cluster_allow) {
    if (!is_text(allow_key, "node key")) return 1;
    auto r = request(socket, json{{"op", "cluster-allow"}, {"key", allow_key}});
    if (!r) return 1;
    std::printf("%s\n", r->value("added", false) ? "allowed" : "already allowed");
    return 0;
  }
  if (*cluster_disallow) {
    if (!is_text(allow_key, "node key")) return 1;
    auto r = request(socket, json{{"op", "cluster-disallow"}, {"key", allow_key}});
    if (!r) return 1;
    std::printf("%s\n", !r->value("removed", false) ? "not allowed anyway"
                        : r->value("in_config", false)
                            ? "disallowed (the config's [mesh] allow still names it: it is "
                              "allowed again at the next start)"
                            : "disallowed");
    return 0;
  }
  if (*identity_jwks) {
    auto r = request(socket, json{{"op", "identity-jwks"}});
    if (!r) return 1;
    std::printf("%s\n", (*r)["jwks"].dump().c_str());
    return 0;
  }
  if (*identity_show) {
    if (!is_text(identity_actor, "actor name")) return 1;
    auto r = request(socket, json{{"op", "identity-show"}, {"actor", identity_actor}});
    if (!r) return 1;
    r->erase("ok");
    if (identity_json) {
      std::printf("%s\n", r->dump().c_str());
      return 0;
    }
    for (const char* k : {"actor", "type", "issuer", "iat", "exp", "signing_key_id", "key_name",
                          "public_key", "credential"}) {
      const json& v = (*r)[k];
      std::printf("%-15s %s\n", k, v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
    }
    return 0;
  }
  if (*keys_ls) {
    auto r = request(socket, json{{"op", "keys-ls"}});
    if (!r) return 1;
    if (keys_json) {
      r->erase("ok");
      std::printf("%s\n", r->dump().c_str());
      return 0;
    }
    for (const json& k : (*r)["keys"]) {
      const json& actor = k["actor"];
      std::printf("%s  %s  %s  retired %zu  %s\n", k.value("key_id", std::string()).c_str(),
                  k.value("public_key", std::string()).c_str(),
                  actor.is_string() ? actor.get<std::string>().c_str() : "-", k["retired"].size(),
                  k.value("name", std::string()).c_str());
    }
    return 0;
  }
  if (*keys_rotate) {
    if (!is_text(keys_actor, "actor name")) return 1;
    auto r = request(socket, json{{"op", "keys-rotate"}, {"actor", keys_actor}});
    if (!r) return 1;
    std::printf("%s  %s\n", r->value("key_id", std::string()).c_str(),
                r->value("public_key", std::string()).c_str());
    return 0;
  }
  if (*status) {
    auto r = request(socket, json{{"op", "status"}});
    if (!r) return 1;
    std::printf("node %s  up %llds  workers %d\n", r->value("node", std::string()).c_str(),
                static_cast<long long>(r->value("uptime_s", 0LL)), r->value("workers", 0));
    std::printf("actors %llu  spawned %llu  restarts %llu  dead letters %llu\n",
                static_cast<unsigned long long>(r->value("actors", 0ULL)),
                static_cast<unsigned long long>(r->value("spawned", 0ULL)),
                static_cast<unsigned long long>(r->value("restarts", 0ULL)),
                static_cast<unsigned long long>(r->value("dead_letters", 0ULL)));
    std::printf("public key %s  boot %llu\n", r->value("public_key", std::string()).c_str(),
                static_cast<unsigned long long>(r->value("boot", 0ULL)));
    std::printf("socket %s\nkinds:\n", r->value("socket", std::string()).c_str());
    for (const json& k : (*r)["kinds"]) {
      std::printf("  %-10s %s\n", k.value("kind", std::string()).c_str(),
                  k.value("description", std::string()).c_str());
    }
    return 0;
  }
  return fail("no command (see troupe --help)");
}

int main(int argc, char** argv) {
  int code = 1;
  try {
    code = run(argc, argv);
  } catch (const std::exception& e) {
    // A bug, but still one line and exit 1 rather than an abort with a C++ message.
    return fail(std::string("internal: ") + e.what());
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return fail(std::string("io: cannot write the output: ") + std::strerror(errno));
  }
  return code;
}

}  // namespace troupe::cli

int main(int argc, char** argv) { return troupe::cli::main(argc, argv); }
