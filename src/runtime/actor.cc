#include "troupe/runtime/actor.h"

#include "troupe/runtime/actor_cell.h"
#include "troupe/runtime/actor_system.h"

namespace troupe {

ActorRef::ActorRef(ActorCell* cell) : cell_(cell) {
  if (cell_) cell_->add_ref();
}
ActorRef::~ActorRef() {
  if (cell_) cell_->release();
}
ActorId ActorRef::id() const { return cell_ ? cell_->id() : ActorId{}; }
const std::string& ActorRef::type_name() const {
  static const std::string kNone;
  return cell_ ? cell_->type_name() : kNone;
}
bool ActorRef::alive() const { return cell_ && cell_->alive(); }

std::string ExitReason::to_string() const {
  const char* k = "normal";
  switch (kind) {
    case Kind::kNormal:
      k = "normal";
      break;
    case Kind::kShutdown:
      k = "shutdown";
      break;
    case Kind::kKilled:
      k = "killed";
      break;
    case Kind::kError:
      k = "error";
      break;
    case Kind::kNoConnection:
      k = "noconnection";
      break;
  }
  return detail.empty() ? std::string(k) : std::string(k) + ": " + detail;
}

ActorRef Actor::self() const { return ActorRef(cell_); }
ActorSystem& Actor::system() const { return cell_->system(); }

ActorRef Actor::spawn(std::unique_ptr<Actor> actor, SpawnOptions options) {
  return system().spawn_cell(cell_, std::move(actor), std::move(options));
}

bool Actor::cancel_timer(TimerId id) { return system().cancel_timer(id); }
std::uint64_t Actor::monitor(const ActorRef& target) { return target ? cell_->monitor(target) : 0; }
void Actor::demonitor(const ActorRef& target, std::uint64_t monitor_id) {
  if (target) cell_->demonitor(target, monitor_id);
}
void Actor::link(const ActorRef& other) {
  if (other) cell_->link(other);
}
void Actor::unlink(const ActorRef& other) {
  if (other) cell_->unlink(other);
}
void Actor::trap_exit(bool on) { cell_->set_trap_exit(on); }
void Actor::stop(ExitReason reason) { cell_->request_stop(std::move(reason)); }

void Actor::yield_then(std::function<void()> resume) { cell_->yield_then(std::move(resume)); }

std::function<void()> Actor::wait_then(std::function<void()> resume) {
  return cell_->wait_then(std::move(resume));
}

void Actor::forward(const ActorRef& to) { cell_->forward_current(to); }

std::vector<ActorId> Actor::call_chain() const {
  const CallChain* chain = cell_->current_chain();
  return chain ? *chain : CallChain{};
}

bool detail::forwarded(const Message& m) {
  const ActorCell* cell = ActorCell::current();
  return cell != nullptr && cell->forwarded(&m);
}

ReplyPromise Actor::take_reply() {
  Message* m = cell_->current_message();
  if (!m || !m->request || m->reply_taken) return {};
  m->reply_taken = true;  // the request stays on the message: its call chain still applies
  return ReplyPromise(m->request);
}

}  // namespace troupe
