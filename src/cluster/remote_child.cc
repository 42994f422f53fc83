// RemoteActors::RemoteChild and child_factory (remote_child.h): a local stand-in for an actor
// spawned on another node, so local supervisors and pools can hold remote children.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "troupe/cluster/remote_actors.h"
#include "troupe/net/net_error.h"

namespace troupe {
namespace {

// The stand-in's spawn, shared with the callback that may outlive the stand-in.
struct SpawnState {
  std::mutex mutex;
  bool stopped = false;                         // the stand-in has stopped
  std::optional<Result<RemoteSpawned>> result;  // the spawn's answer, not yet taken
};

struct SpawnAnswered {};
struct RetrySpawn {};
constexpr int kMaxOverloadedRetries = 8;  // about 8 s in all

constexpr std::chrono::milliseconds kWaitingAskTimeout{60000};

}  // namespace

class RemoteActors::RemoteChild final : public Actor {
 public:
  RemoteChild(std::shared_ptr<Handle> handle, NodeId node,
              std::shared_ptr<const RemoteChildSpec> spec)
      : handle_(std::move(handle)), node_(node), spec_(std::move(spec)) {}

  void on_start() override { start_spawn(); }

  void start_spawn() {
    RemoteSpawn r;
    r.name = spec_->name;
    r.tier = spec_->tier;
    r.restart = 2;    // temporary there: the supervisor here restarts it
    r.linked = true;  // and stops it if this node is declared dead or leaves
    r.limits = spec_->limits;
    r.package = *spec_->package;
    auto done = [state = state_, handle = handle_, node = node_, self = self(),
                 system = &system()](Result<RemoteSpawned> result) {
      {
        std::lock_guard lock(state->mutex);
        if (!state->stopped) {
          state->result = std::move(result);
        } else if (result.ok()) {
          // Spawned for a stand-in that is gone: nobody will supervise it there.
          std::shared_lock remote_lock(handle->mutex);
          if (handle->self) {
            handle->self->send_exit(ActorId{node, result->serial}, ExitReason::shutdown());
          }
          return;
        } else {
          return;
        }
      }
      system->tell(self, SpawnAnswered{});
    };
    std::shared_lock lock(handle_->mutex);
    if (!handle_->self) {
      lock.unlock();
      return stop(ExitReason::error("the node is shutting down"));
    }
    // Under the handle's lock, so RemoteActors cannot go meanwhile. An answer given at once (an
    // error) runs `done` on this thread, which takes the handle's lock only for a success.
    handle_->self->spawn(node_, std::move(r), spec_->spawn_timeout, std::move(done));
  }

  bool receive(Message& m) override {
    if (m.is<SpawnAnswered>()) {
      adopt();
      return true;
    }
    if (m.is<RetrySpawn>()) {
      start_spawn();
      return true;
    }
    if (!m.is<Envelope>()) return false;
    if (proxy_) {
      forward(proxy_);
      return true;
    }
    if (waiting_.size() >= kMaxWaitingMessages) {
      if (m.request) {
        take_reply().fail(Error{NetErrc::kOverloaded, "the remote child is not spawned yet and " +
                                                          std::to_string(kMaxWaitingMessages) +
                                                          " messages wait for it"});
      }
      return true;
    }
    Waiting w{std::move(m.as<Envelope>()), std::nullopt};
    if (m.request) w.reply.emplace(take_reply());
    waiting_.push_back(std::move(w));
    return true;
  }

  void on_down(const Down& down) override {
    if (proxy_ && down.actor.id() == proxy_.id()) {
      remote_gone_ = true;
      stop(down.reason);
    }
  }

  void on_stop() override {
    std::optional<Result<RemoteSpawned>> unclaimed;
    {
      std::lock_guard lock(state_->mutex);
      state_->stopped = true;
      unclaimed = std::move(state_->result);
    }
    std::shared_lock lock(handle_->mutex);
    if (!handle_->self) return;
    if (unclaimed && unclaimed->ok()) {
      handle_->self->send_exit(ActorId{node_, (*unclaimed)->serial}, ExitReason::shutdown());
    }
    if (proxy_ && !remote_gone_) handle_->self->send_exit(proxy_.id(), ExitReason::shutdown());
    for (Waiting& w : waiting_) {
      if (w.reply) w.reply->fail(Error{BaseErrc::kUnavailable, "the remote child stopped"});
    }
  }

 private:
  struct Waiting {
    Envelope envelope;
    std::optional<ReplyPromise> reply;
  };

  void adopt() {
    std::optional<Result<RemoteSpawned>> answer;
    {
      std::lock_guard lock(state_->mutex);
      answer = std::move(state_->result);
      state_->result.reset();
    }
    if (!answer) return;
    // A target busy with other spawns: try again shortly (a pool's workers start together)
    // rather than fail and spend the supervisor's restarts.
    if (!answer->ok() && answer->error().code == NetErrc::kOverloaded &&
        overloaded_retries_ < kMaxOverloadedRetries) {
      const auto delay = std::min(std::chrono::milliseconds(50LL << overloaded_retries_),
                                  std::chrono::milliseconds(2000));
      ++overloaded_retries_;
      send_after(self(), RetrySpawn{}, delay);
      return;
    }
    if (!answer->ok()) {
      return stop(ExitReason::error("spawning on node " + fmt::format("{:x}", node_) +
                                    " failed: " + answer->error().to_string()));
    }
    const ActorId id{node_, (*answer)->serial};
    Result<ActorRef> proxy = Error{BaseErrc::kUnavailable, "the node is shutting down"};
    {
      std::shared_lock lock(handle_->mutex);
      if (handle_->self) proxy = handle_->self->proxy(id, (*answer)->type);
    }
    if (!proxy.ok()) {
      std::shared_lock lock(handle_->mutex);
      if (handle_->self) handle_->self->send_exit(id, ExitReason::shutdown());
      return stop(ExitReason::error("no stand-in for " + id.to_string() + ": " +
                                    proxy.error().to_string()));
    }
    proxy_ = *proxy;
    monitor(proxy_);
    for (Waiting& w : waiting_) {
      if (!w.reply) {
        tell(proxy_, std::move(w.envelope));
        continue;
      }
      auto timeout = kWaitingAskTimeout;
      if (w.envelope.deadline != Clock::TimePoint{}) {
        timeout = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 w.envelope.deadline - system().clock().now()),
                             std::chrono::milliseconds(1), kWaitingAskTimeout);
      }
      auto reply = std::make_shared<ReplyPromise>(std::move(*w.reply));
      ask<Bytes>(proxy_, std::move(w.envelope), timeout,
                 [reply](Result<Bytes> r) { reply->deliver(std::move(r)); });
    }
    waiting_.clear();
  }

  std::shared_ptr<Handle> handle_;
  const NodeId node_;
  std::shared_ptr<const RemoteChildSpec> spec_;
  std::shared_ptr<SpawnState> state_ = std::make_shared<SpawnState>();
  ActorRef proxy_;
  bool remote_gone_ = false;
  std::deque<Waiting> waiting_;
  int overloaded_retries_ = 0;
};

Result<std::function<std::unique_ptr<Actor>()>> RemoteActors::child_factory(RemoteChildSpec spec) {
  if (spec.nodes.empty()) return Error{BaseErrc::kInvalidArgument, "a remote child names no node"};
  for (NodeId n : spec.nodes) {
    if (n == 0 || n == system_.node_id()) {
      return Error{BaseErrc::kInvalidArgument, "a remote child's node must be another node"};
    }
  }
  if (!spec.package || spec.package->empty()) {
    return Error{BaseErrc::kInvalidArgument, "a remote child needs a package"};
  }
  if (spec.spawn_timeout.count() <= 0 || spec.spawn_timeout.count() > kMaxRemoteTimeLeftMs) {
    return Error{BaseErrc::kInvalidArgument, "a remote child's spawn timeout outside 1.." +
                                                 std::to_string(kMaxRemoteTimeLeftMs) + " ms"};
  }
  if (spec.limits.size() > kMaxRemoteSpawnLimits || spec.tier > 2 ||
      spec.name.size() > kMaxRemoteNameBytes) {
    return Error{BaseErrc::kInvalidArgument,
                 "a remote child's name, tier or limits are out of range"};
  }
  auto shared = std::make_shared<const RemoteChildSpec>(std::move(spec));
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  return std::function<std::unique_ptr<Actor>()>(
      [handle = handle_, shared, next]() -> std::unique_ptr<Actor> {
        const NodeId node = shared->nodes[next->fetch_add(1) % shared->nodes.size()];
        return std::make_unique<RemoteChild>(handle, node, shared);
      });
}

}  // namespace troupe
