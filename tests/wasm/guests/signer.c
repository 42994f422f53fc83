/* signer: a guest of troupe:host signing, for the tests. Routes: sign (message) replies the
 * signature, pubkey the actor's public key, sign-loop (count) signs a 1 MiB message `count`
 * times. */
#include <stdlib.h>
#include <string.h>
#include <troupe/actr.h>
#include <troupe/troupe_host.h>

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (actr_str_eq(env->route, "sign")) {
    actr_buf sig;
    troupe_status s = troupe_sign(env->payload.ptr, env->payload.len, &sig);
    if (s != TROUPE_OK) return actr_fail(ACTR_INTERNAL, "sign: %s", troupe_last_error());
    actr_status r = actr_reply(reply, sig.ptr, sig.len);
    actr_buf_free(&sig);
    return r;
  }
  if (actr_str_eq(env->route, "sign-loop")) {
    static char message[1 << 20];
    char count_text[16] = {0};
    memcpy(count_text, env->payload.ptr, env->payload.len < 15 ? env->payload.len : 15);
    int count = atoi(count_text);
    for (int i = 0; i < count; ++i) {
      actr_buf sig;
      if (troupe_sign(message, sizeof message, &sig) != TROUPE_OK) {
        return actr_fail(ACTR_INTERNAL, "sign: %s", troupe_last_error());
      }
      actr_buf_free(&sig);
    }
    return ACTR_OK;
  }
  if (actr_str_eq(env->route, "pubkey")) {
    actr_buf key = troupe_public_key();
    actr_status r = actr_reply(reply, key.ptr, key.len);
    actr_buf_free(&key);
    return r;
  }
  return actr_fail(ACTR_UNKNOWN_ROUTE, "signer has no route '%.*s'", (int)env->route.len,
                   env->route.ptr);
}
ACTR_DISPATCH(dispatch)
