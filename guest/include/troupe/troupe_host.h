/* troupe guest SDK (C): troupe's own host interfaces beyond the workload contract
 * (wit/troupe-host.wit): the actor's key-value storage, signing with its custodial key and its
 * credential.
 * The node serves them only to an actor whose package was granted them; a guest that uses one
 * it was not granted is refused at spawn. Storage writes made while handling a message commit
 * when the handler succeeds and roll back when it fails or traps; the tells and the reply it
 * sent are released only after that commit. */
#ifndef TROUPE_TROUPE_HOST_H
#define TROUPE_TROUPE_HOST_H

#include <troupe/actr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* troupe:host/errors.host-error, plus TROUPE_OK. */
typedef enum troupe_status {
  TROUPE_OK = -1,
  TROUPE_DENIED = 0,
  TROUPE_QUOTA_EXCEEDED = 1,
  TROUPE_NOT_FOUND = 2,
  TROUPE_INVALID_ARGUMENT = 3,
  TROUPE_INTERNAL = 4,
} troupe_status;

/* The message of the last failed call (empty when none); valid until the next call. */
const char* troupe_last_error(void);

/* `found` false (and `value` empty) when the key is absent. Release `value` with
 * actr_buf_free. Keys are UTF-8 text. */
troupe_status troupe_storage_get(const char* key, size_t key_len, actr_buf* value, bool* found);
troupe_status troupe_storage_put(const char* key, size_t key_len, const void* value,
                                 size_t value_len);
troupe_status troupe_storage_delete(const char* key, size_t key_len, bool* existed);
/* Keys starting with `prefix`, in byte order, at most `limit`: `keys` holds `count` buffers;
 * release it with troupe_keys_free. */
troupe_status troupe_storage_list_keys(const char* prefix, size_t prefix_len, uint32_t limit,
                                       actr_buf** keys, size_t* count);
void troupe_keys_free(actr_buf* keys, size_t count);

/* An Ed25519 signature (64 bytes) by the actor's custodial key; release with actr_buf_free. */
troupe_status troupe_sign(const void* message, size_t len, actr_buf* signature);
/* The actor's public key (32 bytes); release with actr_buf_free. */
actr_buf troupe_public_key(void);

/* The actor's current credential from the node's identity service: a compact JWS (text, not
 * NUL-terminated) bound to the key troupe_sign uses; release with actr_buf_free. */
troupe_status troupe_credential(actr_buf* jws);

#ifdef __cplusplus
}
#endif

#endif /* TROUPE_TROUPE_HOST_H */
