/* Small shared helpers: random identifiers, hex, IP address checks,
 * growable byte buffers, string hashing. */
#ifndef AG_CORE_UTIL_H
#define AG_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Write a random identifier "<prefix><n base32 chars>" into <buf>; <n> chars
 * of randomness from libsodium (5 bits each). <len> must hold it all. */
void ag_id_random(char *buf, size_t len, const char *prefix, size_t n);

/* Lower-case hex of <n> bytes into <out> (2n+1 bytes). */
void ag_hex(const uint8_t *in, size_t n, char *out);

/* Is <s> a valid IPv4 or IPv6 address? Sets *is_v6. */
bool ag_ip_valid(const char *s, bool *is_v6);

/* Is <s> well-formed UTF-8 (no overlong forms, surrogates or code points
 * above U+10FFFF), as jansson requires of every JSON string? */
bool ag_utf8_valid(const char *s, size_t n);

/* 64-bit FNV-1a of a string, for hash tables (not for secrets). */
uint64_t ag_hash_str(const char *s);
uint64_t ag_hash_bytes(const void *p, size_t n);

/* A growable byte buffer. Zero-initialize to use. */
struct ag_buf {
    char *data;
    size_t len, cap;
};
int ag_buf_append(struct ag_buf *b, const void *p, size_t n);
int ag_buf_printf(struct ag_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ag_buf_free(struct ag_buf *b);

/* Allocation that aborts the process on failure is deliberately absent:
 * callers handle NULL. ag_strdup/ag_malloc go through the fault-injection
 * hook in AG_FAULT builds. */
void *ag_malloc(size_t n);
void *ag_calloc(size_t n, size_t size);
char *ag_strdup(const char *s);

/* Fault injection (AG_FAULT builds, -DAG_FAULT=ON; no-ops otherwise), like
 * SQLite's fault tests:
 *   ag_fault_alloc_after(n)    the n-th next allocation through ag_malloc
 *                              (and jansson's, once ag_fault_setup ran) fails
 *   AG_FAULT_ALLOC_EVERY=k     every k-th such allocation fails
 *   AG_FAULT_COMMIT_EVERY=k    every k-th store commit fails
 *   AG_FAULT_RERUN_EVERY=k     every k-th store batch is rolled back after
 *                              its jobs ran and run again, as when one of
 *                              them fails (store.h: jobs must bear it)
 * ag_fault_setup() reads the environment and hooks jansson's allocator. */
void ag_fault_setup(void);
void ag_fault_alloc_after(long nth);
bool ag_fault_alloc_fire(void);
bool ag_fault_commit_fire(void);
bool ag_fault_rerun_fire(void);
/* Did one of jansson's allocations fail on this thread since the last call?
 * (Clears the flag.) ag_fault_setup installs the allocator that tracks it. */
bool ag_json_alloc_failed_reset(void);
/* Was this binary built with fault injection? */
bool ag_fault_enabled(void);

#endif
