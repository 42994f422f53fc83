#include "troupe/runtime/supervisor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>

#include "troupe/runtime/actor_system.h"

namespace troupe {

Supervisor::Supervisor(SupervisorOptions options, std::vector<ChildSpec> initial)
    : options_(options), initial_(std::move(initial)) {}

void Supervisor::on_start() {
  for (auto& spec : initial_) start_child(spec);
}

ActorRef Supervisor::start_child(ChildSpec spec) {
  SpawnOptions so;
  so.name = spec.name;
  so.type_name = spec.type_name;
  so.mailbox = spec.mailbox;
  std::unique_ptr<Actor> instance;
  try {
    instance = spec.factory();
  } catch (const std::exception& e) {
    spdlog::warn("supervisor {}: cannot create a '{}': {}", self().id().to_string(), spec.type_name,
                 e.what());
  } catch (...) {
    spdlog::warn("supervisor {}: cannot create a '{}'", self().id().to_string(), spec.type_name);
  }
  if (!instance) return {};
  ActorRef ref = Actor::spawn(std::move(instance), so);
  if (ref) children_.push_back(Child{std::move(spec), ref, {}});
  return ref;
}

void Supervisor::restart(Child& child) {
  std::unique_ptr<Actor> fresh;
  std::string why = "the factory returned nothing";
  try {
    fresh = child.spec.factory();
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unknown exception";
  }
  if (fresh) {
    child.ref.cell()->restart(std::move(fresh));
    return;
  }
  // An explicit stop: final, reported by ChildExit like any other.
  ExitReason reason = ExitReason::error("restart failed: " + why);
  spdlog::error("supervisor {}: cannot restart {}: {}", self().id().to_string(),
                child.ref.id().to_string(), why);
  if (!options_.escalate) give_up(child, reason);
  child.ref.cell()->stop(std::move(reason));
}

void Supervisor::give_up(Child& child, const ExitReason& reason) {
  FailedActor f;
  f.ref = child.ref;
  f.supervisor = self().id();
  f.name = child.spec.name;
  f.reason = reason;
  f.restarts = child.ref.cell()->stats().restarts;
  system().note_failed(std::move(f));
}

bool Supervisor::receive(Message& m) {
  return match(
      m,
      [this](StartChild& s) -> Result<ActorRef> {
        if (!s.spec.factory) return Error{BaseErrc::kInvalidArgument, "child spec without factory"};
        if (!s.spec.name.empty() && system().find(s.spec.name)) {
          return Error{BaseErrc::kInvalidArgument, "name '" + s.spec.name + "' is taken"};
        }
        ActorRef ref = start_child(std::move(s.spec));
        if (!ref) return Error{BaseErrc::kUnavailable, "cannot start the child (see the node log)"};
        return ref;
      },
      [this](RestartNow& r) {
        if (Child* c = find(r.child)) restart(*c);
      });
}

Supervisor::Child* Supervisor::find(const ActorRef& ref) {
  for (auto& c : children_) {
    if (c.ref == ref) return &c;
  }
  return nullptr;
}

bool Supervisor::on_child_failed(const ActorRef& child, const ExitReason& reason) {
  Child* c = find(child);
  if (!c) return false;
  bool wanted = c->spec.restart == RestartPolicy::kPermanent ||
                (c->spec.restart == RestartPolicy::kTransient && reason.abnormal());
  if (!wanted) return false;

  const Clock::TimePoint now = system().clock().now();
  auto expire = [&](std::deque<Clock::TimePoint>& q) {
    while (!q.empty() && now - q.front() > options_.within) q.pop_front();
  };
  expire(recent_);
  expire(c->recent);
  if (!options_.escalate && static_cast<int>(c->recent.size()) >= options_.max_restarts) {
    // Only this child goes: stopped with its last reason, recorded as failed.
    const auto within =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.within).count();
    spdlog::error("supervisor {}: {} ({}) failed {} times within {} ms; giving up on it: {}",
                  self().id().to_string(), child.id().to_string(), c->spec.type_name,
                  c->recent.size() + 1, within, reason.to_string());
    ExitReason failed = reason;
    failed.detail += (failed.detail.empty() ? "" : " ") + std::string("(") +
                     std::to_string(c->recent.size() + 1) + " failures within " +
                     std::to_string(within) + " ms)";
    give_up(*c, failed);
    return false;  // the child terminates with `reason`; ChildExit then forgets it
  }
  if (options_.escalate && static_cast<int>(recent_.size()) >= options_.max_restarts) {
    spdlog::error("supervisor {}: {} restarts within {} ms; escalating ({} exited: {})",
                  self().id().to_string(), recent_.size() + 1,
                  std::chrono::duration_cast<std::chrono::milliseconds>(options_.within).count(),
                  child.id().to_string(), reason.to_string());
    stop(ExitReason::error("restart intensity reached: child " + child.id().to_string() + " " +
                           reason.to_string()));
    return false;
  }
  recent_.push_back(now);
  c->recent.push_back(now);
  spdlog::info("supervisor {}: restarting {} ({}) after {}", self().id().to_string(),
               child.id().to_string(), c->spec.type_name, reason.to_string());

  // The failed child plus, by strategy, its siblings (which are restarted in place while
  // running: stopped in order, then started fresh).
  std::size_t index = static_cast<std::size_t>(c - children_.data());
  std::vector<std::size_t> targets;
  for (std::size_t i = 0; i < children_.size(); ++i) {
    bool take = i == index || options_.strategy == Strategy::kOneForAll ||
                (options_.strategy == Strategy::kRestForOne && i > index);
    if (take) targets.push_back(i);
  }
  Clock::Duration delay{0};
  if (options_.backoff_initial > Clock::Duration{0}) {
    delay = options_.backoff_initial;
    for (std::size_t n = 1; n < c->recent.size() && delay < options_.backoff_max; ++n) delay *= 2;
    delay = std::min(delay, options_.backoff_max);
  }
  for (std::size_t i : targets) {
    Child& t = children_[i];
    if (delay > Clock::Duration{0}) {
      send_after(self(), RestartNow{t.ref}, delay);
    } else {
      restart(t);
    }
  }
  return true;
}

void Supervisor::on_child_exit(const ChildExit& exit) {
  std::erase_if(children_, [&](const Child& c) { return c.ref == exit.child; });
}

}  // namespace troupe
