/* The test guest: every import is reachable through a route and every export is present.
 * Hooks append to a journal (route "journal" returns it, route "arm" makes the named hook
 * trap the next time it runs). Routes:
 *   echo                 payload back
 *   call-local|call-shell   call(dest, "echo", payload)
 *   tell-local           tell(local, "echo", payload)
 *   call-actor           call(actor(discover("echo")), "echo", payload)
 *   call-raw             call-raw(discover("echo"), "echo", payload)
 *   call-then-work       call(discover("echo"), "echo", "work"), then <payload> loop rounds
 *   call-n               call(discover("echo"), "echo", "n") <payload> times, replies "done"
 *   call-twice           call(discover("echo"), "echo", "first"), then
 *                        call(discover(<payload>), "echo", "second"): replies the second
 *   discover             discover(troupe/<payload>/0.1.0) -> "realm serial m/n/v"
 *   discover-type        discover(<payload> "m:n:v") -> "realm serial m/n/v"
 *   call-serial          call-raw(actor <payload: decimal serial>, "echo", "guess"): a guessed id
 *   tell-serial          tell(actor <payload: decimal serial>, "echo", "guess") -> "told"
 *   reach                "MODE REALM SERIAL ROUTE [ARG]": call (MODE call), call-raw (raw) or
 *                        tell (tell) the actor {REALM, SERIAL} with ROUTE and ARG: the reply,
 *                        or "told"
 *   stream               register "s1", send 3 chunks to the "all-imports" actor found by
 *                        discover, unregister; payload: "reliable" | "latency"
 *   log                  log-message("info", payload)
 *   self | caller | request-id
 *   fail | fail-dep | fail-timeout   an actr-error
 *   trap                 unreachable
 *   spin                 loops forever
 *   grow                 grows memory by <payload> pages, replies the new size in pages */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <troupe/actr.h>

static char journal[4096];
static char armed[64];

static void note(const char* entry) {
  if (armed[0] != 0 && strncmp(entry, armed, strlen(armed)) == 0) __builtin_trap();
  size_t used = strlen(journal);
  snprintf(journal + used, sizeof journal - used, "%s%s", used ? ";" : "", entry);
}

static int format_id(char* out, size_t size, const actr_id* id) {
  return snprintf(out, size, "%u %llu %.*s/%.*s/%.*s", id->realm, (unsigned long long)id->serial,
                  (int)id->type.manufacturer.len, id->type.manufacturer.ptr, (int)id->type.name.len,
                  id->type.name.ptr, (int)id->type.version.len, id->type.version.ptr);
}

static actr_status reply_id(actr_buf* reply, const actr_id* id) {
  char text[512];
  format_id(text, sizeof text, id);
  return actr_reply_str(reply, text);
}

static actr_status find(const char* name, actr_id* out) {
  actr_type type = {actr_str_of("troupe"), actr_str_of(name), actr_str_of("0.1.0")};
  return actr_discover(&type, out);
}

static actr_status stream(const actr_envelope* env, actr_buf* reply) {
  actr_payload_type mode = actr_str_eq(env->route, "stream") && env->payload.len == 7 &&
                                   memcmp(env->payload.ptr, "latency", 7) == 0
                               ? ACTR_STREAM_LATENCY_FIRST
                               : ACTR_STREAM_RELIABLE;
  actr_id target;
  actr_status s = find("all-imports", &target);
  if (s != ACTR_OK) return s;
  actr_dest dest = actr_dest_actor(&target);
  s = actr_register_stream("s1");
  for (uint64_t i = 0; s == ACTR_OK && i < 3; ++i) {
    char text[8];
    int n = snprintf(text, sizeof text, "c%llu", (unsigned long long)i);
    actr_metadata_entry meta[2] = {{actr_str_of("k"), actr_str_of("v")},
                                   {actr_str_of("i"), {text, (size_t)n}}};
    actr_data_stream chunk = {
        actr_str_of("s1"), i, {(const uint8_t*)text, (size_t)n}, meta, 2, true, 1000 + (int64_t)i};
    s = actr_send_data_stream(&dest, &chunk, mode);
  }
  if (s == ACTR_OK) s = actr_unregister_stream("s1");
  actr_id_free(&target);
  if (s != ACTR_OK) return s;
  return actr_reply_str(reply, "streamed 3");
}

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  const actr_str r = env->route;
  const actr_bytes p = env->payload;
  char arg[256] = {0};
  memcpy(arg, p.ptr, p.len < sizeof arg - 1 ? p.len : sizeof arg - 1);
  if (actr_str_eq(r, "echo")) return actr_reply(reply, p.ptr, p.len);
  if (actr_str_eq(r, "journal")) return actr_reply_str(reply, journal);
  if (actr_str_eq(r, "arm")) {
    snprintf(armed, sizeof armed, "%s", arg);
    return actr_reply_str(reply, "armed");
  }
  if (actr_str_eq(r, "call-local") || actr_str_eq(r, "call-shell")) {
    actr_dest d = actr_dest_local();
    if (actr_str_eq(r, "call-shell")) d.kind = ACTR_DEST_SHELL;
    actr_buf out = {0, 0};
    actr_status s = actr_call(&d, "echo", p.ptr, p.len, &out);
    if (s != ACTR_OK) return s;
    *reply = out;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "tell-local")) {
    actr_dest d = actr_dest_local();
    actr_status s = actr_tell(&d, "echo", p.ptr, p.len);
    return s != ACTR_OK ? s : actr_reply_str(reply, "told");
  }
  if (actr_str_eq(r, "call-actor") || actr_str_eq(r, "call-raw")) {
    actr_id target;
    actr_status s = find("echo", &target);
    if (s != ACTR_OK) return s;
    actr_buf out = {0, 0};
    if (actr_str_eq(r, "call-raw")) {
      s = actr_call_raw(&target, "echo", p.ptr, p.len, &out);
    } else {
      actr_dest d = actr_dest_actor(&target);
      s = actr_call(&d, "echo", p.ptr, p.len, &out);
    }
    actr_id_free(&target);
    if (s != ACTR_OK) return s;
    *reply = out;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "call-then-work")) { /* call the echo actor, then run `arg` loop rounds */
    actr_id target;
    actr_status s = find("echo", &target);
    if (s != ACTR_OK) return s;
    actr_buf out = {0, 0};
    actr_dest d = actr_dest_actor(&target);
    s = actr_call(&d, "echo", (const uint8_t*)"work", 4, &out);
    actr_id_free(&target);
    if (s != ACTR_OK) return s;
    const long rounds = strtol(arg, NULL, 10);
    for (volatile long i = 0; i < rounds; i = i + 1) {
    }
    *reply = out;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "call-n")) { /* call the echo actor `arg` times in a row */
    actr_id target;
    actr_status s = find("echo", &target);
    if (s != ACTR_OK) return s;
    actr_dest d = actr_dest_actor(&target);
    const long calls = strtol(arg, NULL, 10);
    for (long i = 0; i < calls && s == ACTR_OK; ++i) {
      actr_buf out = {0, 0};
      s = actr_call(&d, "echo", (const uint8_t*)"n", 1, &out);
      actr_buf_free(&out);
    }
    actr_id_free(&target);
    if (s != ACTR_OK) return s;
    return actr_reply_str(reply, "done");
  }
  if (actr_str_eq(r, "call-twice")) {
    actr_buf out = {0, 0};
    for (int i = 0; i < 2; ++i) {
      actr_id target;
      actr_status s = find(i == 0 ? "echo" : arg, &target);
      if (s != ACTR_OK) return s;
      actr_dest d = actr_dest_actor(&target);
      const char* what = i == 0 ? "first" : "second";
      actr_buf_free(&out);
      s = actr_call(&d, "echo", (const uint8_t*)what, strlen(what), &out);
      actr_id_free(&target);
      if (s != ACTR_OK) return s;
    }
    *reply = out;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "discover")) {
    actr_id id;
    actr_status s = find(arg, &id);
    if (s != ACTR_OK) return s;
    s = reply_id(reply, &id);
    actr_id_free(&id);
    return s;
  }
  if (actr_str_eq(r, "discover-type")) {
    const char* first = strchr(arg, ':');
    const char* second = first ? strchr(first + 1, ':') : NULL;
    if (second == NULL) return actr_fail(ACTR_INVALID_ARGUMENT, "want m:n:v");
    actr_type type = {{arg, (size_t)(first - arg)},
                      {first + 1, (size_t)(second - first - 1)},
                      actr_str_of(second + 1)};
    actr_id id;
    actr_status s = actr_discover(&type, &id);
    if (s != ACTR_OK) return s;
    s = reply_id(reply, &id);
    actr_id_free(&id);
    return s;
  }
  if (actr_str_eq(r, "reach")) {
    char mode[8] = {0}, route[64] = {0};
    unsigned realm = 0;
    unsigned long long serial = 0;
    int used = (int)strlen(arg);
    if (sscanf(arg, "%7s %u %llu %63s %n", mode, &realm, &serial, route, &used) < 4) {
      return actr_fail(ACTR_INVALID_ARGUMENT, "want MODE REALM SERIAL ROUTE [ARG]");
    }
    const uint8_t* rest = (const uint8_t*)arg + used;
    const size_t rest_len = strlen(arg + used);
    actr_id target = {realm, serial, {{"", 0}, {"", 0}, {"", 0}}};
    actr_dest d = actr_dest_actor(&target);
    if (strcmp(mode, "tell") == 0) {
      actr_status s = actr_tell(&d, route, rest, rest_len);
      return s == ACTR_OK ? actr_reply_str(reply, "told") : s;
    }
    actr_buf out = {0, 0};
    actr_status s = strcmp(mode, "raw") == 0 ? actr_call_raw(&target, route, rest, rest_len, &out)
                                              : actr_call(&d, route, rest, rest_len, &out);
    if (s != ACTR_OK) return s;
    *reply = out;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "call-serial") || actr_str_eq(r, "tell-serial")) {
    actr_id target = {0, strtoull(arg, NULL, 10), {{"", 0}, {"", 0}, {"", 0}}};
    if (actr_str_eq(r, "tell-serial")) {
      actr_dest d = actr_dest_actor(&target);
      actr_status s = actr_tell(&d, "echo", "guess", 5);
      return s == ACTR_OK ? actr_reply_str(reply, "told") : s;
    }
    actr_buf out = {0, 0};
    actr_status s = actr_call_raw(&target, "echo", "guess", 5, &out);
    if (s != ACTR_OK) return s;
    *reply = out;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "stream")) return stream(env, reply);
  if (actr_str_eq(r, "log")) {
    actr_log("info", "%s", arg);
    return actr_reply_str(reply, "logged");
  }
  if (actr_str_eq(r, "self")) {
    actr_id id;
    actr_self_id(&id);
    actr_status s = reply_id(reply, &id);
    actr_id_free(&id);
    return s;
  }
  if (actr_str_eq(r, "caller")) {
    actr_id id;
    if (!actr_caller_id(&id)) return actr_reply_str(reply, "none");
    actr_status s = reply_id(reply, &id);
    actr_id_free(&id);
    return s;
  }
  if (actr_str_eq(r, "request-id")) {
    actr_buf id = actr_request_id();
    *reply = id;
    return ACTR_OK;
  }
  if (actr_str_eq(r, "fail")) return actr_fail(ACTR_NOT_FOUND, "%s", arg);
  if (actr_str_eq(r, "fail-dep")) return actr_fail_dependency("svc", "%s", arg);
  if (actr_str_eq(r, "fail-timeout")) return ACTR_TIMED_OUT;
  if (actr_str_eq(r, "trap")) __builtin_trap();
  if (actr_str_eq(r, "spin")) {
    for (volatile int i = 0;; i = i + 1) {
    }
  }
  if (actr_str_eq(r, "grow")) {
    long pages = strtol(arg, NULL, 10);
    long got = (long)__builtin_wasm_memory_grow(0, (unsigned long)pages);
    if (got < 0) return actr_fail(ACTR_UNAVAILABLE, "memory.grow(%ld) failed", pages);
    char text[32];
    snprintf(text, sizeof text, "%lu", (unsigned long)__builtin_wasm_memory_size(0));
    return actr_reply_str(reply, text);
  }
  return actr_fail(ACTR_UNKNOWN_ROUTE, "no route '%.*s'", (int)r.len, r.ptr);
}

static actr_status on_start(void) {
  note("on-start");
  return ACTR_OK;
}
static actr_status on_ready(void) {
  note("on-ready");
  return ACTR_OK;
}
static actr_status on_stop(void) {
  note("on-stop");
  actr_log("info", "journal at stop: %s", journal);
  return ACTR_OK;
}
static actr_status on_error(const actr_error_event* ev) {
  char text[512];
  snprintf(text, sizeof text, "on-error(%d:%.*s/%d/%.*s)", (int)ev->source.status,
           (int)ev->source.message.len, ev->source.message.ptr, (int)ev->category,
           (int)ev->context.len, ev->context.ptr);
  note(text);
  return ACTR_OK;
}
static void sig_connecting(void) { note("on-signaling-connecting"); }
static void sig_connected(void) { note("on-signaling-connected"); }
static void sig_disconnected(void) { note("on-signaling-disconnected"); }

static void peer(const char* hook, const actr_peer_event* ev) {
  char id[256], text[400];
  format_id(id, sizeof id, &ev->peer);
  snprintf(text, sizeof text, "%s(%s %s)", hook, id,
           !ev->has_relayed ? "none"
           : ev->relayed    ? "relayed"
                            : "direct");
  note(text);
}
static void ws_connecting(const actr_peer_event* ev) { peer("on-websocket-connecting", ev); }
static void ws_connected(const actr_peer_event* ev) { peer("on-websocket-connected", ev); }
static void ws_disconnected(const actr_peer_event* ev) { peer("on-websocket-disconnected", ev); }
static void rtc_connecting(const actr_peer_event* ev) { peer("on-webrtc-connecting", ev); }
static void rtc_connected(const actr_peer_event* ev) { peer("on-webrtc-connected", ev); }
static void rtc_disconnected(const actr_peer_event* ev) { peer("on-webrtc-disconnected", ev); }

static void credential(const char* hook, actr_timestamp t) {
  char text[128];
  snprintf(text, sizeof text, "%s(%llu.%u)", hook, (unsigned long long)t.seconds, t.nanoseconds);
  note(text);
}
static void renewed(actr_timestamp t) { credential("on-credential-renewed", t); }
static void expiring(actr_timestamp t) { credential("on-credential-expiring", t); }

static void backpressure(uint64_t queue_len, uint64_t threshold) {
  char text[128];
  snprintf(text, sizeof text, "on-mailbox-backpressure(%llu/%llu)", (unsigned long long)queue_len,
           (unsigned long long)threshold);
  note(text);
}

static actr_status on_chunk(const actr_data_stream* c, const actr_id* sender) {
  char text[512], id[256];
  format_id(id, sizeof id, sender);
  int n = snprintf(text, sizeof text, "on-data-stream(%.*s#%llu %.*s meta=%zu",
                   (int)c->stream_id.len, c->stream_id.ptr, (unsigned long long)c->sequence,
                   (int)c->payload.len, (const char*)c->payload.ptr, c->metadata_len);
  for (size_t i = 0; i < c->metadata_len && n < (int)sizeof text; ++i) {
    n += snprintf(text + n, sizeof text - (size_t)n, " %.*s=%.*s", (int)c->metadata[i].key.len,
                  c->metadata[i].key.ptr, (int)c->metadata[i].value.len, c->metadata[i].value.ptr);
  }
  if (n < (int)sizeof text) {
    if (c->has_timestamp_ms) {
      snprintf(text + n, sizeof text - (size_t)n, " ts=%lld from %s)", (long long)c->timestamp_ms,
               id);
    } else {
      snprintf(text + n, sizeof text - (size_t)n, " from %s)", id);
    }
  }
  note(text);
  return ACTR_OK;
}

ACTR_DISPATCH(dispatch)
ACTR_ON_START(on_start)
ACTR_ON_READY(on_ready)
ACTR_ON_STOP(on_stop)
ACTR_ON_ERROR(on_error)
ACTR_ON_SIGNALING_CONNECTING(sig_connecting)
ACTR_ON_SIGNALING_CONNECTED(sig_connected)
ACTR_ON_SIGNALING_DISCONNECTED(sig_disconnected)
ACTR_ON_WEBSOCKET_CONNECTING(ws_connecting)
ACTR_ON_WEBSOCKET_CONNECTED(ws_connected)
ACTR_ON_WEBSOCKET_DISCONNECTED(ws_disconnected)
ACTR_ON_WEBRTC_CONNECTING(rtc_connecting)
ACTR_ON_WEBRTC_CONNECTED(rtc_connected)
ACTR_ON_WEBRTC_DISCONNECTED(rtc_disconnected)
ACTR_ON_CREDENTIAL_RENEWED(renewed)
ACTR_ON_CREDENTIAL_EXPIRING(expiring)
ACTR_ON_MAILBOX_BACKPRESSURE(backpressure)
ACTR_ON_DATA_STREAM(on_chunk)
