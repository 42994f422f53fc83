// GuestFiber: runs guest invocations on a stack of their own (Boost.Context), so that a host
// call that must wait, or the end of a time slice (preemption), can suspend the guest and give
// the worker thread back; the actor resumes it later, on whichever worker runs it then.
//
// A fiber runs one job at a time and stays alive between jobs: an idle fiber goes back to the
// cache of the thread that finished with it (take() / FiberPtr's deleter), so an invocation
// costs two context switches, no allocation and no lock. Stacks are 256 KiB with a guard page.
// Not thread-safe: the owning actor drives it, one step at a time.
//
// Destroying (or releasing) a fiber whose job is suspended cancels the job: its pending
// suspend() returns false (and so does every later one, at once), and the job must then fail
// the host call so that the guest traps and the job ends through its normal paths (the
// guest's trap unwinding, the interpreter's trap result). A fiber is never torn down by
// unwinding an exception through the guest's frames, which are C (AOT) or libwabt's, built
// without exception support; Boost's forced unwind is only a logged last resort for a job
// that keeps suspending.
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

  ~GuestFiber();  // cancels a suspended job (see above), then frees the stack
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
  // From inside the job: back to the start() or resume() that is running it. True when
  // resumed to go on; false when the job is being cancelled (the caller must stop waiting and
  // fail).
  [[nodiscard]] bool suspend();
  // Cancels a suspended job and runs it to its end; true when it ended (the destructor calls
  // it; an owner whose job uses the owner's members calls it first, while they exist).
  bool cancel();
  bool running() const { return running_; }
  bool busy() const { return busy_; }            // a job started and has not finished
  bool cancelled() const { return cancelled_; }  // the current (or last) job was cancelled

 private:
  GuestFiber();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool running_ = false;
  bool busy_ = false;
  bool cancelled_ = false;
};

}  // namespace troupe::wasm
