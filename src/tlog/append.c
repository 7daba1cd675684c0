/* append.c - batching, the write-ahead log, and integration of entries
 * into tiles.
 *
 * A batch is acknowledged once its records are appended to .aw-tlog/wal
 * and fdatasync'd (one sync per batch). Full tiles and bundles are written
 * as they fill, without fsync; partial tiles are written only when the
 * tree is flushed (before every checkpoint, or when the WAL grows large),
 * which fsyncs every tile written since, records the size in the state
 * file and then empties the WAL. On open the WAL is replayed after the
 * durable size, rewriting any tile that a crash may have lost.
 *
 * WAL record: "AWL1" | uint64_be index | uint32_be len | entry | leaf hash
 * (SHA-256(0x00 || entry), doubling as the record's checksum). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlog/tlog_w.h"

#define WAL_HDR 16

aw_status aw_tlog_add(aw_tlog *t, const void *entry, size_t len,
                      uint64_t *index, aw_errbuf *err)
{
    if (t->broken) {
        aw_errbuf_set(err, "%s: an earlier write failed; reopen the log", t->dir);
        return AW_EIO;
    }
    if (len > AW_TLOG_MAX_ENTRY) {
        aw_errbuf_set(err, "entry of %zu bytes exceeds %d", len,
                      AW_TLOG_MAX_ENTRY);
        return AW_ELIMIT;
    }
    if (t->pend_len + len + 2 > t->pend_cap) {
        size_t cap = t->pend_cap ? t->pend_cap * 2 : 65536;
        while (cap < t->pend_len + len + 2)
            cap *= 2;
        uint8_t *p = realloc(t->pend, cap);
        if (!p)
            goto oom;
        t->pend = p;
        t->pend_cap = cap;
    }
    if (t->npend == t->pend_off_cap) {
        size_t cap = t->pend_off_cap ? t->pend_off_cap * 2 : 1024;
        size_t *p = realloc(t->pend_off, cap * sizeof *p);
        if (!p)
            goto oom;
        t->pend_off = p;
        t->pend_off_cap = cap;
    }
    t->pend_off[t->npend++] = t->pend_len;
    t->pend[t->pend_len++] = (uint8_t)(len >> 8);
    t->pend[t->pend_len++] = (uint8_t)len;
    memcpy(t->pend + t->pend_len, entry, len);
    t->pend_len += len;
    if (index)
        *index = t->size + t->npend - 1;
    return AW_OK;
oom:
    aw_errbuf_set(err, "out of memory");
    return AW_ENOMEM;
}

/* Write a tile or bundle. Durable now (flush) or later: full tiles are
 * written during a batch without fsync (the WAL already holds their
 * entries) and remembered, to be fsync'd by the next flush. */
static aw_status put_file(aw_tlog *t, const char *rel, const void *buf,
                          size_t len, int now, aw_errbuf *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", t->dir, rel);
    if (now || !t->fsync)
        return aw_tlog_write_atomic(path, buf, len, t->fsync, 1, err);
    aw_status st = aw_tlog_write_atomic(path, buf, len, 0, 0, err);
    if (st != AW_OK)
        return st;
    if (t->ndirty == t->dirty_cap) {
        size_t cap = t->dirty_cap ? t->dirty_cap * 2 : 64;
        char **d = realloc(t->dirty, cap * sizeof *d);
        if (!d) {
            aw_errbuf_set(err, "out of memory");
            return AW_ENOMEM;
        }
        t->dirty = d;
        t->dirty_cap = cap;
    }
    if (!(t->dirty[t->ndirty] = strdup(path))) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    t->ndirty++;
    return AW_OK;
}

/* fsync the remembered files, then each of their directories once. */
static aw_status sync_dirty(aw_tlog *t, aw_errbuf *err)
{
    aw_status st = AW_OK;
    for (size_t i = 0; i < t->ndirty && st == AW_OK; i++) {
        int fd = open(t->dirty[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fdatasync(fd) != 0) {
            aw_errbuf_set(err, "%s: fsync: %s", t->dirty[i], strerror(errno));
            st = AW_EIO;
        }
        if (fd >= 0)
            close(fd);
    }
    for (size_t i = 0; i < t->ndirty && st == AW_OK; i++) {
        char *sl = strrchr(t->dirty[i], '/');
        int seen = 0;
        *sl = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->dirty[j], t->dirty[i]) == 0;
        if (!seen)
            st = aw_tlog_fsync_dir(t->dirty[i], err);
    }
    for (size_t i = 0; i < t->ndirty; i++)
        free(t->dirty[i]);
    t->ndirty = 0;
    return st;
}

/* A tile at level L just filled: write it, push its root up. */
static aw_status tile_full(aw_tlog *t, unsigned L, uint64_t n, aw_errbuf *err)
{
    char rel[256];
    aw_tile_path(rel, sizeof rel, L, n, 0);
    aw_status st = put_file(t, rel, t->lvl[L], 256 * sizeof(aw_hash), 0, err);
    if (st != AW_OK)
        return st;
    if (L == 7) {
        aw_errbuf_set(err, "log is full");
        return AW_ELIMIT;
    }
    aw_merkle_root_of(t->lvl[L], 256, t->lvl[L + 1][t->lvl_n[L + 1]++]);
    t->lvl_n[L] = 0;
    if (t->lvl_n[L + 1] == 256)
        return tile_full(t, L + 1, n >> 8, err);
    return AW_OK;
}

/* Fold the queued entries (with their leaf hashes) into the tree. */
static aw_status integrate(aw_tlog *t, const aw_hash *leaves, aw_errbuf *err)
{
    char rel[256];
    aw_status st;
    uint64_t size = t->size;
    for (size_t i = 0; i < t->npend; i++) {
        const uint8_t *e = t->pend + t->pend_off[i];
        size_t el = (size_t)e[0] << 8 | e[1];
        memcpy(t->lvl[0][t->lvl_n[0]++], leaves[i], AW_TLOG_HASH);
        aw_merkle_range_append(&t->range, leaves[i]);
        memcpy(t->bundle + t->bundle_len, e, el + 2);
        t->bundle_len += el + 2;
        t->bundle_n++;
        size++;
        if (t->bundle_n == 256) {
            aw_tile_entries_path(rel, sizeof rel, (size - 1) >> 8, 0);
            if ((st = put_file(t, rel, t->bundle, t->bundle_len, 0, err)) != AW_OK)
                return st;
            t->bundle_len = 0;
            t->bundle_n = 0;
        }
        if (t->lvl_n[0] == 256 &&
            (st = tile_full(t, 0, (size - 1) >> 8, err)) != AW_OK)
            return st;
    }
    t->size = size;
    aw_merkle_range_root(&t->range, t->root);
    t->npend = 0;
    t->pend_len = 0;
    return AW_OK;
}

static aw_status fail(aw_tlog *t, aw_status st)
{
    /* memory may be ahead of the disk: refuse to go on; reopening
     * recovers from the state file and the WAL */
    t->npend = 0;
    t->pend_len = 0;
    t->broken = 1;
    return st;
}

aw_status aw_tlog_sync(aw_tlog *t, aw_errbuf *err)
{
    aw_status st;
    if (t->broken) {
        aw_errbuf_set(err, "%s: an earlier write failed; reopen the log", t->dir);
        return AW_EIO;
    }
    if (t->npend > 0) {
        size_t need = t->npend * (WAL_HDR + AW_TLOG_HASH) + t->pend_len;
        aw_hash *leaves = malloc(t->npend * sizeof *leaves);
        if (need > t->walbuf_cap) {
            uint8_t *b = realloc(t->walbuf, need);
            if (b) {
                t->walbuf = b;
                t->walbuf_cap = need;
            }
        }
        if (!leaves || need > t->walbuf_cap) {
            free(leaves);
            aw_errbuf_set(err, "out of memory");
            return fail(t, AW_ENOMEM);
        }
        size_t w = 0;
        for (size_t i = 0; i < t->npend; i++) {
            const uint8_t *e = t->pend + t->pend_off[i];
            size_t el = (size_t)e[0] << 8 | e[1];
            uint64_t idx = t->size + i;
            aw_merkle_leaf_hash(e + 2, el, leaves[i]);
            memcpy(t->walbuf + w, "AWL1", 4);
            for (int b = 0; b < 8; b++)
                t->walbuf[w + 4 + b] = (uint8_t)(idx >> (56 - 8 * b));
            t->walbuf[w + 12] = 0;
            t->walbuf[w + 13] = 0;
            t->walbuf[w + 14] = e[0];
            t->walbuf[w + 15] = e[1];
            memcpy(t->walbuf + w + WAL_HDR, e + 2, el);
            memcpy(t->walbuf + w + WAL_HDR + el, leaves[i], AW_TLOG_HASH);
            w += WAL_HDR + el + AW_TLOG_HASH;
        }
        for (size_t off = 0; off < w;) {
            ssize_t r = write(t->walfd, t->walbuf + off, w - off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                aw_errbuf_set(err, "%s/" AW_TLOG_PRIV "/wal: write: %s", t->dir,
                              strerror(errno));
                free(leaves);
                return fail(t, AW_EIO);
            }
            off += (size_t)r;
        }
        if (t->fsync && fdatasync(t->walfd) != 0) {
            aw_errbuf_set(err, "%s/" AW_TLOG_PRIV "/wal: fsync: %s", t->dir,
                          strerror(errno));
            free(leaves);
            return fail(t, AW_EIO);
        }
        t->wal_bytes += w;
        /* acknowledged: now fold into the tree */
        st = integrate(t, leaves, err);
        free(leaves);
        if (st != AW_OK)
            return fail(t, st);
        if (t->wal_bytes > AW_TLOG_WAL_MAX && (st = aw_tlog_flush(t, err)) != AW_OK)
            return fail(t, st);
    }
    if (t->size != t->pub_size &&
        ((t->every && t->size - t->pub_size >= t->every) ||
         (t->interval && time(NULL) - t->pub_time >= (time_t)t->interval)))
        return aw_tlog_checkpoint(t, err);
    return AW_OK;
}

aw_status aw_tlog_flush(aw_tlog *t, aw_errbuf *err)
{
    char rel[256];
    aw_status st;
    if (t->size == t->durable && t->wal_bytes == 0)
        return AW_OK;
    if (t->size != t->durable) {
        if (t->bundle_n > 0) {
            aw_tile_entries_path(rel, sizeof rel, t->size >> 8, t->bundle_n);
            if ((st = put_file(t, rel, t->bundle, t->bundle_len, 1, err)) != AW_OK)
                return st;
        }
        for (unsigned L = 0; L < 8; L++) {
            if ((t->durable >> (8 * L)) == (t->size >> (8 * L)) ||
                t->lvl_n[L] == 0)
                continue;
            aw_tile_path(rel, sizeof rel, L, t->size >> (8 * (L + 1)),
                         t->lvl_n[L]);
            if ((st = put_file(t, rel, t->lvl[L],
                               t->lvl_n[L] * sizeof(aw_hash), 1, err)) != AW_OK)
                return st;
        }
        if ((st = sync_dirty(t, err)) != AW_OK)
            return st;
        if ((st = aw_tlog_write_state(t, err)) != AW_OK)
            return st;
        t->durable = t->size;
    }
    /* everything in the WAL is now in durable tiles */
    if (ftruncate(t->walfd, 0) != 0 || (t->fsync && fdatasync(t->walfd) != 0)) {
        aw_errbuf_set(err, "%s/" AW_TLOG_PRIV "/wal: truncate: %s", t->dir,
                      strerror(errno));
        return AW_EIO;
    }
    t->wal_bytes = 0;
    return AW_OK;
}

aw_status aw_tlog_wal_replay(aw_tlog *t, aw_errbuf *err)
{
    char path[4096], *buf;
    size_t len, pos = 0, good = 0;
    aw_status st;
    snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/wal", t->dir);
    if ((st = aw_tlog_read_file(path, (size_t)1 << 40, &buf, &len, err)) != AW_OK)
        return st;
    size_t cap = 0, n = 0;
    aw_hash *leaves = NULL;
    while (pos + WAL_HDR <= len) {
        const uint8_t *r = (const uint8_t *)buf + pos;
        uint64_t idx = 0;
        for (int b = 0; b < 8; b++)
            idx = idx << 8 | r[4 + b];
        size_t el = (size_t)r[12] << 24 | (size_t)r[13] << 16 |
                    (size_t)r[14] << 8 | r[15];
        aw_hash h;
        if (memcmp(r, "AWL1", 4) != 0 || el > AW_TLOG_MAX_ENTRY ||
            len - pos - WAL_HDR < el + AW_TLOG_HASH)
            break; /* torn tail */
        aw_merkle_leaf_hash(r + WAL_HDR, el, h);
        if (memcmp(h, r + WAL_HDR + el, AW_TLOG_HASH) != 0)
            break;
        uint64_t expect = t->size + t->npend;
        if (idx > expect) {
            aw_errbuf_set(err, "%s: record for index %" PRIu64 " follows %"
                               PRIu64 ": gap", path, idx, expect);
            free(leaves);
            free(buf);
            return AW_EPARSE;
        }
        if (idx == expect) { /* records below the durable size are done */
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                aw_hash *nl = realloc(leaves, cap * sizeof *nl);
                if (!nl) {
                    free(leaves);
                    free(buf);
                    aw_errbuf_set(err, "out of memory");
                    return AW_ENOMEM;
                }
                leaves = nl;
            }
            memcpy(leaves[n++], h, AW_TLOG_HASH);
            if ((st = aw_tlog_add(t, r + WAL_HDR, el, NULL, err)) != AW_OK)
                break;
        }
        pos += WAL_HDR + el + AW_TLOG_HASH;
        good = pos;
    }
    if (st == AW_OK && n > 0)
        st = integrate(t, leaves, err);
    free(leaves);
    free(buf);
    if (st != AW_OK)
        return st;
    /* drop a torn tail so new records follow good ones */
    if (good != len && (ftruncate(t->walfd, (off_t)good) != 0 ||
                        (t->fsync && fdatasync(t->walfd) != 0))) {
        aw_errbuf_set(err, "%s: truncate: %s", path, strerror(errno));
        return AW_EIO;
    }
    t->wal_bytes = good;
    return AW_OK;
}
