/* stream-producer: "send" with payload "<count>" (default 10) streams that many chunks to a
 * live stream-consumer over a registered stream, reliably (the host applies backpressure), and
 * replies "sent <count>". Route "send-lossy" does the same latency-first: chunks the consumer
 * is too far behind for are dropped by the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <troupe/actr.h>

static actr_status send(const actr_envelope* env, actr_buf* reply, actr_payload_type mode) {
  char digits[24] = {0};
  size_t n = env->payload.len < sizeof digits - 1 ? env->payload.len : sizeof digits - 1;
  memcpy(digits, env->payload.ptr, n);
  long count = n > 0 ? strtol(digits, NULL, 10) : 10;
  if (count < 0) return actr_fail(ACTR_INVALID_ARGUMENT, "negative count %ld", count);

  /* The signed example package, else a native kind of that name. */
  actr_type type = {actr_str_of("example"), actr_str_of("stream-consumer"), actr_str_of("0.1.0")};
  actr_id consumer;
  actr_status s = actr_discover(&type, &consumer);
  if (s == ACTR_NOT_FOUND) {
    actr_type native = {actr_str_of("troupe"), type.name, actr_str_of("")};
    s = actr_discover(&native, &consumer);
  }
  if (s != ACTR_OK) return s;
  actr_dest dest = actr_dest_actor(&consumer);
  const char* stream = "numbers";
  s = actr_register_stream(stream);
  for (long i = 0; s == ACTR_OK && i < count; ++i) {
    char text[32];
    int len = snprintf(text, sizeof text, "%ld", i);
    actr_metadata_entry meta[1] = {{actr_str_of("producer"), actr_str_of("example")}};
    actr_data_stream chunk = {
        actr_str_of(stream), (uint64_t)i, {(const uint8_t*)text, (size_t)len}, meta, 1, false, 0};
    s = actr_send_data_stream(&dest, &chunk, mode);
  }
  if (s == ACTR_OK) s = actr_unregister_stream(stream);
  actr_id_free(&consumer);
  if (s != ACTR_OK) return s;
  char text[32];
  int len = snprintf(text, sizeof text, "sent %ld", count);
  return actr_reply(reply, text, (size_t)len);
}

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (actr_str_eq(env->route, "send")) return send(env, reply, ACTR_STREAM_RELIABLE);
  if (actr_str_eq(env->route, "send-lossy")) return send(env, reply, ACTR_STREAM_LATENCY_FIRST);
  return actr_fail(ACTR_UNKNOWN_ROUTE, "stream-producer has no route '%.*s'", (int)env->route.len,
                   env->route.ptr);
}
ACTR_DISPATCH(dispatch)
