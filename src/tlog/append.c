/* append.c - batching and durable integration of entries into tiles. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlog/tlog_w.h"

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

/* Directories touched by a batch, fsync'd once each at the end. */
typedef struct dirset {
    char d[64][4096];
    int n;
} dirset;

static aw_status put_file(aw_tlog *t, dirset *ds, const char *rel,
                          const void *buf, size_t len, aw_errbuf *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", t->dir, rel);
    aw_status st = aw_tlog_write_atomic(path, buf, len, t->fsync, 0, err);
    if (st != AW_OK || !t->fsync)
        return st;
    char *sl = strrchr(path, '/');
    *sl = 0;
    for (int i = 0; i < ds->n; i++)
        if (strcmp(ds->d[i], path) == 0)
            return AW_OK;
    if (ds->n == 64) {
        for (int i = 0; i < ds->n; i++)
            if ((st = aw_tlog_fsync_dir(ds->d[i], err)) != AW_OK)
                return st;
        ds->n = 0;
    }
    snprintf(ds->d[ds->n++], sizeof ds->d[0], "%s", path);
    return AW_OK;
}

/* A tile at level L just filled: write it, push its root up. */
static aw_status tile_full(aw_tlog *t, dirset *ds, unsigned L, uint64_t n,
                           aw_errbuf *err)
{
    char rel[256];
    aw_tile_path(rel, sizeof rel, L, n, 0);
    aw_status st = put_file(t, ds, rel, t->lvl[L], 256 * sizeof(aw_hash), err);
    if (st != AW_OK)
        return st;
    if (L == 7) {
        aw_errbuf_set(err, "log is full");
        return AW_ELIMIT;
    }
    aw_merkle_root_of(t->lvl[L], 256, t->lvl[L + 1][t->lvl_n[L + 1]++]);
    t->lvl_n[L] = 0;
    if (t->lvl_n[L + 1] == 256)
        return tile_full(t, ds, L + 1, n >> 8, err);
    return AW_OK;
}

aw_status aw_tlog_sync(aw_tlog *t, aw_errbuf *err)
{
    static dirset ds_static; /* large; one writer per process */
    dirset *ds = &ds_static;
    char rel[256];
    aw_status st = AW_OK;
    uint64_t old = t->size, size = t->size;
    if (t->broken) {
        aw_errbuf_set(err, "%s: an earlier write failed; reopen the log", t->dir);
        return AW_EIO;
    }
    if (t->npend == 0)
        goto cadence;
    ds->n = 0;
    for (size_t i = 0; i < t->npend; i++) {
        const uint8_t *e = t->pend + t->pend_off[i];
        size_t el = (size_t)e[0] << 8 | e[1];
        aw_hash *h = &t->lvl[0][t->lvl_n[0]++];
        aw_merkle_leaf_hash(e + 2, el, *h);
        aw_merkle_range_append(&t->range, *h);
        memcpy(t->bundle + t->bundle_len, e, el + 2);
        t->bundle_len += el + 2;
        t->bundle_n++;
        size++;
        if (t->bundle_n == 256) {
            aw_tile_entries_path(rel, sizeof rel, (size - 1) >> 8, 0);
            if ((st = put_file(t, ds, rel, t->bundle, t->bundle_len, err)) != AW_OK)
                goto fail;
            t->bundle_len = 0;
            t->bundle_n = 0;
        }
        if (t->lvl_n[0] == 256 &&
            (st = tile_full(t, ds, 0, (size - 1) >> 8, err)) != AW_OK)
            goto fail;
    }
    /* partial tiles for the new size, where they changed */
    if (t->bundle_n > 0) {
        aw_tile_entries_path(rel, sizeof rel, size >> 8, t->bundle_n);
        if ((st = put_file(t, ds, rel, t->bundle, t->bundle_len, err)) != AW_OK)
            goto fail;
    }
    for (unsigned L = 0; L < 8; L++) {
        if ((old >> (8 * L)) == (size >> (8 * L)) || t->lvl_n[L] == 0)
            continue;
        aw_tile_path(rel, sizeof rel, L, size >> (8 * (L + 1)), t->lvl_n[L]);
        st = put_file(t, ds, rel, t->lvl[L], t->lvl_n[L] * sizeof(aw_hash), err);
        if (st != AW_OK)
            goto fail;
    }
    for (int i = 0; i < ds->n; i++)
        if ((st = aw_tlog_fsync_dir(ds->d[i], err)) != AW_OK)
            goto fail;
    t->size = size;
    aw_merkle_range_root(&t->range, t->root);
    {
        char path[4096], b64[64], buf[256];
        aw_tlog_b64enc(t->root, AW_TLOG_HASH, b64, sizeof b64);
        int n = snprintf(buf, sizeof buf, "aw-tlog-state v1\nsize %" PRIu64
                         "\nroot %s\n", t->size, b64);
        snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/state", t->dir);
        if ((st = aw_tlog_write_atomic(path, buf, (size_t)n, t->fsync, 1,
                                       err)) != AW_OK)
            goto fail;
    }
    t->npend = 0;
    t->pend_len = 0;
cadence:
    if (t->size != t->pub_size &&
        ((t->every && t->size - t->pub_size >= t->every) ||
         (t->interval && time(NULL) - t->pub_time >= (time_t)t->interval)))
        return aw_tlog_checkpoint(t, err);
    return AW_OK;
fail:
    /* The in-memory tree is now ahead of the durable state: refuse to go
     * on; the caller must close and reopen (which recovers from disk). */
    t->npend = 0;
    t->pend_len = 0;
    t->broken = 1;
    return st;
}
