/* The compute benchmark's guest: route "compute" runs compute_kernel(payload rounds) and
 * replies with the checksum in decimal. */
#include <stdio.h>
#include <stdlib.h>
#include <troupe/actr.h>

#include "../compute_kernel.h"

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (!actr_str_eq(env->route, "compute")) {
    return actr_fail(ACTR_UNKNOWN_ROUTE, "no route '%.*s'", (int)env->route.len, env->route.ptr);
  }
  char digits[16] = {0};
  size_t n = env->payload.len < sizeof digits - 1 ? env->payload.len : sizeof digits - 1;
  for (size_t i = 0; i < n; ++i) digits[i] = (char)env->payload.ptr[i];
  char out[32];
  int len = snprintf(out, sizeof out, "%llu",
                     (unsigned long long)compute_kernel((uint32_t)strtoul(digits, NULL, 10)));
  return actr_reply(reply, out, (size_t)len);
}
ACTR_DISPATCH(dispatch)
