/* The interface between troupe (the host) and one module's AOT shared object.
 *
 * The shared object holds three pieces compiled together: the module's C from wasm2c, a glue
 * file troupe generates per module (aot.cc), and troupe_rt.c, troupe's implementation of the
 * wasm-rt.h runtime interface. It exports one symbol, `troupe_aot_module`; everything else is
 * hidden. The host hands it a troupe_aot_host table once, through bind(); from then on the
 * runtime calls back into the host for traps, linear memory and imports, so the trap target,
 * the guard-page memories and the page limit live in the host, per instance and per thread.
 *
 * Embedded into troupe at build time and written next to the generated code. C99. */
#ifndef TROUPE_AOT_H_
#define TROUPE_AOT_H_

#include <stdint.h>

#include "wasm-rt.h"

#define TROUPE_AOT_ABI 2
#define TROUPE_AOT_SYMBOL "troupe_aot_module"

/* Core value types, as the tables below describe signatures and globals. */
enum { TROUPE_AOT_I32 = 0, TROUPE_AOT_I64 = 1, TROUPE_AOT_F32 = 2, TROUPE_AOT_F64 = 3 };
/* Export kinds. */
enum { TROUPE_AOT_FUNC = 0, TROUPE_AOT_MEMORY = 1, TROUPE_AOT_GLOBAL = 2, TROUPE_AOT_OTHER = 3 };

struct troupe_aot_host {
  uint32_t abi;
  /* Guest code starts running on this thread for instance `ctx`, unwinding to `target` (a
   * sigjmp_buf) on a trap; the return value goes back to leave() when it stops. Nested calls
   * (the host calling cabi_realloc during an import) enter and leave again. */
  void* (*enter)(void* ctx, void* target);
  void (*leave)(void* ctx, void* saved);
  /* Import `index` (of the module's import table) with its core arguments; 0 on success
   * (results filled), else the host has recorded why and the glue traps. */
  int (*call_import)(void* ctx, uint32_t index, const uint64_t* args, uint64_t* results);
  /* Unwinds the running guest to its target; never returns. */
  void (*trap)(wasm_rt_trap_t code);
  /* What a trap code means (the interpreter's wording, so both tiers report alike). */
  const char* (*strerror)(wasm_rt_trap_t code);
  /* Linear memory: reserved with guard pages, capped by the instance's page limit. */
  void (*allocate_memory)(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages);
  uint32_t (*grow_memory)(wasm_rt_memory_t* mem, uint32_t delta);
  void (*free_memory)(wasm_rt_memory_t* mem);
  /* The exception-handling proposal's unwind target, per activation. */
  void* (*unwind_target)(void);
  void (*set_unwind_target)(void* target);
};

/* Bytes the host lowers into the guest as a string or list<u8>. */
struct troupe_aot_bytes {
  const void* data;
  uint32_t size;
};
#define TROUPE_AOT_MAX_LOWERED 8

struct troupe_aot_import {
  const char* module;
  const char* name;
  uint32_t params, results;
};

struct troupe_aot_export {
  const char* name;
  uint32_t kind;
  uint32_t params, results; /* functions */
  uint32_t type;            /* globals: TROUPE_AOT_I32... */
  uint32_t is_mutable;      /* globals */
};

struct troupe_aot_module {
  uint32_t abi;
  /* Once per loaded object, before anything else (not thread-safe). */
  void (*bind)(const struct troupe_aot_host* host);
  uint32_t import_count;
  const struct troupe_aot_import* imports;
  uint32_t export_count;
  const struct troupe_aot_export* exports;
  /* A new instance whose imports call back with `ctx`; NULL when instantiation trapped. */
  void* (*create)(void* ctx);
  void (*destroy)(void* instance);
  /* Calls the function export `index`; 0 on return (results filled), 1 when it trapped. */
  int (*call)(void* instance, uint32_t index, const uint64_t* args, uint64_t* results);
  /* Calls the function export `index` with n (<= TROUPE_AOT_MAX_LOWERED) byte strings lowered
   * the canonical ABI's way, all in one guest entry: for each in order, export `realloc`
   * (0, 0, 1, size), then a copy into memory export `memory`; the function gets (pointer,
   * size) per string. 0 on return, 1 when the guest trapped, 2 when realloc answered a range
   * outside the memory (`bad`: which string, `bad_ptr`: the pointer; nothing was called after
   * it). The copies are the only host work done while the guest's trap handling is armed;
   * they stay inside ranges just checked. */
  int (*call_lowered)(void* instance, uint32_t index, uint32_t realloc, uint32_t memory,
                      const struct troupe_aot_bytes* strings, uint32_t n, uint64_t* results,
                      uint32_t* bad, uint32_t* bad_ptr);
  wasm_rt_memory_t* (*memory)(void* instance, uint32_t index);
  void* (*global)(void* instance, uint32_t index);
};

#endif /* TROUPE_AOT_H_ */
