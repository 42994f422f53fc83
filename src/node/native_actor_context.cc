#include "troupe/node/native_actor_context.h"

#include <utility>

#include "troupe/node/platform_services.h"
#include "troupe/platform/actor_store_path.h"
#include "troupe/platform/dispatch_transaction.h"
#include "troupe/platform/key_name.h"
#include "troupe/platform/platform_error.h"

namespace troupe {

Result<Ed25519Signature> NativeSigner::sign(BytesView message) {
  if (message.size() > kMaxMessageBytes) {
    return Error{BaseErrc::kTooLarge, "a message to sign is at most " +
                                          std::to_string(kMaxMessageBytes) + " bytes, not " +
                                          std::to_string(message.size())};
  }
  return custody_.sign(key_name_, message);
}

Result<Ed25519PublicKey> NativeSigner::public_key() { return custody_.public_key(key_name_); }

NativeActorContext::NativeActorContext(std::string kind, std::string name, NativeGrants grants,
                                       PlatformServices* platform)
    : kind_(std::move(kind)), name_(std::move(name)), grants_(grants), platform_(platform) {}

NativeActorContext::~NativeActorContext() = default;

std::string NativeActorContext::key_name(const std::string& kind, const std::string& name) {
  return "native/" + kind + "/" + name;
}

Result<void> NativeActorContext::check_names(const std::string& kind, const std::string& name) {
  if (name.empty()) {
    return Error{BaseErrc::kInvalidArgument,
                 "the native kind '" + kind +
                     "' is granted storage or signing, kept under the actor's name: give it a "
                     "name (--name N)"};
  }
  if (auto ok = check_storage_component(kind, "native kind"); !ok.ok()) return ok.error();
  if (auto ok = check_storage_component(name, "actor name"); !ok.ok()) return ok.error();
  return check_key_name(key_name(kind, name));
}

namespace {
Error not_granted(const std::string& kind, const char* what, const char* field) {
  return Error{PlatformErrc::kPermissionDenied, "the native kind '" + kind + "' is not granted " +
                                                    what + " (declare NativeGrants::" + field +
                                                    " when registering it)"};
}
Error no_platform() { return Error{BaseErrc::kUnavailable, "this node has no platform services"}; }
}  // namespace

Result<ActorStore*> NativeActorContext::storage() {
  if (!grants_.storage) return not_granted(kind_, "storage", "storage");
  if (lease_) return &lease_->store();
  if (auto ok = check_names(kind_, name_); !ok.ok()) return ok.error();
  if (platform_ == nullptr) return no_platform();
  auto service = platform_->native_storage();
  if (!service.ok()) return service.error();
  auto lease = (*service)->open_store({kind_, name_}, grants_.storage_quota_bytes);
  if (!lease.ok()) return lease.error();
  lease_.emplace(std::move(lease).value());
  return &lease_->store();
}

Result<NativeSigner*> NativeActorContext::signer() {
  if (!grants_.signing) return not_granted(kind_, "signing", "signing");
  if (signer_) return signer_.get();
  if (auto ok = check_names(kind_, name_); !ok.ok()) return ok.error();
  if (platform_ == nullptr) return no_platform();
  std::string key = key_name(kind_, name_);
  if (auto made = platform_->keys().get_or_create(key); !made.ok()) return made.error();
  signer_.reset(new NativeSigner(platform_->keys(), std::move(key)));
  return signer_.get();
}

Result<void> NativeActorContext::transaction(const std::function<Result<void>(ActorStore&)>& body) {
  auto store = storage();
  if (!store.ok()) return store.error();
  auto tx = DispatchTransaction::begin(**store);
  if (!tx.ok()) return tx.error();
  // A throwing body unwinds through tx, whose destructor rolls back.
  Result<void> done = body(**store);
  if (!done.ok()) {
    tx->rollback();
    return done;
  }
  return tx->commit();
}

}  // namespace troupe
