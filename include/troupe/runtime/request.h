// The reply side of an ask. A Request is shared (intrusive refcount) by the asker, the
// message that carries it and the timeout timer; the first of complete()/fail() wins and every
// later one is ignored, so a late reply after a timeout is dropped, never delivered twice.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "troupe/base/ids.h"
#include "troupe/base/result.h"
#include "troupe/runtime/timer_service.h"
#include "troupe/runtime/type_tag.h"

namespace troupe {

struct Message;
using MessagePtr = std::unique_ptr<Message>;

// Actors that are blocked (awaiting) somewhere up this request's causal chain.
using CallChain = std::vector<ActorId>;

class Request {
 public:
  Request(std::uint64_t id, TypeTag expected, const char* expected_name, CallChain chain)
      : id_(id), expected_(expected), expected_name_(expected_name), chain_(std::move(chain)) {}
  virtual ~Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  // Returns false when the request was already completed (or timed out).
  bool complete(MessagePtr reply);
  bool fail(Error error);
  bool done() const { return done_.load(std::memory_order_acquire); }
  // The timer that fails this request at its deadline; cancelled when it completes first.
  void set_timeout(TimerService* timers, TimerId id);

  std::uint64_t id() const { return id_; }
  const CallChain& chain() const { return chain_; }
  // How many asks deep this request is on its causal path: an ask made while handling a
  // request of depth d has depth d + 1 (from a reply handler: as the ask it answers). Bounded by
  // SystemConfig::max_call_depth, so an actor that asks itself from its own handler in a loop
  // fails instead of growing without end. Set before the request is sent.
  std::uint32_t depth() const { return depth_; }
  void set_depth(std::uint32_t depth) { depth_ = depth; }
  TypeTag expected() const { return expected_; }

  void add_ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  // Called exactly once, by whichever completion came first.
  virtual void deliver(Result<MessagePtr> result) = 0;

 private:
  bool claim();

  std::atomic<std::uint32_t> refs_{0};
  std::atomic<bool> done_{false};
  std::uint64_t id_;
  TypeTag expected_;
  const char* expected_name_;
  CallChain chain_;
  std::uint32_t depth_ = 0;
  std::atomic<TimerService*> timers_{nullptr};
  std::atomic<std::uint64_t> timer_seq_{0};
};

// Intrusive shared pointer to a Request.
class RequestRef {
 public:
  RequestRef() = default;
  explicit RequestRef(Request* r) : r_(r) {
    if (r_) r_->add_ref();
  }
  RequestRef(const RequestRef& o) : RequestRef(o.r_) {}
  RequestRef(RequestRef&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  RequestRef& operator=(RequestRef o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  ~RequestRef() {
    if (r_) r_->release();
  }
  Request* get() const { return r_; }
  Request* operator->() const { return r_; }
  explicit operator bool() const { return r_ != nullptr; }

 private:
  Request* r_ = nullptr;
};

}  // namespace troupe
