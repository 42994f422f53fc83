/* pinger: "ping" finds a live actor of the type named by the payload (default "echo"): the
 * signed example:<name>:0.1.0 (the example packages), else the node's native kind of that name
 * (troupe/<name>); calls its "echo" route and waits for the answer (the host suspends this
 * guest meanwhile; its worker thread runs other actors), then replies "pong: <answer>". */
#include <stdio.h>
#include <string.h>
#include <troupe/actr.h>

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (!actr_str_eq(env->route, "ping")) {
    return actr_fail(ACTR_UNKNOWN_ROUTE, "pinger has no route '%.*s'", (int)env->route.len,
                     env->route.ptr);
  }
  actr_type type = {actr_str_of("example"), {"echo", 4}, actr_str_of("0.1.0")};
  if (env->payload.len > 0) {
    type.name.ptr = (const char*)env->payload.ptr;
    type.name.len = env->payload.len;
  }
  actr_id target;
  actr_status s = actr_discover(&type, &target);
  if (s == ACTR_NOT_FOUND) {
    actr_type native = {actr_str_of("troupe"), type.name, actr_str_of("")};
    s = actr_discover(&native, &target);
  }
  if (s != ACTR_OK) return s; /* the host's detail goes back with it */
  actr_dest dest = actr_dest_actor(&target);
  actr_buf answer = {0, 0};
  s = actr_call(&dest, "echo", "ping", 4, &answer);
  actr_id_free(&target);
  if (s != ACTR_OK) return s;
  char text[256];
  int n = snprintf(text, sizeof text, "pong: %.*s", (int)answer.len, (const char*)answer.ptr);
  actr_buf_free(&answer);
  return actr_reply(reply, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}
ACTR_DISPATCH(dispatch)
