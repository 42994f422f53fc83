/* troupe guest SDK (C): troupe:host storage, signing and identity over the canonical ABI (wasm32).
 * Layouts: host-error = {case u8 @0, string @4}, size 12; each result here is
 * {case u8 @0, payload @4}, size 16, align 4 (option<list<u8>> = {case u8 @0, list @4}).
 * The host lowers results through cabi_realloc while actr__in_import is set, so they come from
 * malloc and belong to the guest. */
#include "troupe/troupe_host.h"

#include <stdlib.h>
#include <string.h>

typedef int32_t i32;

#define STORAGE(name) __attribute__((import_module("troupe:host/storage@0.1.0"), import_name(name)))
#define SIGNING(name) __attribute__((import_module("troupe:host/signing@0.1.0"), import_name(name)))
#define IDENTITY(name) \
  __attribute__((import_module("troupe:host/identity@0.1.0"), import_name(name)))

STORAGE("get") void troupe__storage_get(i32 key, i32 key_len, i32 ret);
STORAGE("put") void troupe__storage_put(i32 key, i32 key_len, i32 value, i32 value_len, i32 ret);
STORAGE("delete") void troupe__storage_delete(i32 key, i32 key_len, i32 ret);
STORAGE("list-keys") void troupe__storage_list_keys(i32 prefix, i32 prefix_len, i32 limit, i32 ret);
SIGNING("sign") void troupe__sign(i32 message, i32 len, i32 ret);
SIGNING("public-key") void troupe__public_key(i32 ret);
IDENTITY("credential") void troupe__credential(i32 ret);

extern int actr__in_import; /* actr.c: results of an import come from malloc */
#define IMPORT(call) (++actr__in_import, (call), --actr__in_import)

static i32 addr(const void* p) { return (i32)(uintptr_t)p; }
static uint32_t ld32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static actr_buf buf_at(const uint8_t* p) {
  actr_buf b = {(uint8_t*)(uintptr_t)ld32(p), ld32(p + 4)};
  return b;
}

static char* g_error;
const char* troupe_last_error(void) { return g_error != NULL ? g_error : ""; }

/* A result<_, host-error> area: TROUPE_OK, or the error's case with its message kept. */
static troupe_status status_of(const uint8_t* ret) {
  free(g_error);
  g_error = NULL;
  if (ret[0] == 0) return TROUPE_OK;
  actr_buf message = buf_at(ret + 8);
  g_error = malloc(message.len + 1);
  if (g_error != NULL) {
    memcpy(g_error, message.ptr, message.len);
    g_error[message.len] = 0;
  }
  free(message.ptr);
  return (troupe_status)ret[4];
}

troupe_status troupe_storage_get(const char* key, size_t key_len, actr_buf* value, bool* found) {
  _Alignas(4) uint8_t ret[16];
  IMPORT(troupe__storage_get(addr(key), (i32)key_len, addr(ret)));
  value->ptr = NULL;
  value->len = 0;
  *found = false;
  troupe_status s = status_of(ret);
  if (s == TROUPE_OK && ret[4] == 1) {
    *value = buf_at(ret + 8);
    *found = true;
  }
  return s;
}

troupe_status troupe_storage_put(const char* key, size_t key_len, const void* value,
                                 size_t value_len) {
  _Alignas(4) uint8_t ret[16];
  IMPORT(troupe__storage_put(addr(key), (i32)key_len, addr(value), (i32)value_len, addr(ret)));
  return status_of(ret);
}

troupe_status troupe_storage_delete(const char* key, size_t key_len, bool* existed) {
  _Alignas(4) uint8_t ret[16];
  IMPORT(troupe__storage_delete(addr(key), (i32)key_len, addr(ret)));
  troupe_status s = status_of(ret);
  *existed = s == TROUPE_OK && ret[4] != 0;
  return s;
}

troupe_status troupe_storage_list_keys(const char* prefix, size_t prefix_len, uint32_t limit,
                                       actr_buf** keys, size_t* count) {
  _Alignas(4) uint8_t ret[16];
  IMPORT(troupe__storage_list_keys(addr(prefix), (i32)prefix_len, (i32)limit, addr(ret)));
  *keys = NULL;
  *count = 0;
  troupe_status s = status_of(ret);
  if (s != TROUPE_OK) return s;
  /* list<string>: {ptr, len} of elements that are {ptr, len} each: the same shape as actr_buf
   * on wasm32, so the host's array is used as it is. */
  actr_buf list = buf_at(ret + 4);
  *keys = (actr_buf*)list.ptr;
  *count = list.len;
  return s;
}

void troupe_keys_free(actr_buf* keys, size_t count) {
  for (size_t i = 0; i < count; ++i) free(keys[i].ptr);
  free(keys);
}

troupe_status troupe_sign(const void* message, size_t len, actr_buf* signature) {
  _Alignas(4) uint8_t ret[16];
  IMPORT(troupe__sign(addr(message), (i32)len, addr(ret)));
  signature->ptr = NULL;
  signature->len = 0;
  troupe_status s = status_of(ret);
  if (s == TROUPE_OK) *signature = buf_at(ret + 4);
  return s;
}

actr_buf troupe_public_key(void) {
  _Alignas(4) uint8_t ret[8];
  IMPORT(troupe__public_key(addr(ret)));
  return buf_at(ret);
}

troupe_status troupe_credential(actr_buf* jws) {
  _Alignas(4) uint8_t ret[16];
  IMPORT(troupe__credential(addr(ret)));
  jws->ptr = NULL;
  jws->len = 0;
  troupe_status s = status_of(ret);
  if (s == TROUPE_OK) *jws = buf_at(ret + 4);
  return s;
}
