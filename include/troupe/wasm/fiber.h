// GuestFiber: runs guest invocations on a stack of their own (Boost.Context), so that a host
// call that must wait, or the end of a time slice (preemption), can suspend the guest and give
// the worker thread back; the actor resumes it later, on whichever worker runs it then.
//
// A fiber runs one job at a time and stays alive between jobs: an idle fiber goes back to the
// cache of the thread that finished with it (take() / FiberPtr's deleter), so an invocation
// costs two context switches, no allocation and no lock. Stacks are 256 KiB with a guard page.
// A fiber destroyed mid-job is unwound (Boost's forced unwind). Not thread-safe: the owning
// actor drives it, one step at a time.
#pragma once

#include <memory>

namespace troupe::wasm {

class GuestFiber;
// Returns an idle fiber to this thread's cache; destroys a busy or surplus one.
struct FiberReturn {
  void operator()(GuestFiber* fiber) const noexcept;
};
using FiberPtr = std::unique_ptr<GuestFiber, FiberReturn>;

class GuestFiber {
 public:
  using Job = void (*)(void* arg);

  // An idle fiber from this thread's cache, or a new one.
  static FiberPtr take();

  ~GuestFiber();
  GuestFiber(const GuestFiber&) = delete;
  GuestFiber& operator=(const GuestFiber&) = delete;

  // Idle fiber only: runs job(arg) until it finishes (true) or suspends (false).
  bool start(Job job, void* arg);
  // Runs `f()`, which must outlive the job.
  template <class F>
  bool start(F& f) {
    return start([](void* p) { (*static_cast<F*>(p))(); }, &f);
  }
  // A suspended job: runs it on until it finishes (true) or suspends again (false).
  bool resume();
  // From inside the job: back to the start() or resume() that is running it.
  void suspend();
  bool running() const { return running_; }
  bool busy() const { return busy_; }  // a job started and has not finished

 private:
  GuestFiber();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool running_ = false;
  bool busy_ = false;
};

}  // namespace troupe::wasm
