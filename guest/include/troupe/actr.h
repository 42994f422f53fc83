/* troupe guest SDK (C): write an actor for the actr:workload@0.1.0 contract without touching
 * the canonical ABI. Build for wasm32-wasi (cmake/wasm32-wasi.cmake) and link troupe_guest.
 *
 *   #include <troupe/actr.h>
 *
 *   static actr_status echo(const actr_envelope* env, actr_buf* reply) {
 *     return actr_reply(reply, env->payload.ptr, env->payload.len);
 *   }
 *   ACTR_DISPATCH(echo)
 *
 * Exports: ACTR_DISPATCH(fn) is required; each hook is exported only by its own ACTR_ON_*
 * macro, so a hook you do not write is never called. Handler arguments are borrowed for the
 * duration of the call; copy what you keep.
 *
 * Errors: a handler returns ACTR_OK or an error status, usually through actr_fail(), which
 * also records the message that goes back to the caller. A host call that fails returns its
 * status and leaves the detail in actr_last_error() (like errno, until the next host call).
 *
 * Memory: buffers and ids the host hands you (actr_buf, actr_id from discover/get-self-id)
 * are yours; release them with actr_buf_free() / actr_id_free().
 */
#ifndef TROUPE_ACTR_H
#define TROUPE_ACTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ACTR_OK, or the contract's actr-error case + 1. */
typedef enum actr_status {
  ACTR_OK = 0,
  ACTR_UNAVAILABLE,
  ACTR_TIMED_OUT,
  ACTR_NOT_FOUND,
  ACTR_PERMISSION_DENIED,
  ACTR_INVALID_ARGUMENT,
  ACTR_UNKNOWN_ROUTE,
  ACTR_DEPENDENCY_NOT_FOUND,
  ACTR_DECODE_FAILURE,
  ACTR_NOT_IMPLEMENTED,
  ACTR_INTERNAL,
} actr_status;

/* Borrowed text (UTF-8, not NUL-terminated) and bytes. */
typedef struct actr_str {
  const char* ptr;
  size_t len;
} actr_str;

typedef struct actr_bytes {
  const uint8_t* ptr;
  size_t len;
} actr_bytes;

/* An owned buffer (release with actr_buf_free). */
typedef struct actr_buf {
  uint8_t* ptr;
  size_t len;
} actr_buf;

typedef struct actr_type {
  actr_str manufacturer;
  actr_str name;
  actr_str version;
} actr_type;

typedef struct actr_id {
  uint32_t realm;
  uint64_t serial;
  actr_type type;
} actr_id;

typedef enum actr_dest_kind {
  ACTR_DEST_SHELL = 0,
  ACTR_DEST_LOCAL = 1,
  ACTR_DEST_ACTOR = 2
} actr_dest_kind;

typedef struct actr_dest {
  actr_dest_kind kind;
  actr_id actor; /* when kind == ACTR_DEST_ACTOR */
} actr_dest;

typedef struct actr_envelope {
  actr_str request_id;
  actr_str route;
  actr_bytes payload;
} actr_envelope;

typedef struct actr_metadata_entry {
  actr_str key;
  actr_str value;
} actr_metadata_entry;

typedef struct actr_data_stream {
  actr_str stream_id;
  uint64_t sequence;
  actr_bytes payload;
  const actr_metadata_entry* metadata;
  size_t metadata_len;
  bool has_timestamp_ms;
  int64_t timestamp_ms;
} actr_data_stream;

typedef enum actr_payload_type {
  ACTR_RPC_RELIABLE = 0,
  ACTR_RPC_SIGNAL,
  ACTR_STREAM_RELIABLE,
  ACTR_STREAM_LATENCY_FIRST,
  ACTR_MEDIA_RTP,
} actr_payload_type;

typedef enum actr_error_category {
  ACTR_HANDLER_PANIC = 0,
  ACTR_HANDLER_ERROR,
  ACTR_SIGNALING_FAILURE,
  ACTR_TRANSPORT_FAILURE,
  ACTR_DATA_STREAM_DELIVERY_UNCERTAIN,
} actr_error_category;

/* An error with its detail: `message` for every case that carries a string, plus `service`
 * for ACTR_DEPENDENCY_NOT_FOUND. */
typedef struct actr_error {
  actr_status status;
  actr_str message;
  actr_str service;
} actr_error;

typedef struct actr_timestamp {
  uint64_t seconds;
  uint32_t nanoseconds;
} actr_timestamp;

typedef struct actr_error_event {
  actr_error source;
  actr_error_category category;
  actr_str context;
  actr_timestamp timestamp;
} actr_error_event;

typedef struct actr_peer_event {
  actr_id peer;
  bool has_relayed;
  bool relayed;
} actr_peer_event;

/* ---- handler results ---- */

/* Sets the reply of a dispatch to a copy of `data`; returns ACTR_OK (or ACTR_INTERNAL when
 * out of memory). */
actr_status actr_reply(actr_buf* reply, const void* data, size_t len);
actr_status actr_reply_str(actr_buf* reply, const char* text);
/* Records the message returned with `status` and returns `status`. printf-style. */
actr_status actr_fail(actr_status status, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
actr_status actr_fail_dependency(const char* service, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- host calls ---- */

/* Ask `target` and wait for the reply (the host suspends this guest meanwhile). */
actr_status actr_call(const actr_dest* target, const char* route, const void* payload, size_t len,
                      actr_buf* reply);
actr_status actr_tell(const actr_dest* target, const char* route, const void* payload, size_t len);
actr_status actr_call_raw(const actr_id* target, const char* route, const void* payload, size_t len,
                          actr_buf* reply);
/* A live actor of the given type on this node; release `out` with actr_id_free. */
actr_status actr_discover(const actr_type* type, actr_id* out);

actr_status actr_register_stream(const char* stream_id);
actr_status actr_unregister_stream(const char* stream_id);
actr_status actr_send_data_stream(const actr_dest* target, const actr_data_stream* chunk,
                                  actr_payload_type type);

/* level: "trace", "debug", "info", "warn", "error". printf-style. */
void actr_log(const char* level, const char* format, ...) __attribute__((format(printf, 2, 3)));

/* Valid only inside a handler (the host traps the guest otherwise). */
void actr_self_id(actr_id* out);
bool actr_caller_id(actr_id* out); /* false: no caller (the host itself) */
actr_buf actr_request_id(void);

/* The detail of the last failed host call. */
const actr_error* actr_last_error(void);

/* ---- helpers ---- */
static inline actr_str actr_str_of(const char* s) {
  size_t n = 0;
  while (s[n] != 0) ++n;
  actr_str r = {s, n};
  return r;
}
bool actr_str_eq(actr_str a, const char* b);
void actr_buf_free(actr_buf* b);
void actr_id_free(actr_id* id);
actr_dest actr_dest_local(void);
actr_dest actr_dest_actor(const actr_id* id);

/* ---- exports (implementation detail of the macros below) ---- */
typedef actr_status (*actr_dispatch_fn)(const actr_envelope*, actr_buf*);
typedef actr_status (*actr_unit_fn)(void);
typedef actr_status (*actr_error_fn)(const actr_error_event*);
typedef actr_status (*actr_data_stream_fn)(const actr_data_stream*, const actr_id*);
typedef void (*actr_peer_fn)(const actr_peer_event*);
typedef void (*actr_timestamp_fn)(actr_timestamp);
typedef void (*actr_backpressure_fn)(uint64_t queue_len, uint64_t threshold);

uint8_t* actr__dispatch(actr_dispatch_fn fn, uint32_t rid, uint32_t rid_len, uint32_t route,
                        uint32_t route_len, uint32_t payload, uint32_t payload_len);
uint8_t* actr__unit(actr_unit_fn fn);
uint8_t* actr__on_error(actr_error_fn fn, int32_t disc, int32_t a, int32_t b, int32_t c, int32_t d,
                        int32_t category, int32_t ctx, int32_t ctx_len, int64_t secs,
                        int32_t nanos);
uint8_t* actr__on_data_stream(actr_data_stream_fn fn, uint8_t* params);
void actr__peer(actr_peer_fn fn, int32_t realm, int64_t serial, int32_t m, int32_t m_len, int32_t n,
                int32_t n_len, int32_t v, int32_t v_len, int32_t has_relayed, int32_t relayed);
void actr__post_return(uint8_t* ret);

#define ACTR__WORKLOAD "actr:workload/workload@0.1.0#"
#define ACTR__EXPORT(name, sym) __attribute__((export_name(ACTR__WORKLOAD name))) sym
#define ACTR__POST(name, sym)                                                           \
  __attribute__((export_name("cabi_post_" ACTR__WORKLOAD name))) void sym(uint8_t* r) { \
    actr__post_return(r);                                                               \
  }

#define ACTR_DISPATCH(fn)                                                    \
  ACTR__EXPORT("dispatch", uint8_t* actr__export_dispatch)                   \
  (uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f) { \
    return actr__dispatch(fn, a, b, c, d, e, f);                             \
  }                                                                          \
  ACTR__POST("dispatch", actr__post_dispatch)

#define ACTR__UNIT_HOOK(name, sym, fn)                                             \
  ACTR__EXPORT(name, uint8_t* actr__export_##sym)(void) { return actr__unit(fn); } \
  ACTR__POST(name, actr__post_##sym)

#define ACTR_ON_START(fn) ACTR__UNIT_HOOK("on-start", on_start, fn)
#define ACTR_ON_READY(fn) ACTR__UNIT_HOOK("on-ready", on_ready, fn)
#define ACTR_ON_STOP(fn) ACTR__UNIT_HOOK("on-stop", on_stop, fn)

#define ACTR_ON_ERROR(fn)                                                                     \
  ACTR__EXPORT("on-error", uint8_t* actr__export_on_error)                                    \
  (int32_t d, int32_t a, int32_t b, int32_t c, int32_t e, int32_t cat, int32_t x, int32_t xl, \
   int64_t s, int32_t n) {                                                                    \
    return actr__on_error(fn, d, a, b, c, e, cat, x, xl, s, n);                               \
  }                                                                                           \
  ACTR__POST("on-error", actr__post_on_error)

#define ACTR_ON_DATA_STREAM(fn)                                                       \
  ACTR__EXPORT("on-data-stream", uint8_t* actr__export_on_data_stream)(uint8_t * p) { \
    return actr__on_data_stream(fn, p);                                               \
  }                                                                                   \
  ACTR__POST("on-data-stream", actr__post_on_data_stream)

#define ACTR__VOID_HOOK(name, sym, fn) \
  ACTR__EXPORT(name, void actr__export_##sym)(void) { fn(); }
#define ACTR_ON_SIGNALING_CONNECTING(fn) \
  ACTR__VOID_HOOK("on-signaling-connecting", on_signaling_connecting, fn)
#define ACTR_ON_SIGNALING_CONNECTED(fn) \
  ACTR__VOID_HOOK("on-signaling-connected", on_signaling_connected, fn)
#define ACTR_ON_SIGNALING_DISCONNECTED(fn) \
  ACTR__VOID_HOOK("on-signaling-disconnected", on_signaling_disconnected, fn)

#define ACTR__PEER_HOOK(name, sym, fn)                                                        \
  ACTR__EXPORT(name, void actr__export_##sym)                                                 \
  (int32_t r, int64_t s, int32_t m, int32_t ml, int32_t n, int32_t nl, int32_t v, int32_t vl, \
   int32_t hr, int32_t rl) {                                                                  \
    actr__peer(fn, r, s, m, ml, n, nl, v, vl, hr, rl);                                        \
  }
#define ACTR_ON_WEBSOCKET_CONNECTING(fn) \
  ACTR__PEER_HOOK("on-websocket-connecting", on_websocket_connecting, fn)
#define ACTR_ON_WEBSOCKET_CONNECTED(fn) \
  ACTR__PEER_HOOK("on-websocket-connected", on_websocket_connected, fn)
#define ACTR_ON_WEBSOCKET_DISCONNECTED(fn) \
  ACTR__PEER_HOOK("on-websocket-disconnected", on_websocket_disconnected, fn)
#define ACTR_ON_WEBRTC_CONNECTING(fn) \
  ACTR__PEER_HOOK("on-webrtc-connecting", on_webrtc_connecting, fn)
#define ACTR_ON_WEBRTC_CONNECTED(fn) ACTR__PEER_HOOK("on-webrtc-connected", on_webrtc_connected, fn)
#define ACTR_ON_WEBRTC_DISCONNECTED(fn) \
  ACTR__PEER_HOOK("on-webrtc-disconnected", on_webrtc_disconnected, fn)

#define ACTR__TIMESTAMP_HOOK(name, sym, fn)                           \
  ACTR__EXPORT(name, void actr__export_##sym)(int64_t s, int32_t n) { \
    actr_timestamp t = {(uint64_t)s, (uint32_t)n};                    \
    fn(t);                                                            \
  }
#define ACTR_ON_CREDENTIAL_RENEWED(fn) \
  ACTR__TIMESTAMP_HOOK("on-credential-renewed", on_credential_renewed, fn)
#define ACTR_ON_CREDENTIAL_EXPIRING(fn) \
  ACTR__TIMESTAMP_HOOK("on-credential-expiring", on_credential_expiring, fn)

#define ACTR_ON_MAILBOX_BACKPRESSURE(fn)                                             \
  ACTR__EXPORT("on-mailbox-backpressure", void actr__export_on_mailbox_backpressure) \
  (int64_t q, int64_t t) {                                                           \
    fn((uint64_t)q, (uint64_t)t);                                                    \
  }

#ifdef __cplusplus
}
#endif

#endif /* TROUPE_ACTR_H */
