/* echo: replies to route "echo" with its payload. */
#include <troupe/actr.h>

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (!actr_str_eq(env->route, "echo")) {
    return actr_fail(ACTR_UNKNOWN_ROUTE, "echo has no route '%.*s'", (int)env->route.len,
                     env->route.ptr);
  }
  return actr_reply(reply, env->payload.ptr, env->payload.len);
}
ACTR_DISPATCH(dispatch)
