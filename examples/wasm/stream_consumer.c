/* stream-consumer: counts the chunks it receives and checks they arrive in order. "stats"
 * replies "chunks=<n> bytes=<n> out-of-order=<n> last=<sequence>". */
#include <stdio.h>
#include <troupe/actr.h>

static unsigned long chunks, bytes, out_of_order;
static long long last = -1;

static actr_status on_chunk(const actr_data_stream* chunk, const actr_id* sender) {
  (void)sender;
  if ((long long)chunk->sequence <= last) ++out_of_order;
  last = (long long)chunk->sequence;
  ++chunks;
  bytes += chunk->payload.len;
  return ACTR_OK;
}

static actr_status dispatch(const actr_envelope* env, actr_buf* reply) {
  if (!actr_str_eq(env->route, "stats")) {
    return actr_fail(ACTR_UNKNOWN_ROUTE, "stream-consumer has no route '%.*s'", (int)env->route.len,
                     env->route.ptr);
  }
  char text[128];
  int n = snprintf(text, sizeof text, "chunks=%lu bytes=%lu out-of-order=%lu last=%lld", chunks,
                   bytes, out_of_order, last);
  return actr_reply(reply, text, (size_t)n);
}
ACTR_DISPATCH(dispatch)
ACTR_ON_DATA_STREAM(on_chunk)
