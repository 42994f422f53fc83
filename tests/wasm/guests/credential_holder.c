/* credential-holder: a guest of troupe:host identity and signing, for the tests. Routes:
 * credential replies the actor's current credential (a compact JWS), sign (message) the
 * signature by the actor's custodial key, hooks the credential hooks it got, one per line:
 * "renewed EXPIRY" or "expiring EXPIRY". */
#include <stdio.h>
#include <string.h>
#include <troupe/actr.h>
#include <troupe/troupe_host.h>

static char hooks[4096];

static void note(const char* hook, actr_timestamp t) {
  size_t used = strlen(hooks);
  if (used + 64 >= sizeof hooks) return; /* full: the tests read the first ones */
  snprintf(hooks + used, sizeof hooks - used, "%s %llu\n", hook, (unsigned long long)t.seconds);
}
static void renewed(actr_timestamp t) { note("renewed", t); }
static void expiring(actr_timestamp t) { note("expiring", t); }
ACTR_ON_CREDENTIAL_RENEWED(renewed)
ACTR_ON_CREDENTIAL_EXPIRING(expiring)

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (actr_str_eq(env->route, "credential")) {
    actr_buf jws;
    if (troupe_credential(&jws) != TROUPE_OK) {
      return actr_fail(ACTR_INTERNAL, "credential: %s", troupe_last_error());
    }
    actr_status r = actr_reply(reply, jws.ptr, jws.len);
    actr_buf_free(&jws);
    return r;
  }
  if (actr_str_eq(env->route, "sign")) {
    actr_buf sig;
    if (troupe_sign(env->payload.ptr, env->payload.len, &sig) != TROUPE_OK) {
      return actr_fail(ACTR_INTERNAL, "sign: %s", troupe_last_error());
    }
    actr_status r = actr_reply(reply, sig.ptr, sig.len);
    actr_buf_free(&sig);
    return r;
  }
  if (actr_str_eq(env->route, "hooks")) return actr_reply(reply, hooks, strlen(hooks));
  return actr_fail(ACTR_UNKNOWN_ROUTE, "credential-holder has no route '%.*s'",
                   (int)env->route.len, env->route.ptr);
}
ACTR_DISPATCH(dispatch)
