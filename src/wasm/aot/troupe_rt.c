/* troupe's implementation of the wasm-rt.h runtime interface, compiled into every AOT shared
 * object next to the module's code. Traps, linear memory and exception unwinding go to the
 * host (troupe_aot.h), which keeps them per instance and per thread; tables and the function
 * type registry are plain C here. Everything is hidden: the object exports only the module
 * table the glue defines. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "troupe_aot.h"

#define TROUPE_HIDDEN __attribute__((visibility("hidden")))

TROUPE_HIDDEN const struct troupe_aot_host* troupe_host = NULL;
static int initialized = 0;

void wasm_rt_init(void) { initialized = 1; }
bool wasm_rt_is_initialized(void) { return initialized != 0; }
void wasm_rt_free(void) { initialized = 0; }

void wasm_rt_trap(wasm_rt_trap_t code) {
  troupe_host->trap(code);
  abort(); /* not reached: the host unwinds */
}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) { return troupe_host->strerror(trap); }

/* Function types: call_indirect compares the indices registered here, so equal signatures
 * must get equal indices. Registered while the host binds the object (one thread). */
struct func_type {
  uint32_t params, results;
  wasm_rt_type_t* types;
};
static struct func_type* func_types = NULL;
static uint32_t func_type_count = 0;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  const uint32_t n = params + results;
  wasm_rt_type_t* types = calloc(n ? n : 1, sizeof(wasm_rt_type_t));
  if (!types) abort();
  va_list args;
  va_start(args, results);
  for (uint32_t i = 0; i < n; ++i) types[i] = (wasm_rt_type_t)va_arg(args, int);
  va_end(args);
  for (uint32_t i = 0; i < func_type_count; ++i) {
    const struct func_type* t = &func_types[i];
    if (t->params == params && t->results == results &&
        (n == 0 || memcmp(t->types, types, n * sizeof(wasm_rt_type_t)) == 0)) {
      free(types);
      return i + 1;
    }
  }
  struct func_type* grown = realloc(func_types, (func_type_count + 1) * sizeof(struct func_type));
  if (!grown) abort();
  func_types = grown;
  func_types[func_type_count].params = params;
  func_types[func_type_count].results = results;
  func_types[func_type_count].types = types;
  return ++func_type_count; /* 0 stays the null funcref's type */
}

/* When the host unloads the object (dlclose). */
__attribute__((destructor)) static void release_func_types(void) {
  for (uint32_t i = 0; i < func_type_count; ++i) free(func_types[i].types);
  free(func_types);
  func_types = NULL;
  func_type_count = 0;
}

/* Exception handling (a proposal the loader does not enable today; kept correct anyway). */
static uint32_t tag_count = 0;
static _Thread_local uint32_t exception_tag, exception_size;
static _Thread_local unsigned char exception_data[256];

uint32_t wasm_rt_register_tag(uint32_t size) {
  (void)size;
  return tag_count++;
}
void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void* values) {
  if (size > sizeof exception_data) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  exception_tag = tag;
  exception_size = size;
  if (size) memcpy(exception_data, values, size);
}
void wasm_rt_throw(void) {
  WASM_RT_UNWIND_TARGET* target = troupe_host->unwind_target();
  siglongjmp(*target, WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
}
WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void) { return troupe_host->unwind_target(); }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target) {
  troupe_host->set_unwind_target(target);
}
uint32_t wasm_rt_exception_tag(void) { return exception_tag; }
uint32_t wasm_rt_exception_size(void) { return exception_size; }
void* wasm_rt_exception(void) { return exception_data; }

/* Linear memory lives in the host. */
void wasm_rt_allocate_memory(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages) {
  troupe_host->allocate_memory(mem, initial_pages, max_pages);
}
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* mem, uint32_t pages) {
  return troupe_host->grow_memory(mem, pages);
}
void wasm_rt_free_memory(wasm_rt_memory_t* mem) { troupe_host->free_memory(mem); }

/* Tables. Growth past the maximum (or past what memory allows) answers -1, as memory does. */
#define DEFINE_TABLE(kind, elem_t, null_value)                                                 \
  void wasm_rt_allocate_##kind##_table(wasm_rt_##kind##_table_t* table, uint32_t elements,    \
                                       uint32_t max_elements) {                               \
    table->size = elements;                                                                   \
    table->max_size = max_elements;                                                           \
    table->data = calloc(elements ? elements : 1, sizeof(elem_t));                            \
    if (!table->data) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);                                  \
    for (uint32_t i = 0; i < elements; ++i) table->data[i] = null_value;                      \
  }                                                                                           \
  void wasm_rt_free_##kind##_table(wasm_rt_##kind##_table_t* table) {                         \
    free(table->data);                                                                        \
    table->data = NULL;                                                                       \
    table->size = 0;                                                                          \
  }                                                                                           \
  uint32_t wasm_rt_grow_##kind##_table(wasm_rt_##kind##_table_t* table, uint32_t delta,       \
                                       elem_t init) {                                         \
    const uint32_t old = table->size;                                                         \
    const uint64_t size = (uint64_t)old + delta;                                              \
    if (size > table->max_size || size > (1u << 24)) return (uint32_t)-1;                     \
    if (delta == 0) return old;                                                               \
    elem_t* data = realloc(table->data, size * sizeof(elem_t));                               \
    if (!data) return (uint32_t)-1;                                                           \
    for (uint64_t i = old; i < size; ++i) data[i] = init;                                     \
    table->data = data;                                                                       \
    table->size = (uint32_t)size;                                                             \
    return old;                                                                               \
  }

DEFINE_TABLE(funcref, wasm_rt_funcref_t, wasm_rt_funcref_null_value)
DEFINE_TABLE(externref, wasm_rt_externref_t, wasm_rt_externref_null_value)
