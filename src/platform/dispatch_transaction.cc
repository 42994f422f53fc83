#include "troupe/platform/dispatch_transaction.h"

#include <utility>

namespace troupe {

Result<DispatchTransaction> DispatchTransaction::begin(ActorStore& store) {
  if (store.in_dispatch_) {
    return Error{BaseErrc::kInternal, "a dispatch transaction is already open on " + store.path()};
  }
  store.begin_dispatch();
  return DispatchTransaction(store);
}

DispatchTransaction::DispatchTransaction(DispatchTransaction&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)) {}

DispatchTransaction::~DispatchTransaction() { rollback(); }

Result<void> DispatchTransaction::commit() {
  ActorStore* store = std::exchange(store_, nullptr);
  if (store == nullptr) return Error{BaseErrc::kInternal, "commit of a finished dispatch"};
  return store->commit_dispatch();
}

void DispatchTransaction::rollback() {
  if (ActorStore* store = std::exchange(store_, nullptr)) store->rollback_dispatch();
}

}  // namespace troupe
