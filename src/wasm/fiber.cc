#include "troupe/wasm/fiber.h"

#include <spdlog/spdlog.h>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <mutex>
#include <vector>

namespace troupe::wasm {
namespace ctx = boost::context;

namespace {

constexpr std::size_t kStackBytes = std::size_t{256} * 1024;
// How many times a cancelled body may suspend again before it is given up on.
constexpr int kCancelResumes = 16;

// Reuses stacks: mapping and guarding a fresh one costs microseconds per invocation.
class StackPool {
 public:
  ctx::stack_context take() {
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        ctx::stack_context s = free_.back();
        free_.pop_back();
        return s;
      }
    }
    return alloc_.allocate();
  }
  void give(ctx::stack_context s) {
    std::lock_guard lock(mutex_);
    if (free_.size() < kKeep) {
      free_.push_back(s);
      return;
    }
    alloc_.deallocate(s);
  }

 private:
  static constexpr std::size_t kKeep = 256;
  std::mutex mutex_;
  std::vector<ctx::stack_context> free_;
  ctx::protected_fixedsize_stack alloc_{kStackBytes};
};

StackPool& pool() {
  static auto* p = new StackPool();  // never destroyed: fibers may end during static teardown
  return *p;
}

// The allocator Boost.Context calls, backed by the pool.
struct PooledStack {
  ctx::stack_context allocate() { return pool().take(); }
  void deallocate(ctx::stack_context& s) noexcept { pool().give(s); }
};

}  // namespace

struct GuestFiber::Impl {
  std::function<void()> body;
  ctx::fiber self;    // the guest side, while suspended
  ctx::fiber caller;  // the resumer, while the guest runs
};

GuestFiber::GuestFiber(std::function<void()> body) : impl_(std::make_unique<Impl>()) {
  impl_->body = std::move(body);
  impl_->self = ctx::fiber(std::allocator_arg, PooledStack{}, [this](ctx::fiber&& caller) {
    impl_->caller = std::move(caller);
    impl_->body();
    finished_ = true;
    return std::move(impl_->caller);
  });
}

GuestFiber::~GuestFiber() {
  if (!cancel()) {
    // A body that kept suspending after its cancellation: Boost.Context unwinds it by
    // throwing through its frames, the last resort this class exists to avoid.
    spdlog::error("a guest fiber did not end when cancelled; unwinding it");
  }
}

bool GuestFiber::cancel() {
  if (!started_ || finished_) return true;
  cancelled_ = true;
  // Every suspend() now returns at once: a body that honours the contract ends in one resume.
  for (int i = 0; i < kCancelResumes && !finished_; ++i) resume();
  return finished_;
}

bool GuestFiber::resume() {
  started_ = true;
  running_ = true;
  impl_->self = std::move(impl_->self).resume();
  running_ = false;
  return finished_;
}

bool GuestFiber::suspend() {
  if (cancelled_) return false;
  impl_->caller = std::move(impl_->caller).resume();
  return !cancelled_;
}

}  // namespace troupe::wasm
