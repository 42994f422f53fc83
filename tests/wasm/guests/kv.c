/* kv: a guest of troupe:host storage, for the tests. Routes (payload):
 *   put (key=value), get (key), del (key), list (prefix): the storage calls; a failed one fails
 *     the dispatch with "<status>: <message>".
 *   put-fail (key=value): puts, then fails the dispatch (its write must roll back).
 *   put-trap (key=value): puts, then traps.
 *   put-tell-fail (key=value): puts, tells the troupe/witness actor (route "seen", payload
 *     key=value), then fails: neither the write nor the tell may be seen.
 *   put-tell (key=value): the same, succeeding: the tell goes out after the commit.
 *   put-call-put-fail (key=value): puts, tells the witness ("seen"), calls it ("asked"), puts
 *     after=1, then fails: the call commits what came before it (and lets the tell go first);
 *     only the later put rolls back.
 *   tell-many (count): puts x=1, then tells the witness `count` times ("many"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <troupe/actr.h>
#include <troupe/troupe_host.h>

static const char* status_name(troupe_status s) {
  switch (s) {
    case TROUPE_OK:
      return "ok";
    case TROUPE_DENIED:
      return "denied";
    case TROUPE_QUOTA_EXCEEDED:
      return "quota-exceeded";
    case TROUPE_NOT_FOUND:
      return "not-found";
    case TROUPE_INVALID_ARGUMENT:
      return "invalid-argument";
    case TROUPE_INTERNAL:
      return "internal";
  }
  return "?";
}

static actr_status failed(troupe_status s) {
  return actr_fail(ACTR_INTERNAL, "%s: %s", status_name(s), troupe_last_error());
}

/* key=value: put it. */
static troupe_status put_pair(const actr_envelope* env) {
  const char* p = (const char*)env->payload.ptr;
  const char* eq = memchr(p, '=', env->payload.len);
  if (eq == NULL) return TROUPE_INVALID_ARGUMENT;
  return troupe_storage_put(p, (size_t)(eq - p), eq + 1, env->payload.len - (size_t)(eq - p) - 1);
}

/* The live actor of type troupe/witness (a native actor in the tests). */
static actr_status tell_witness(const actr_envelope* env) {
  actr_type type = {actr_str_of("troupe"), actr_str_of("witness"), actr_str_of("")};
  actr_id id;
  actr_status s = actr_discover(&type, &id);
  if (s != ACTR_OK) return s;
  actr_dest to = actr_dest_actor(&id);
  s = actr_tell(&to, "seen", env->payload.ptr, env->payload.len);
  actr_id_free(&id);
  return s;
}

static actr_status call_witness(const actr_envelope* env) {
  actr_type type = {actr_str_of("troupe"), actr_str_of("witness"), actr_str_of("")};
  actr_id id;
  actr_status s = actr_discover(&type, &id);
  if (s != ACTR_OK) return s;
  actr_dest to = actr_dest_actor(&id);
  actr_buf answer;
  s = actr_call(&to, "asked", env->payload.ptr, env->payload.len, &answer);
  if (s == ACTR_OK) actr_buf_free(&answer);
  actr_id_free(&id);
  return s;
}

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  const char* key = (const char*)env->payload.ptr;
  size_t len = env->payload.len;
  troupe_status s;
  if (actr_str_eq(env->route, "put")) {
    s = put_pair(env);
    return s == TROUPE_OK ? ACTR_OK : failed(s);
  }
  if (actr_str_eq(env->route, "get")) {
    bool found = false;
    actr_buf value;
    s = troupe_storage_get(key, len, &value, &found);
    if (s != TROUPE_OK) return failed(s);
    if (!found) return actr_fail(ACTR_NOT_FOUND, "no key");
    actr_status r = actr_reply(reply, value.ptr, value.len);
    actr_buf_free(&value);
    return r;
  }
  if (actr_str_eq(env->route, "del")) {
    bool existed = false;
    s = troupe_storage_delete(key, len, &existed);
    return s != TROUPE_OK ? failed(s) : actr_reply_str(reply, existed ? "1" : "0");
  }
  if (actr_str_eq(env->route, "list")) {
    actr_buf* keys = NULL;
    size_t count = 0;
    s = troupe_storage_list_keys(key, len, 100, &keys, &count);
    if (s != TROUPE_OK) return failed(s);
    size_t total = 0;
    for (size_t i = 0; i < count; ++i) total += keys[i].len + 1;
    char* out = malloc(total + 1);
    size_t at = 0;
    for (size_t i = 0; i < count; ++i) {
      memcpy(out + at, keys[i].ptr, keys[i].len);
      at += keys[i].len;
      out[at++] = '\n';
    }
    actr_status r = actr_reply(reply, out, at);
    free(out);
    troupe_keys_free(keys, count);
    return r;
  }
  if (actr_str_eq(env->route, "put-fail")) {
    s = put_pair(env);
    return s != TROUPE_OK ? failed(s) : actr_fail(ACTR_INTERNAL, "failing after the put");
  }
  if (actr_str_eq(env->route, "put-trap")) {
    if (put_pair(env) == TROUPE_OK) abort();
    return ACTR_INTERNAL;
  }
  if (actr_str_eq(env->route, "put-tell-fail") || actr_str_eq(env->route, "put-tell")) {
    s = put_pair(env);
    if (s != TROUPE_OK) return failed(s);
    actr_status t = tell_witness(env);
    if (t != ACTR_OK) return t;
    if (actr_str_eq(env->route, "put-tell")) return ACTR_OK;
    return actr_fail(ACTR_INTERNAL, "failing after the put and the tell");
  }
  if (actr_str_eq(env->route, "put-call-put-fail")) {
    s = put_pair(env);
    if (s != TROUPE_OK) return failed(s);
    actr_status t = tell_witness(env);
    if (t != ACTR_OK) return t;
    t = call_witness(env);
    if (t != ACTR_OK) return t;
    s = troupe_storage_put("after", 5, "1", 1);
    if (s != TROUPE_OK) return failed(s);
    return actr_fail(ACTR_INTERNAL, "failing after the call");
  }
  if (actr_str_eq(env->route, "tell-many")) {
    char count_text[16] = {0};
    memcpy(count_text, key, len < 15 ? len : 15);
    int count = atoi(count_text);
    s = troupe_storage_put("x", 1, "1", 1);
    if (s != TROUPE_OK) return failed(s);
    actr_type type = {actr_str_of("troupe"), actr_str_of("witness"), actr_str_of("")};
    actr_id id;
    actr_status t = actr_discover(&type, &id);
    if (t != ACTR_OK) return t;
    actr_dest to = actr_dest_actor(&id);
    for (int i = 0; i < count && t == ACTR_OK; ++i) t = actr_tell(&to, "many", "", 0);
    actr_id_free(&id);
    return t;
  }
  return actr_fail(ACTR_UNKNOWN_ROUTE, "kv has no route '%.*s'", (int)env->route.len,
                   env->route.ptr);
}
ACTR_DISPATCH(dispatch)
