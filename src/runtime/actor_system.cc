#include "troupe/runtime/actor_system.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

#include "system_messages.h"
#include "troupe/runtime/remote_directory.h"
#include "troupe/runtime/runtime_error.h"
#include "troupe/runtime/supervisor.h"

namespace troupe {

namespace detail {

bool on_worker_thread() { return ActorCell::current() != nullptr; }

namespace {

// Fails `req` and answers false when it may not be sent to `to` at all.
bool may_send(ActorSystem& system, const ActorRef& to, const RequestRef& req) {
  if (!to) {
    req->fail(Error{BaseErrc::kNotFound, "no such actor"});
    return false;
  }
  const CallChain& chain = req->chain();
  if (std::find(chain.begin(), chain.end(), to.id()) != chain.end()) {
    req->fail(Error{RuntimeErrc::kCallCycle,
                    "actor " + to.id().to_string() + " is awaiting a reply on this call chain"});
    return false;
  }
  if (std::uint32_t max = system.config().max_call_depth;
      max != kUnlimitedCallDepth && req->depth() > max) {
    req->fail(Error{RuntimeErrc::kCallCycle, "call chain deeper than " + std::to_string(max) +
                                                 " asks (an actor asking itself in a loop?)"});
    return false;
  }
  return true;
}

}  // namespace

Delivery try_send_request(ActorSystem& system, const ActorRef& to, MessagePtr m,
                          const RequestRef& req, Clock::Duration timeout) {
  if (!may_send(system, to, req)) return Delivery::kRefused;
  m->request = req;
  const Delivery delivery = to.cell()->try_enqueue(m);
  if (delivery == Delivery::kFull) {
    m->request = RequestRef{};  // unsent: neither failed nor timed
    return delivery;
  }
  // Armed after the enqueue: set_timeout cancels it at once if the reply came first.
  TimerId timer = system.timers().after(timeout, [req] {
    req->fail(Error{BaseErrc::kTimedOut, "no reply in time"});
  });
  req->set_timeout(&system.timers(), timer);
  return delivery;
}

void send_request(ActorSystem& system, const ActorRef& to, MessagePtr m, const RequestRef& req,
                  Clock::Duration timeout) {
  if (!may_send(system, to, req)) return;
  m->request = req;
  TimerId timer = system.timers().after(timeout, [req] {
    req->fail(Error{BaseErrc::kTimedOut, "no reply in time"});
  });
  // Answered before the deadline: the timer (and its reference) goes at once.
  req->set_timeout(&system.timers(), timer);
  to.cell()->enqueue(std::move(m));
}

}  // namespace detail

Result<void> SystemConfig::check() const {
  if (max_call_depth == 0) {
    return Error{BaseErrc::kInvalidArgument,
                 "max_call_depth must be at least 1 (no limit is kUnlimitedCallDepth, never 0)"};
  }
  return {};
}

ActorSystem::ActorSystem(SystemConfig config) : config_(std::move(config)) {
  node_id_ = config_.node_id;
  if (node_id_ == 0) {
    std::random_device rd;
    while (node_id_ == 0) node_id_ = (NodeId{rd()} << 32) | rd();
  }
  next_serial_.store(config_.first_serial == 0 ? 1 : config_.first_serial);
  // spdlog's registry is made on first use, behind a guard in its (uninstrumented) library:
  // make it here, before any worker exists, so no two threads race to make it.
  (void)spdlog::default_logger_raw();
  clock_ = config_.clock ? config_.clock : std::make_shared<SteadyClock>();
  timers_ = std::make_unique<TimerService>(clock_);
  unsigned workers = config_.workers ? config_.workers : std::thread::hardware_concurrency();
  scheduler_ = std::make_unique<Scheduler>(workers ? workers : 1, config_.budget);
  SupervisorOptions root_options = config_.root_supervisor;
  root_options.escalate = false;  // the root's death would take every actor with it
  SpawnOptions so;
  so.type_name = "supervisor";
  so.name = "root";
  root_ = spawn(std::make_unique<Supervisor>(root_options), so);
}

ActorSystem::~ActorSystem() { shutdown(); }

const std::string* ActorSystem::intern(std::string_view type_name) {
  std::string name(type_name);  // the common short names fit in place: no allocation
  std::lock_guard lock(intern_mutex_);
  // find first: emplace would build (and drop) a node on every spawn of a known type.
  if (auto it = interned_.find(name); it != interned_.end()) return &*it;
  return &*interned_.emplace(std::move(name)).first;
}

ActorRef ActorSystem::spawn(std::unique_ptr<Actor> actor, SpawnOptions options) {
  return spawn_cell(nullptr, std::move(actor), std::move(options));
}

ActorRef ActorSystem::spawn_fn(std::function<Behavior(Actor&)> init, SpawnOptions options) {
  return spawn(std::make_unique<FunctionActor>(std::move(init)), std::move(options));
}

ActorRef ActorSystem::spawn_cell(ActorCell* parent, std::unique_ptr<Actor> actor,
                                 SpawnOptions options) {
  // Announce the spawn before checking: shutdown() sets the flag and then waits for spawns in
  // flight, so either this one sees the flag or shutdown sees (and later stops) its actor.
  spawning_.fetch_add(1, std::memory_order_seq_cst);
  struct Done {
    std::atomic<std::uint32_t>& n;
    ~Done() { n.fetch_sub(1, std::memory_order_seq_cst); }
  } done{spawning_};
  if (shut_down_.load(std::memory_order_seq_cst)) return {};
  const bool foreign = options.foreign_id.valid();
  if (foreign && (options.foreign_id.node == node_id_ || !options.name.empty())) return {};
  ActorId id = foreign ? options.foreign_id
                       : ActorId{node_id_, next_serial_.fetch_add(1, std::memory_order_relaxed)};
  if (!foreign && id.serial > config_.last_serial) {
    spdlog::error(
        "actor serials of this boot are used up (last {}): spawn refused; restart "
        "the node",
        config_.last_serial);
    next_serial_.store(config_.last_serial + 1);  // no wrap-around, however many try
    return {};
  }
  const std::string* type = intern(options.type_name.empty() ? "actor" : options.type_name);
  auto* cell = new ActorCell(*this, id, type, std::move(actor), options.mailbox, parent);
  ActorRef ref(cell);
  std::vector<FailedActor> forgotten;  // released outside the lock
  if (!options.name.empty()) {
    std::lock_guard lock(names_mutex_);
    if (!names_.emplace(options.name, ref).second) {
      spdlog::warn("name '{}' is taken; actor {} stays unnamed", options.name, id.to_string());
      options.name.clear();
    } else {
      // The name is in use again: its failed predecessor is history.
      for (auto it = failed_.begin(); it != failed_.end();) {
        if (it->name == options.name) {
          forgotten.push_back(std::move(*it));
          it = failed_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  if (foreign) {
    bool lost = false;
    {
      std::lock_guard lock(foreign_mutex_);
      foreign_nodes_[cell] = id.node;  // before anyone can ask the cell its id
      lost = !foreign_.emplace(id, cell).second;
    }
    // One cell per foreign actor: the caller looks it up first; a race loses here. The
    // unstarted cell still holds its own reference (finalize drops it, and it never runs):
    // dropped here, outside the lock, as its destructor takes it.
    if (lost) {
      {
        std::lock_guard lock(foreign_mutex_);
        foreign_nodes_.erase(cell);
      }
      ref = ActorRef{};
      cell->release();
      return {};
    }
  } else {
    Shard& s = shard(id.serial);
    std::lock_guard lock(s.mutex);
    s.cells.insert(id.serial, cell);
  }
  spawned_.fetch_add(1, std::memory_order_relaxed);
  live_.fetch_add(1, std::memory_order_relaxed);
  if (parent) parent->add_child(ref);
  cell->start(std::move(options.name));
  return ref;
}

Delivery ActorSystem::try_tell_message(const ActorRef& to, MessagePtr& m) {
  if (!to) {
    note_dead_letter(*m, "no actor");
    m.reset();
    return Delivery::kDeadLetter;
  }
  return to.cell()->try_enqueue(m);
}

void ActorSystem::notify_when_room(const ActorRef& to, std::function<void()> fn) {
  if (to) {
    to.cell()->notify_when_room(std::move(fn));
  } else if (fn) {
    fn();
  }
}

void ActorSystem::stop(const ActorRef& ref, ExitReason reason) {
  if (ref) ref.cell()->stop(std::move(reason));
}

void ActorSystem::kill(const ActorRef& ref) {
  if (ref) ref.cell()->kill();
}

void ActorSystem::exit(const ActorRef& ref, ActorRef from, ExitReason reason) {
  if (ref)
    ref.cell()->enqueue_system(make_message(sys::LinkExit{std::move(from), std::move(reason)}));
}

ActorRef ActorSystem::root() const {
  std::lock_guard lock(names_mutex_);
  return root_;
}

ActorRef ActorSystem::find(ActorId id) const {
  if (shut_down_.load()) return {};
  if (id.node != node_id_) {
    std::lock_guard lock(foreign_mutex_);
    auto it = foreign_.find(id);
    return it == foreign_.end() || !it->second->alive() ? ActorRef{} : ActorRef(it->second);
  }
  Shard& s = shard(id.serial);
  std::lock_guard lock(s.mutex);
  ActorCell* cell = s.cells.find(id.serial);
  return cell == nullptr ? ActorRef{} : ActorRef(cell);
}

ActorRef ActorSystem::find(std::string_view name) const {
  if (shut_down_.load()) return {};
  std::lock_guard lock(names_mutex_);
  auto it = names_.find(std::string(name));
  return it == names_.end() ? ActorRef{} : it->second;
}

ActorRef ActorSystem::find_by_type(std::string_view type_name) const {
  ActorRef best;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    s.cells.for_each([&](std::uint64_t serial, ActorCell* cell) {
      ActorRef r(cell);
      if ((!best || serial < best.id().serial) && r.type_name() == type_name && r.alive()) {
        best = std::move(r);
      }
    });
  }
  return best;
}

ActorRef ActorSystem::resolve(std::string_view name_or_id) const {
  if (ActorRef r = find(name_or_id)) return r;
  if (auto id = ActorId::parse(name_or_id)) return find(*id);
  return {};
}

Result<void> ActorSystem::register_name(const std::string& name, const ActorRef& ref) {
  if (name.empty()) return Error{BaseErrc::kInvalidArgument, "empty name"};
  if (!ref || !ref.alive()) return Error{RuntimeErrc::kDead, "actor is dead"};
  std::lock_guard lock(names_mutex_);
  if (!names_.emplace(name, ref).second) {
    return Error{BaseErrc::kInvalidArgument, "name '" + name + "' is taken"};
  }
  return {};
}

std::vector<std::pair<std::string, ActorRef>> ActorSystem::named() const {
  std::vector<std::pair<std::string, ActorRef>> out;
  if (shut_down_.load()) return out;
  std::lock_guard lock(names_mutex_);
  out.reserve(names_.size());
  for (const auto& [name, ref] : names_) {
    if (ref.alive()) out.emplace_back(name, ref);
  }
  return out;
}

std::vector<ActorRef> ActorSystem::top_level() const {
  std::vector<ActorRef> out;
  for (auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    s.cells.for_each([&](std::uint64_t, ActorCell* cell) {
      if (!cell->parent()) out.emplace_back(cell);
    });
  }
  std::sort(out.begin(), out.end(),
            [](const ActorRef& a, const ActorRef& b) { return a.id().serial < b.id().serial; });
  return out;
}

std::vector<FailedActor> ActorSystem::failed() const {
  std::lock_guard lock(names_mutex_);
  return {failed_.begin(), failed_.end()};
}

void ActorSystem::note_failed(FailedActor failed) {
  std::vector<FailedActor> forgotten;  // released outside the lock
  std::lock_guard lock(names_mutex_);
  if (shut_down_.load()) return;
  failed_.push_back(std::move(failed));
  while (failed_.size() > config_.failed_kept) {
    forgotten.push_back(std::move(failed_.front()));
    failed_.pop_front();
  }
}

SystemStats ActorSystem::stats() const {
  return SystemStats{spawned_.load(), live_.load(), dead_letters_.load(), restarts_.load()};
}

void ActorSystem::note_dead_letter(const Message& m, const char* why) {
  std::uint64_t n = dead_letters_.fetch_add(1, std::memory_order_relaxed) + 1;
  // Log the first few and then every thousandth, so a flood cannot flood the log.
  if (n <= 10 || n % 1000 == 0) {
    spdlog::debug("dead letter #{} ({}): {}", n, why, m.type_name());
  }
}

void ActorSystem::set_remote_directory(std::shared_ptr<RemoteDirectory> directory) {
  std::lock_guard lock(directory_mutex_);
  directory_ = std::move(directory);
}

std::shared_ptr<RemoteDirectory> ActorSystem::remote_directory() const {
  std::lock_guard lock(directory_mutex_);
  return directory_;
}

NodeId ActorSystem::foreign_node_of(const ActorCell* cell) const {
  std::lock_guard lock(foreign_mutex_);
  auto it = foreign_nodes_.find(cell);
  return it == foreign_nodes_.end() ? 0 : it->second;
}

void ActorSystem::forget_foreign_cell(const ActorCell* cell) {
  std::lock_guard lock(foreign_mutex_);
  foreign_nodes_.erase(cell);
}

void ActorSystem::on_finalized(ActorCell* cell, const std::string& name) {
  const ActorId id = cell->id();  // before foreign_mutex_: a foreign cell's id() takes it
  if (id.node != node_id_) {
    std::lock_guard lock(foreign_mutex_);
    auto it = foreign_.find(id);
    if (it != foreign_.end() && it->second == cell) foreign_.erase(it);
  } else {
    Shard& s = shard(id.serial);
    std::lock_guard lock(s.mutex);
    s.cells.erase(id.serial);
  }
  if (!name.empty()) {
    std::lock_guard lock(names_mutex_);
    auto it = names_.find(name);
    if (it != names_.end() && it->second.cell() == cell) names_.erase(it);
  }
  if (live_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lock(live_mutex_);
    live_cv_.notify_all();
  }
}

bool ActorSystem::wait_all_dead(std::chrono::milliseconds timeout) {
  std::unique_lock lock(live_mutex_);
  return live_cv_.wait_for(lock, timeout, [this] { return live_.load() == 0; });
}

void ActorSystem::shutdown() {
  if (shut_down_.exchange(true, std::memory_order_seq_cst)) return;
  // Spawns that got past the flag finish first, so that top_level() below sees their actors.
  while (spawning_.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  // Newest first, so later actors (which may depend on earlier ones) go first; the root
  // supervisor stops its own children in reverse start order.
  auto tops = top_level();
  {
    // The cells standing for other nodes' actors go first: nothing local depends on them.
    std::vector<ActorRef> foreign;
    {
      std::lock_guard lock(foreign_mutex_);
      for (auto& [id, cell] : foreign_) foreign.emplace_back(cell);
    }
    for (ActorRef& r : foreign) r.cell()->stop(ExitReason::shutdown());
  }
  for (auto it = tops.rbegin(); it != tops.rend(); ++it) it->cell()->stop(ExitReason::shutdown());
  if (!wait_all_dead(config_.shutdown_timeout)) {
    spdlog::warn("shutdown: {} actors still alive after {} ms; killing them", live_.load(),
                 config_.shutdown_timeout.count());
    for (auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      s.cells.for_each([](std::uint64_t, ActorCell* cell) { cell->kill(); });
    }
    std::vector<ActorRef> foreign;
    {
      std::lock_guard lock(foreign_mutex_);
      for (auto& [id, cell] : foreign_) foreign.emplace_back(cell);
    }
    for (ActorRef& r : foreign) r.cell()->kill();
    wait_all_dead(std::chrono::milliseconds(2000));
  }
  timers_->stop();
  scheduler_->stop();
  // Other threads may still look names up: clear under the lock, release the refs outside it.
  std::unordered_map<std::string, ActorRef> names;
  std::deque<FailedActor> failed;
  ActorRef root;
  {
    std::lock_guard lock(names_mutex_);
    names.swap(names_);
    failed.swap(failed_);
    root = std::move(root_);
    root_ = ActorRef{};
  }
}

}  // namespace troupe
