/* troupe guest SDK (C): the canonical-ABI side of actr:workload@0.1.0 for wasm32.
 * Layouts (wasm32): string/list = {ptr u32, len u32}; actr-id = {realm u32 @0, serial u64 @8,
 * type {3 strings} @16}, size 40, align 8; actr-error = {case u8 @0, payload @4}, size 20;
 * result<list<u8>, actr-error> and result<_, actr-error> = {case u8 @0, payload @4}, size 24;
 * result<actr-id, actr-error> and option<actr-id> = {case u8 @0, payload @8}, size 48. */
#include "troupe/actr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST(name) __attribute__((import_module("actr:workload/host@0.1.0"), import_name(name)))

typedef int32_t i32;
typedef int64_t i64;

HOST("call")
void actr__host_call(i32 dest, i32 realm, i64 serial, i32 m, i32 ml, i32 n, i32 nl, i32 v, i32 vl,
                     i32 route, i32 route_len, i32 payload, i32 payload_len, i32 ret);
HOST("tell")
void actr__host_tell(i32 dest, i32 realm, i64 serial, i32 m, i32 ml, i32 n, i32 nl, i32 v, i32 vl,
                     i32 route, i32 route_len, i32 payload, i32 payload_len, i32 ret);
HOST("call-raw")
void actr__host_call_raw(i32 realm, i64 serial, i32 m, i32 ml, i32 n, i32 nl, i32 v, i32 vl,
                         i32 route, i32 route_len, i32 payload, i32 payload_len, i32 ret);
HOST("discover")
void actr__host_discover(i32 m, i32 ml, i32 n, i32 nl, i32 v, i32 vl, i32 ret);
HOST("register-stream") void actr__host_register_stream(i32 id, i32 id_len, i32 ret);
HOST("unregister-stream") void actr__host_unregister_stream(i32 id, i32 id_len, i32 ret);
HOST("send-data-stream") void actr__host_send_data_stream(i32 params, i32 ret);
HOST("log-message") void actr__host_log_message(i32 level, i32 level_len, i32 msg, i32 msg_len);
HOST("get-self-id") void actr__host_get_self_id(i32 ret);
HOST("get-caller-id") void actr__host_get_caller_id(i32 ret);
HOST("get-request-id") void actr__host_get_request_id(i32 ret);

/* ---- memory ----
 * The host calls cabi_realloc for two things: an export's arguments, which the handler only
 * borrows, and an import's results, which the guest keeps (actr_buf, actr_id). Arguments, and
 * a dispatch's reply, go to a small arena that is reset once the host is done with them (at the
 * end of the export, or at its post-return), so that a typical message costs the guest no
 * malloc or free; results, and whatever does not fit, come from malloc. The host lowers an
 * import's results only while the guest is inside that import: g_in_import tells them apart.
 * Exports never nest (the component model forbids re-entering an instance). */

#define ARENA_BYTES 8192
static _Alignas(16) uint8_t g_arena[ARENA_BYTES];
static size_t g_arena_top;
int actr__in_import; /* shared with troupe_host.c */
#define g_in_import actr__in_import

/* Runs a host import; cabi_realloc calls made meanwhile are for its results. */
#define IMPORT(call) (++g_in_import, (call), --g_in_import)

static void* arena_alloc(size_t align, size_t size) {
  size_t at = (g_arena_top + align - 1) & ~(align - 1);
  if (at >= ARENA_BYTES || size > ARENA_BYTES - at) return NULL;
  g_arena_top = at + size;
  return g_arena + at;
}
static int in_arena(const void* p) {
  return (const uint8_t*)p >= g_arena && (const uint8_t*)p < g_arena + ARENA_BYTES;
}
/* free() for what may be arena memory. */
static void release(const void* p) {
  if (!in_arena(p)) free((void*)p);
}
static void arena_reset(void) { g_arena_top = 0; }

__attribute__((export_name("cabi_realloc"))) void* cabi_realloc(void* old, size_t old_size,
                                                                size_t align, size_t new_size) {
  if (align == 0 || align > 8 || (align & (align - 1)) != 0) abort(); /* the contract needs <= 8 */
  if (old == NULL && g_in_import == 0) {
    void* p = arena_alloc(align, new_size);
    if (p != NULL) return p;
  }
  if (in_arena(old)) {
    void* p = malloc(new_size != 0 ? new_size : 1);
    if (p != NULL) memcpy(p, old, old_size < new_size ? old_size : new_size);
    return p;
  }
  return realloc(old, new_size != 0 ? new_size : 1);
}

static i32 addr(const void* p) { return (i32)(uintptr_t)p; }
static uint32_t ld32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t ld64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static void st32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
static void st64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
static actr_str str_at(const uint8_t* p) {
  actr_str s = {(const char*)(uintptr_t)ld32(p), ld32(p + 4)};
  return s;
}
static actr_str str_of(i32 ptr, i32 len) {
  actr_str s = {(const char*)(uintptr_t)(uint32_t)ptr, (uint32_t)len};
  return s;
}
static void free_str(actr_str s) { release(s.ptr); }
static void st_str(uint8_t* p, actr_str s) {
  st32(p, (uint32_t)addr(s.ptr));
  st32(p + 4, (uint32_t)s.len);
}

/* An actr-id stored at p (layout above). */
static actr_id id_at(const uint8_t* p) {
  actr_id id = {ld32(p), ld64(p + 8), {str_at(p + 16), str_at(p + 24), str_at(p + 32)}};
  return id;
}
static void st_id(uint8_t* p, const actr_id* id) {
  st32(p, id->realm);
  st64(p + 8, id->serial);
  st_str(p + 16, id->type.manufacturer);
  st_str(p + 24, id->type.name);
  st_str(p + 32, id->type.version);
}

/* ---- errors ---- */

static actr_error g_last; /* owned strings, from the host */

static void set_last(actr_error e) {
  free_str(g_last.message);
  free_str(g_last.service);
  g_last = e;
}

const actr_error* actr_last_error(void) { return &g_last; }

/* The actr-error at p: case u8, payload at p + 4. */
static actr_status error_at(const uint8_t* p) {
  actr_error e = {(actr_status)(p[0] + 1), {0, 0}, {0, 0}};
  if (e.status == ACTR_DEPENDENCY_NOT_FOUND) {
    e.service = str_at(p + 4);
    e.message = str_at(p + 12);
  } else if (e.status != ACTR_TIMED_OUT) {
    e.message = str_at(p + 4);
  }
  set_last(e);
  return e.status;
}

/* What the guest returns with an error: owned until the post-return call. */
static char* g_fail_message;
static char* g_fail_service;

static char* vformat(const char* format, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (n < 0) n = 0;
  char* s = malloc((size_t)n + 1);
  if (s != NULL) vsnprintf(s, (size_t)n + 1, format, ap);
  return s;
}

actr_status actr_fail(actr_status status, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  free(g_fail_message);
  g_fail_message = vformat(format, ap);
  va_end(ap);
  return status;
}

actr_status actr_fail_dependency(const char* service, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  free(g_fail_message);
  free(g_fail_service);
  g_fail_message = vformat(format, ap);
  g_fail_service = strdup(service);
  va_end(ap);
  return ACTR_DEPENDENCY_NOT_FOUND;
}

/* Stores `status` as an actr-error at p. The message is the last actr_fail's, or, for a status
 * passed on from a failed host call, that call's detail. */
static void st_error(uint8_t* p, actr_status status) {
  if (status < ACTR_UNAVAILABLE || status > ACTR_INTERNAL) status = ACTR_INTERNAL;
  p[0] = (uint8_t)(status - 1);
  actr_str message = {"", 0}, service = {"", 0};
  if (g_fail_message != NULL) {
    message = actr_str_of(g_fail_message);
  } else if (g_last.status == status) {
    message = g_last.message;
    service = g_last.service;
  }
  if (g_fail_service != NULL) service = actr_str_of(g_fail_service);
  if (status == ACTR_DEPENDENCY_NOT_FOUND) {
    st_str(p + 4, service);
    st_str(p + 12, message);
  } else if (status != ACTR_TIMED_OUT) {
    st_str(p + 4, message);
  }
}

/* ---- host calls ---- */

static void flat_id(const actr_id* id, i32* realm, i64* serial, i32 s[6]) {
  static const actr_id none = {0, 0, {{"", 0}, {"", 0}, {"", 0}}};
  if (id == NULL) id = &none;
  *realm = (i32)id->realm;
  *serial = (i64)id->serial;
  s[0] = addr(id->type.manufacturer.ptr);
  s[1] = (i32)id->type.manufacturer.len;
  s[2] = addr(id->type.name.ptr);
  s[3] = (i32)id->type.name.len;
  s[4] = addr(id->type.version.ptr);
  s[5] = (i32)id->type.version.len;
}

static actr_status unit_result(const uint8_t* ret) {
  return ret[0] == 0 ? ACTR_OK : error_at(ret + 4);
}

static actr_status bytes_result(const uint8_t* ret, actr_buf* out) {
  if (ret[0] != 0) return error_at(ret + 4);
  uint8_t* ptr = (uint8_t*)(uintptr_t)ld32(ret + 4);
  size_t len = ld32(ret + 8);
  if (out != NULL) {
    out->ptr = ptr;
    out->len = len;
  } else {
    release(ptr);
  }
  return ACTR_OK;
}

static actr_status send(int call, const actr_dest* target, const char* route, const void* payload,
                        size_t len, actr_buf* reply) {
  _Alignas(8) uint8_t ret[24];
  i32 realm, s[6];
  i64 serial;
  flat_id(target->kind == ACTR_DEST_ACTOR ? &target->actor : NULL, &realm, &serial, s);
  i32 rl = (i32)strlen(route);
  if (call) {
    IMPORT(actr__host_call((i32)target->kind, realm, serial, s[0], s[1], s[2], s[3], s[4], s[5],
                           addr(route), rl, addr(payload), (i32)len, addr(ret)));
    return bytes_result(ret, reply);
  }
  IMPORT(actr__host_tell((i32)target->kind, realm, serial, s[0], s[1], s[2], s[3], s[4], s[5],
                         addr(route), rl, addr(payload), (i32)len, addr(ret)));
  return unit_result(ret);
}

actr_status actr_call(const actr_dest* target, const char* route, const void* payload, size_t len,
                      actr_buf* reply) {
  return send(1, target, route, payload, len, reply);
}

actr_status actr_tell(const actr_dest* target, const char* route, const void* payload, size_t len) {
  return send(0, target, route, payload, len, NULL);
}

actr_status actr_call_raw(const actr_id* target, const char* route, const void* payload, size_t len,
                          actr_buf* reply) {
  _Alignas(8) uint8_t ret[24];
  i32 realm, s[6];
  i64 serial;
  flat_id(target, &realm, &serial, s);
  IMPORT(actr__host_call_raw(realm, serial, s[0], s[1], s[2], s[3], s[4], s[5], addr(route),
                             (i32)strlen(route), addr(payload), (i32)len, addr(ret)));
  return bytes_result(ret, reply);
}

actr_status actr_discover(const actr_type* type, actr_id* out) {
  _Alignas(8) uint8_t ret[48];
  IMPORT(actr__host_discover(addr(type->manufacturer.ptr), (i32)type->manufacturer.len,
                             addr(type->name.ptr), (i32)type->name.len, addr(type->version.ptr),
                             (i32)type->version.len, addr(ret)));
  if (ret[0] != 0) return error_at(ret + 8);
  *out = id_at(ret + 8);
  return ACTR_OK;
}

actr_status actr_register_stream(const char* stream_id) {
  _Alignas(8) uint8_t ret[24];
  IMPORT(actr__host_register_stream(addr(stream_id), (i32)strlen(stream_id), addr(ret)));
  return unit_result(ret);
}

actr_status actr_unregister_stream(const char* stream_id) {
  _Alignas(8) uint8_t ret[24];
  IMPORT(actr__host_unregister_stream(addr(stream_id), (i32)strlen(stream_id), addr(ret)));
  return unit_result(ret);
}

/* Parameters go through memory (19 flat values > 16): the tuple (dest @0, data-stream @48,
 * payload-type @96), size 104, align 8. */
actr_status actr_send_data_stream(const actr_dest* target, const actr_data_stream* chunk,
                                  actr_payload_type type) {
  _Alignas(8) uint8_t params[104];
  _Alignas(8) uint8_t ret[24];
  memset(params, 0, sizeof params);
  params[0] = (uint8_t)target->kind;
  if (target->kind == ACTR_DEST_ACTOR) st_id(params + 8, &target->actor);
  uint8_t* c = params + 48;
  st_str(c, chunk->stream_id);
  st64(c + 8, chunk->sequence);
  st32(c + 16, (uint32_t)addr(chunk->payload.ptr));
  st32(c + 20, (uint32_t)chunk->payload.len);
  st32(c + 24, (uint32_t)addr(chunk->metadata));
  st32(c + 28, (uint32_t)chunk->metadata_len);
  c[32] = chunk->has_timestamp_ms ? 1 : 0;
  st64(c + 40, (uint64_t)chunk->timestamp_ms);
  params[96] = (uint8_t)type;
  IMPORT(actr__host_send_data_stream(addr(params), addr(ret)));
  return unit_result(ret);
}

void actr_log(const char* level, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  char* message = vformat(format, ap);
  va_end(ap);
  if (message == NULL) return;
  IMPORT(
      actr__host_log_message(addr(level), (i32)strlen(level), addr(message), (i32)strlen(message)));
  free(message);
}

void actr_self_id(actr_id* out) {
  _Alignas(8) uint8_t ret[40];
  IMPORT(actr__host_get_self_id(addr(ret)));
  *out = id_at(ret);
}

bool actr_caller_id(actr_id* out) {
  _Alignas(8) uint8_t ret[48];
  IMPORT(actr__host_get_caller_id(addr(ret)));
  if (ret[0] == 0) return false;
  *out = id_at(ret + 8);
  return true;
}

actr_buf actr_request_id(void) {
  _Alignas(8) uint8_t ret[8];
  IMPORT(actr__host_get_request_id(addr(ret)));
  actr_buf b = {(uint8_t*)(uintptr_t)ld32(ret), ld32(ret + 4)};
  return b;
}

/* ---- helpers ---- */

bool actr_str_eq(actr_str a, const char* b) {
  size_t n = strlen(b);
  return a.len == n && memcmp(a.ptr, b, n) == 0;
}

void actr_buf_free(actr_buf* b) {
  release(b->ptr);
  b->ptr = NULL;
  b->len = 0;
}

void actr_id_free(actr_id* id) {
  free_str(id->type.manufacturer);
  free_str(id->type.name);
  free_str(id->type.version);
  memset(id, 0, sizeof *id);
}

actr_dest actr_dest_local(void) {
  actr_dest d;
  memset(&d, 0, sizeof d);
  d.kind = ACTR_DEST_LOCAL;
  return d;
}

actr_dest actr_dest_actor(const actr_id* id) {
  actr_dest d;
  d.kind = ACTR_DEST_ACTOR;
  d.actor = *id;
  return d;
}

/* The reply of the dispatch running now: its buffer may live in the arena. */
static actr_buf* g_reply_slot;

actr_status actr_reply(actr_buf* reply, const void* data, size_t len) {
  uint8_t* old = reply->ptr;
  uint8_t* p = reply == g_reply_slot ? arena_alloc(1, len) : NULL;
  if (p != NULL) {
    release(old);
  } else if (old == NULL || in_arena(old)) {
    p = malloc(len != 0 ? len : 1);
  } else {
    p = realloc(old, len != 0 ? len : 1);
  }
  if (p == NULL) return actr_fail(ACTR_INTERNAL, "out of memory for a %zu-byte reply", len);
  if (len != 0) memcpy(p, data, len);
  reply->ptr = p;
  reply->len = len;
  return ACTR_OK;
}

actr_status actr_reply_str(actr_buf* reply, const char* text) {
  return actr_reply(reply, text, strlen(text));
}

/* ---- exports ---- */

/* The result area of an export, read by the host before it calls the post-return. */
static _Alignas(8) uint8_t g_ret[24];
static uint8_t* g_reply;

static void begin_call(void) {
  g_in_import = 0; /* a host call that trapped never came back to decrement it */
  if (g_fail_message != NULL || g_fail_service != NULL) { /* rare: skip two calls into free */
    free(g_fail_message);
    free(g_fail_service);
    g_fail_message = g_fail_service = NULL;
  }
}

static uint8_t* unit_ret(actr_status status) {
  memset(g_ret, 0, sizeof g_ret);
  if (status != ACTR_OK) {
    g_ret[0] = 1;
    st_error(g_ret + 4, status);
  }
  return g_ret;
}

uint8_t* actr__dispatch(actr_dispatch_fn fn, uint32_t rid, uint32_t rid_len, uint32_t route,
                        uint32_t route_len, uint32_t payload, uint32_t payload_len) {
  begin_call();
  actr_envelope env = {str_of((i32)rid, (i32)rid_len),
                       str_of((i32)route, (i32)route_len),
                       {(const uint8_t*)(uintptr_t)payload, payload_len}};
  actr_buf reply = {NULL, 0};
  g_reply_slot = &reply;
  actr_status status = fn(&env, &reply);
  g_reply_slot = NULL;
  free_str(env.request_id);
  free_str(env.route);
  release(env.payload.ptr);
  if (status != ACTR_OK) {
    release(reply.ptr);
    return unit_ret(status);
  }
  g_reply = reply.ptr;
  memset(g_ret, 0, sizeof g_ret);
  st32(g_ret + 4, (uint32_t)addr(reply.ptr));
  st32(g_ret + 8, (uint32_t)reply.len);
  return g_ret;
}

void actr__post_return(uint8_t* ret) {
  (void)ret;
  release(g_reply);
  g_reply = NULL;
  begin_call();
  arena_reset();
}

uint8_t* actr__unit(actr_unit_fn fn) {
  begin_call();
  return unit_ret(fn());
}

static actr_error flat_error(i32 disc, i32 a, i32 b, i32 c, i32 d) {
  actr_error e = {(actr_status)(disc + 1), {"", 0}, {"", 0}};
  if (e.status == ACTR_DEPENDENCY_NOT_FOUND) {
    e.service = str_of(a, b);
    e.message = str_of(c, d);
  } else if (e.status != ACTR_TIMED_OUT) {
    e.message = str_of(a, b);
  }
  return e;
}

uint8_t* actr__on_error(actr_error_fn fn, i32 disc, i32 a, i32 b, i32 c, i32 d, i32 category,
                        i32 ctx, i32 ctx_len, i64 secs, i32 nanos) {
  begin_call();
  actr_error_event ev = {flat_error(disc, a, b, c, d),
                         (actr_error_category)category,
                         str_of(ctx, ctx_len),
                         {(uint64_t)secs, (uint32_t)nanos}};
  actr_status status = fn(&ev);
  if (ev.source.status == ACTR_DEPENDENCY_NOT_FOUND) free_str(ev.source.service);
  if (ev.source.status != ACTR_TIMED_OUT) free_str(ev.source.message);
  free_str(ev.context);
  arena_reset();
  return unit_ret(status);
}

/* Parameters in memory: (data-stream @0, actr-id @48). */
uint8_t* actr__on_data_stream(actr_data_stream_fn fn, uint8_t* p) {
  begin_call();
  actr_data_stream chunk = {str_at(p),
                            ld64(p + 8),
                            {(const uint8_t*)(uintptr_t)ld32(p + 16), ld32(p + 20)},
                            NULL,
                            ld32(p + 28),
                            p[32] != 0,
                            (int64_t)ld64(p + 40)};
  uint8_t* raw = (uint8_t*)(uintptr_t)ld32(p + 24);
  actr_metadata_entry* meta = calloc(chunk.metadata_len + 1, sizeof *meta);
  for (size_t i = 0; meta != NULL && i < chunk.metadata_len; ++i) {
    meta[i].key = str_at(raw + 16 * i);
    meta[i].value = str_at(raw + 16 * i + 8);
  }
  chunk.metadata = meta;
  if (meta == NULL) chunk.metadata_len = 0;
  actr_id sender = id_at(p + 48);
  actr_status status = fn(&chunk, &sender);
  for (size_t i = 0; i < chunk.metadata_len; ++i) {
    free_str(meta[i].key);
    free_str(meta[i].value);
  }
  free(meta);
  release(raw);
  free_str(chunk.stream_id);
  release(chunk.payload.ptr);
  actr_id_free(&sender);
  release(p);
  arena_reset();
  return unit_ret(status);
}

void actr__peer(actr_peer_fn fn, i32 realm, i64 serial, i32 m, i32 m_len, i32 n, i32 n_len, i32 v,
                i32 v_len, i32 has_relayed, i32 relayed) {
  actr_peer_event ev = {
      {(uint32_t)realm, (uint64_t)serial, {str_of(m, m_len), str_of(n, n_len), str_of(v, v_len)}},
      has_relayed != 0,
      relayed != 0};
  fn(&ev);
  actr_id_free(&ev.peer);
  arena_reset();
}
