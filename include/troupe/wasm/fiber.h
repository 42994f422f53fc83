// GuestFiber: runs a guest invocation on its own stack (Boost.Context) so that a blocking
// host call can suspend it and give the worker thread back; the reply resumes it, on whichever
// worker runs the actor then. Stacks (256 KiB, with a guard page) are pooled process-wide.
// One fiber per invocation; resume() and suspend() alternate. Not thread-safe: the owning
// actor drives it, one step at a time.
#pragma once

#include <functional>
#include <memory>

namespace troupe::wasm {

class GuestFiber {
 public:
  explicit GuestFiber(std::function<void()> body);
  ~GuestFiber();  // the body must have finished
  GuestFiber(const GuestFiber&) = delete;
  GuestFiber& operator=(const GuestFiber&) = delete;

  // Runs the body until it finishes (true) or suspends (false).
  bool resume();
  // From inside the body: back to the resume() that is running it.
  void suspend();
  bool running() const { return running_; }
  bool finished() const { return finished_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool running_ = false;
  bool finished_ = false;
};

}  // namespace troupe::wasm
