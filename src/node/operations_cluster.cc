// Operations on the mesh (operations.h): `troupe cluster members` and `troupe cluster allow`,
// and remote spawn (`troupe spawn --node`, and other nodes' SPAWN requests).
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "troupe/base/error.h"
#include "troupe/net/frame.h"
#include "troupe/node/operations.h"
#include "troupe/node/regular_file.h"
#include "troupe/platform/platform_error.h"

namespace troupe {

namespace {

constexpr std::chrono::milliseconds kRemoteSpawnTimeout{60000};

Error no_mesh() {
  return Error{BaseErrc::kUnavailable,
               "this node takes no part in a mesh (start it with --listen or --join, or [mesh])"};
}

}  // namespace

Result<std::vector<Member>> Operations::cluster_members() const {
  if (!cluster_) return no_mesh();
  return cluster_->members();
}

Result<std::vector<RemoteActors::RemoteName>> Operations::cluster_names() const {
  if (!cluster_ || !cluster_->remote()) return no_mesh();
  return cluster_->remote()->names();
}

std::optional<Operations::RemoteTarget> Operations::resolve_remote(
    const std::string& name_or_id) const {
  if (!cluster_ || !cluster_->remote()) return std::nullopt;
  if (auto id = ActorId::parse(name_or_id)) {
    if (id->node == system_.node_id() || !id->valid()) return std::nullopt;
    return RemoteTarget{id->node, id->serial};
  }
  if (auto named = cluster_->remote()->lookup(name_or_id)) {
    return RemoteTarget{named->id.node, named->id.serial};
  }
  return std::nullopt;
}

Result<bool> Operations::cluster_allow(const std::string& key_text) {
  if (!cluster_) return no_mesh();
  auto key = net::parse_node_key(key_text);
  if (!key.ok()) return key.error();
  return cluster_->allow(*key);
}

Result<Cluster::Disallowed> Operations::cluster_disallow(const std::string& key_text) {
  if (!cluster_) return no_mesh();
  auto key = net::parse_node_key(key_text);
  if (!key.ok()) return key.error();
  return cluster_->disallow(*key);
}

void Operations::spawn_remote(const SpawnRequest& req,
                              std::function<void(Result<SpawnResult>)> done) {
  if (!cluster_ || !cluster_->remote()) return done(no_mesh());
  // The file is read on the loader thread, not the control thread; the bytes then travel in
  // one SPAWN frame (its header and fields take well under 4 KiB of it).
  auto shared_done = std::make_shared<std::function<void(Result<SpawnResult>)>>(std::move(done));
  const bool queued = loader_.post([this, req, shared_done](bool cancelled) {
    auto& done = *shared_done;
    if (cancelled) return done(Error{BaseErrc::kUnavailable, "the node is shutting down"});
    constexpr std::size_t kMaxRemotePackageBytes = net::kMaxFrameBytes - 4096;
    auto bytes = read_regular_file(req.package_path, kMaxRemotePackageBytes, "package");
    if (!bytes.ok()) {
      if (bytes.error().code == BaseErrc::kTooLarge) {
        return done(Error{BaseErrc::kTooLarge, bytes.error().detail +
                                                   " (a package spawned on another node travels in "
                                                   "one frame: at most " +
                                                   std::to_string(kMaxRemotePackageBytes) +
                                                   " bytes)"});
      }
      return done(bytes.error());
    }
    RemoteSpawn r;
    r.name = req.name;
    r.supervisor = req.supervisor;
    r.tier = static_cast<std::uint8_t>(req.tier);
    r.restart = static_cast<std::uint8_t>(req.restart);
    for (std::size_t i = 0; i < req.limits.size(); ++i) {
      if (!req.limits[i]) continue;
      r.limits.push_back(RemoteSpawnLimit{static_cast<std::uint8_t>(i), req.limits[i]->unlimited,
                                          req.limits[i]->number});
    }
    r.package = std::move(bytes).value();
    const NodeId node = req.node;
    // Verifying and compiling a package can take seconds: a remote spawn waits longer than an
    // ask does (a timed-out one may still have spawned the actor there).
    const auto timeout = std::max(config_.ask_timeout, kRemoteSpawnTimeout);
    cluster_->remote()->spawn(node, std::move(r), timeout,
                              [done, node](Result<RemoteSpawned> spawned) {
                                if (!spawned.ok()) return done(spawned.error());
                                done(SpawnResult{ActorId{node, spawned->serial}, spawned->type});
                              });
  });
  if (!queued) {
    (*shared_done)(Error{BaseErrc::kUnavailable, loader_.stopping()
                                                     ? "the node is shutting down"
                                                     : "too many module loads pending; try again"});
  }
}

void Operations::spawn_for_peer(NodeId from, RemoteSpawn request,
                                std::function<void(Result<RemoteSpawned>)> done) {
  // Under this node's root supervisor only: a peer that picked a supervisor here (one that
  // escalates, say) could take that supervisor's other children down with a crash loop.
  if (!request.supervisor.empty()) {
    return done(Error{PlatformErrc::kPermissionDenied,
                      "an actor spawned by another node goes under the root supervisor; it "
                      "cannot choose one"});
  }
  SpawnRequest req;
  req.name = std::move(request.name);
  req.tier = static_cast<wasm::Tier>(request.tier);  // 0..2, checked by the decoder
  req.restart = static_cast<RestartPolicy>(request.restart);
  for (const RemoteSpawnLimit& l : request.limits) {
    if (l.key >= req.limits.size() || req.limits[l.key]) {
      return done(Error{BaseErrc::kInvalidArgument,
                        "limit key " + std::to_string(l.key) + " unknown or given twice"});
    }
    const wasm::LimitInfo& info = wasm::limit_infos()[l.key];
    if (l.unlimited) {
      req.limits[l.key] = wasm::LimitValue{true, 0};
      continue;
    }
    auto number = wasm::limit_number(info, l.value, info.name);
    if (!number.ok()) return done(number.error());
    req.limits[l.key] = *number;
  }
  // The package is verified from a file the node makes and no one else can name: an anonymous
  // memory file, read back through /proc/self/fd. Nothing touches the data directory.
  const int fd = ::memfd_create("troupe-remote-package", MFD_CLOEXEC);
  if (fd < 0) {
    return done(Error{BaseErrc::kIo, std::string("memfd_create: ") + std::strerror(errno)});
  }
  auto file = std::shared_ptr<int>(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  for (std::size_t off = 0; off < request.package.size();) {
    const ssize_t n = ::write(fd, request.package.data() + off, request.package.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return done(
          Error{BaseErrc::kIo, std::string("writing the package: ") + std::strerror(errno)});
    }
    off += static_cast<std::size_t>(n);
  }
  Bytes().swap(request.package);
  req.package_path = "/proc/self/fd/" + std::to_string(fd);
  const std::string who = fmt::format("{:x}", from);
  spawn(std::move(req), [file, who, done = std::move(done)](Result<SpawnResult> r) {
    (void)file;  // held until the spawn is done
    if (!r.ok()) {
      // debug, not warn: a peer sending refused SPAWNs in a loop must not flood the log (the
      // peer hears each refusal in its REPLY).
      spdlog::debug("remote spawn from node {} refused: {}", who, r.error().to_string());
      return done(r.error());
    }
    spdlog::info("remote spawn from node {}: actor {} ({})", who, r->id.to_string(), r->type_name);
    done(RemoteSpawned{r->id.serial, r->type_name});
  });
}

}  // namespace troupe
