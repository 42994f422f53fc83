#include "output_gate.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace troupe::wasm {

void OutputGate::open() {
  if (storage_ == nullptr) return;
  storage_->begin_dispatch();
  holding_ = true;
}

Result<void> OutputGate::hold(const ActorRef& to, Envelope envelope) {
  const std::size_t size = envelope.route.size() + envelope.payload.size();
  if (held_.size() >= kMostHeldTells || held_bytes_ + size > max_held_bytes_) {
    return Error{BaseErrc::kUnavailable,
                 "too many tells held for this invocation's storage "
                 "commit (at most " +
                     std::to_string(kMostHeldTells) + ", host_call_bytes in all)"};
  }
  held_bytes_ += size;
  held_.push_back({to, std::move(envelope)});
  return {};
}

std::vector<OutputGate::HeldTell> OutputGate::take() {
  std::vector<HeldTell> tells = std::move(held_);
  held_.clear();
  held_bytes_ = 0;
  return tells;
}

Result<void> OutputGate::commit(const std::string& who) {
  if (auto committed = storage_->commit_dispatch(); !committed.ok()) {
    // The detail (SQLite's, a path) stays in the node's log: the asker and the next
    // incarnation's on-error see the code only.
    spdlog::warn("actor {}: storage commit failed: {}", who, committed.error().to_string());
    return Error{committed.error().code, "storage commit failed"};
  }
  return {};
}

Result<void> OutputGate::checkpoint(const Send& send, const std::string& who) {
  if (!holding_) return {};
  std::vector<HeldTell> tells = take();
  if (auto c = commit(who); !c.ok()) {
    holding_ = false;
    return c;
  }
  for (HeldTell& t : tells) send(t.to, std::move(t.envelope));
  storage_->begin_dispatch();
  return {};
}

Result<void> OutputGate::close(bool succeeded, const Send& send, const std::string& who) {
  if (!holding_) return {};
  holding_ = false;
  std::vector<HeldTell> tells = take();
  if (!succeeded) {
    storage_->rollback_dispatch();
    return {};
  }
  if (auto c = commit(who); !c.ok()) return c;
  for (HeldTell& t : tells) send(t.to, std::move(t.envelope));
  return {};
}

}  // namespace troupe::wasm
