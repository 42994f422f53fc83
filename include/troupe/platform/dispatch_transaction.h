// DispatchTransaction: the storage half of the output gate (workerd's idea). The actor runtime
// opens one around each dispatch of an actor that has a store: every put and delete the
// handler makes goes into one SQLite transaction, committed when the handler succeeds and
// rolled back when it fails or traps. Reads inside see the dispatch's own writes. After a
// rollback the store, quota counter included, is exactly its committed state, and a
// crash-restart sees exactly the committed state (synchronous=FULL: commit() returns after
// the data is on disk).
//
// What the runtime must do around it (the other half of the gate, not done here):
//   1. begin() before calling the handler (or the guest's `dispatch`/hook).
//   2. Hold every tell, reply and stream send the handler makes; send none yet.
//   3. Handler returned success: commit(). Only when commit() succeeds, release the held
//      messages in order. When commit() fails (full disk, I/O error), treat the dispatch as
//      failed: drop the held messages, reply with the error, run the failure path.
//   4. Handler failed or trapped: let the transaction go (or call rollback()), drop the held
//      messages; the failure path (on-error, restart) runs against the committed state.
//   5. Never begin a second transaction on a store while one is open; end it before the
//      activation yields the worker for good (a guest suspended on a fiber inside a dispatch
//      keeps its transaction open across the wait; nothing else uses the store meanwhile).
// A dispatch that never touches storage costs no SQLite work: the SQLite transaction opens at
// the first write.
//
// Threading: that of the store (one activation at a time). Lifetime: must end before the
// store; move-only; the destructor rolls back unless commit() was called.
#pragma once

#include "troupe/base/result.h"
#include "troupe/platform/actor_store.h"

namespace troupe {

class DispatchTransaction {
 public:
  // Fails `internal` when a dispatch transaction is already open on the store.
  static Result<DispatchTransaction> begin(ActorStore& store);

  DispatchTransaction(DispatchTransaction&& other) noexcept;
  DispatchTransaction& operator=(DispatchTransaction&&) = delete;
  DispatchTransaction(const DispatchTransaction&) = delete;
  DispatchTransaction& operator=(const DispatchTransaction&) = delete;
  ~DispatchTransaction();

  // Errors: io (the commit did not reach the disk: nothing of the dispatch is kept),
  // unavailable (SQLite dropped the transaction after an earlier error in this dispatch).
  // Either way the store is at its committed state afterwards.
  Result<void> commit();
  // Idempotent; a no-op after commit.
  void rollback();

 private:
  explicit DispatchTransaction(ActorStore& store) : store_(&store) {}
  ActorStore* store_;
};

}  // namespace troupe
