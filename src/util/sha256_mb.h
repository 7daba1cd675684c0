/* sha256_mb.h - SHA-256 of many small buffers at once, for the records
 * that alert (a third of a CloudTrail scan's records: their hashing was
 * a sixth of its time). One SHA-NI stream is bound by the latency of its
 * rounds; Intel's multi-buffer library (libipsec-mb) interleaves two
 * with SHA-NI, or 8 / 16 lanes of AVX2 / AVX-512 without it. Without
 * the library (not packaged beyond amd64) each buffer is hashed when it
 * is added, through sha256.h: the same digests, one at a time.
 *
 * A digest comes back through the callback, with the caller's id, at a
 * later add or at aw_sha256_mb_flush, in the order the buffers were
 * added. A buffer's bytes must stay as they are until then (the
 * scanner flushes before its reader moves them). The callback must not
 * call back into the queue. */
#ifndef AW_SHA256_MB_H
#define AW_SHA256_MB_H

#include <stddef.h>
#include <stdint.h>

typedef struct aw_sha256_mb aw_sha256_mb;

typedef void (*aw_sha256_done_fn)(void *ud, size_t id, const uint8_t digest[32]);

/* NULL only when out of memory. */
aw_sha256_mb *aw_sha256_mb_new(aw_sha256_done_fn fn, void *ud);
void aw_sha256_mb_free(aw_sha256_mb *mb);
/* Queue data[0..len) (not copied). */
void aw_sha256_mb_add(aw_sha256_mb *mb, const void *data, size_t len, size_t id);
/* Finish every queued hash (each callback runs before it returns). */
void aw_sha256_mb_flush(aw_sha256_mb *mb);
/* What hashes: "sha-ni x2", "avx2 x8", "avx512 x16" (libipsec-mb), or
 * "one at a time". */
const char *aw_sha256_mb_kind(const aw_sha256_mb *mb);

#endif
