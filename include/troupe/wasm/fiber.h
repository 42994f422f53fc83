// GuestFiber: runs a guest invocation on its own stack (Boost.Context) so that a blocking
// host call can suspend it and give the worker thread back; the reply resumes it, on whichever
// worker runs the actor then. Stacks (256 KiB, with a guard page) are pooled process-wide.
// One fiber per invocation; resume() and suspend() alternate. Not thread-safe: the owning
// actor drives it, one step at a time.
// Destroying a suspended fiber cancels it: its pending suspend() returns false (and so does
// every later one, at once), and the body must then fail the host call so that the guest
// traps and the body ends through its normal paths (the guest's trap unwinding, the
// interpreter's trap result). A fiber is never torn down by unwinding an exception through
// the guest's frames, which are C (AOT) or libwabt's, built without exception support.
#pragma once

#include <functional>
#include <memory>

namespace troupe::wasm {

class GuestFiber {
 public:
  explicit GuestFiber(std::function<void()> body);
  ~GuestFiber();  // cancels the body if it is suspended (see above), then frees the stack
  GuestFiber(const GuestFiber&) = delete;
  GuestFiber& operator=(const GuestFiber&) = delete;

  // Runs the body until it finishes (true) or suspends (false).
  bool resume();
  // From inside the body: back to the resume() that is running it. True when resumed to go
  // on; false when the fiber is being cancelled (the caller must stop waiting and fail).
  [[nodiscard]] bool suspend();
  // Cancels a suspended body and runs it to its end; true when it ended (the destructor calls
  // it; an owner whose body uses the owner's members calls it first, while they exist).
  bool cancel();
  bool running() const { return running_; }
  bool finished() const { return finished_; }
  bool cancelled() const { return cancelled_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool started_ = false;
  bool running_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
};

}  // namespace troupe::wasm
