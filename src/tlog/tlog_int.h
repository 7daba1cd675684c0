/* tlog_int.h - helpers shared inside src/tlog (not a public API). */
#ifndef AW_TLOG_INT_H
#define AW_TLOG_INT_H

#include <stdint.h>
#include <stddef.h>

#include "aupwatch/aw_tlog.h"

/* Strict standard padded base64: decodes, then re-encodes and compares
 * so that non-canonical encodings are refused. -1 on error. */
int aw_tlog_b64dec(const char *s, size_t len, uint8_t *out, size_t cap,
                   size_t *out_len);
/* Encodes; returns the length (without NUL) or 0 if cap is too small. */
size_t aw_tlog_b64enc(const uint8_t *in, size_t len, char *out, size_t cap);
/* Canonical ASCII decimal (0|[1-9][0-9]*) fitting in uint64. */
int aw_tlog_parse_u64(const char *s, size_t len, uint64_t *out);

/* Whole file into a malloc'd buffer (NUL-terminated), capped. */
aw_status aw_tlog_read_file(const char *path, size_t cap, char **buf,
                            size_t *len, aw_errbuf *err);
/* Atomic replace: write tmp in the same directory, fsync, rename. The
 * directory is fsync'd too unless dir_sync is 0 (caller does it). */
aw_status aw_tlog_write_atomic(const char *path, const void *buf, size_t len,
                               int do_fsync, int dir_sync, aw_errbuf *err);
aw_status aw_tlog_fsync_dir(const char *dir, aw_errbuf *err);
/* mkdir -p for the parent directories of path. */
aw_status aw_tlog_mkdirs_for(const char *path, aw_errbuf *err);

/* Reads hashes of tiles from a log directory for a given tree size, with
 * a small cache; usable as an aw_merkle_node_fn. */
typedef struct aw_tile_reader aw_tile_reader;
aw_tile_reader *aw_tile_reader_new(const char *dir, uint64_t size);
void aw_tile_reader_free(aw_tile_reader *r);
void aw_tile_reader_set_size(aw_tile_reader *r, uint64_t size);
aw_status aw_tile_reader_node(void *ud, unsigned level, uint64_t index,
                              aw_hash out, aw_errbuf *err);

#endif
