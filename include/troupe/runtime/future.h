// Future<R>: the reply of an ask made from outside the actor system (a plain thread, the CLI
// server, a test). get() blocks the calling thread, so it refuses to run on a worker thread
// (that would stall every actor queued behind it); actors use Actor::ask/await instead.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>

#include "troupe/runtime/message.h"
#include "troupe/runtime/request.h"

namespace troupe {

namespace detail {

class FutureState final : public Request {
 public:
  using Request::Request;
  // Blocks until delivered or until `until` returns true from a timed wait.
  template <class Pred>
  std::optional<Result<MessagePtr>> take(Pred wait) {
    std::unique_lock lock(mutex_);
    if (!wait(lock, cv_, [this] { return result_.has_value(); })) return std::nullopt;
    std::optional<Result<MessagePtr>> out = std::move(result_);
    result_.reset();
    result_.emplace(Error{BaseErrc::kInternal, "future already consumed"});
    return out;
  }
  bool ready() {
    std::lock_guard lock(mutex_);
    return result_.has_value();
  }

 private:
  void deliver(Result<MessagePtr> result) override {
    {
      std::lock_guard lock(mutex_);
      result_.emplace(std::move(result));
    }
    cv_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<Result<MessagePtr>> result_;
};

template <class R>
Result<R> unbox(Result<MessagePtr> r) {
  if (!r.ok()) return r.error();
  return std::move(r.value()->template as<R>());
}

bool on_worker_thread();

}  // namespace detail

template <class R>
class Future {
 public:
  Future() = default;
  explicit Future(RequestRef state) : state_(std::move(state)) {}

  bool valid() const { return static_cast<bool>(state_); }
  bool ready() const { return state_ && st()->ready(); }

  // Waits for the reply (the ask's own timeout bounds the wait). One get() per future.
  Result<R> get() {
    if (!state_) return Error{BaseErrc::kInvalidArgument, "empty future"};
    if (detail::on_worker_thread()) {
      return Error{BaseErrc::kInvalidArgument,
                   "Future::get on an actor worker thread would block it; use Actor::ask"};
    }
    auto r = st()->take([](auto& lock, auto& cv, auto pred) {
      cv.wait(lock, pred);
      return true;
    });
    return detail::unbox<R>(std::move(*r));
  }

 private:
  detail::FutureState* st() const { return static_cast<detail::FutureState*>(state_.get()); }
  RequestRef state_;
};

}  // namespace troupe
