#include "troupe/wasm/fiber.h"

#include <spdlog/spdlog.h>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace troupe::wasm {
namespace ctx = boost::context;

namespace {

// ThreadSanitizer follows each thread's call stack; it must be told when a thread changes
// stacks, or a fiber suspended mid-call leaves its frames on the thread's shadow stack (which
// then overflows after enough preemptions) and accesses are attributed to the wrong context.
#if defined(__SANITIZE_THREAD__)
struct TsanFiber {
  void* self = __tsan_create_fiber(0);
  void* caller = nullptr;
  ~TsanFiber() { __tsan_destroy_fiber(self); }
  void enter() {
    caller = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(self, 0);
  }
  void leave() { __tsan_switch_to_fiber(caller, 0); }
};
#else
struct TsanFiber {
  void enter() {}
  void leave() {}
};
#endif

}  // namespace

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
  ctx::fiber self;    // the fiber's side, while it is not running
  ctx::fiber caller;  // the resumer, while the fiber runs
  Job job = nullptr;
  void* arg = nullptr;
  bool closing = false;  // set by the destructor of an idle fiber: leave the loop
  TsanFiber tsan;
};

namespace {

// Idle fibers kept by each thread: bounded, so memory follows the number of guests suspended
// at once, not the number of actors.
struct FiberCache {
  static constexpr std::size_t kKeep = 32;
  std::vector<GuestFiber*> idle;
  ~FiberCache() {
    for (GuestFiber* f : idle) delete f;
  }
};
thread_local FiberCache t_cache;

}  // namespace

GuestFiber::GuestFiber() : impl_(std::make_unique<Impl>()) {
  impl_->self = ctx::fiber(std::allocator_arg, PooledStack{}, [this](ctx::fiber&& caller) {
    impl_->caller = std::move(caller);
    for (;;) {
      impl_->job(impl_->arg);
      busy_ = false;
      impl_->tsan.leave();
      impl_->caller = std::move(impl_->caller).resume();  // idle until the next start()
      if (impl_->closing) break;
    }
    impl_->tsan.leave();
    return std::move(impl_->caller);
  });
}

GuestFiber::~GuestFiber() {
  if (!cancel()) {
    // A job that kept suspending after its cancellation: Boost.Context unwinds it by throwing
    // through its frames, the last resort this class exists to avoid.
    spdlog::error("a guest fiber did not end when cancelled; unwinding it");
    return;
  }
  if (impl_->job != nullptr) {  // parked in its loop: let the loop return
    impl_->closing = true;
    impl_->tsan.enter();
    impl_->self = std::move(impl_->self).resume();
  }
}

bool GuestFiber::cancel() {
  if (!busy_) return true;
  cancelled_ = true;
  // Every suspend() now returns at once: a job that honours the contract ends in one resume.
  for (int i = 0; i < kCancelResumes && busy_; ++i) resume();
  return !busy_;
}

FiberPtr GuestFiber::take() {
  if (!t_cache.idle.empty()) {
    GuestFiber* f = t_cache.idle.back();
    t_cache.idle.pop_back();
    return FiberPtr(f);
  }
  return FiberPtr(new GuestFiber());
}

void FiberReturn::operator()(GuestFiber* fiber) const noexcept {
  if (fiber->busy() || t_cache.idle.size() >= FiberCache::kKeep) {
    delete fiber;
    return;
  }
  t_cache.idle.push_back(fiber);
}

bool GuestFiber::start(Job job, void* arg) {
  impl_->job = job;
  impl_->arg = arg;
  busy_ = true;
  cancelled_ = false;
  return resume();
}

bool GuestFiber::resume() {
  running_ = true;
  impl_->tsan.enter();
  impl_->self = std::move(impl_->self).resume();
  running_ = false;
  return !busy_;
}

bool GuestFiber::suspend() {
  if (cancelled_) return false;
  impl_->tsan.leave();
  impl_->caller = std::move(impl_->caller).resume();
  return !cancelled_;
}

}  // namespace troupe::wasm
