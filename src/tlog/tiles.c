/* tiles.c - C2SP tlog-tiles paths (format and parse) and a reader that
 * serves perfect-subtree hashes from the hash tiles of a log directory,
 * for proof generation. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog_int.h"

static size_t fmt_index(char *buf, size_t cap, uint64_t n)
{
    char groups[8][4];
    int ng = 0;
    do {
        snprintf(groups[ng++], 4, "%03u", (unsigned)(n % 1000));
        n /= 1000;
    } while (n > 0);
    size_t len = 0;
    for (int g = ng - 1; g >= 0; g--) {
        int w = snprintf(buf + len, cap > len ? cap - len : 0, "%s%s%s",
                         g > 0 ? "x" : "", groups[g], g > 0 ? "/" : "");
        if (w < 0 || len + (size_t)w >= cap)
            return 0;
        len += (size_t)w;
    }
    return len;
}

static size_t fmt_tile(char *buf, size_t cap, const char *lvl, uint64_t n,
                       unsigned width)
{
    int a = snprintf(buf, cap, "tile/%s/", lvl);
    if (a < 0 || (size_t)a >= cap || width > 255)
        return 0;
    size_t b = fmt_index(buf + a, cap - (size_t)a, n);
    if (b == 0)
        return 0;
    size_t len = (size_t)a + b;
    if (width > 0) {
        int c = snprintf(buf + len, cap - len, ".p/%u", width);
        if (c < 0 || len + (size_t)c >= cap)
            return 0;
        len += (size_t)c;
    }
    return len;
}

size_t aw_tile_path(char *buf, size_t cap, unsigned level, uint64_t n,
                    unsigned width)
{
    char l[8];
    if (level > 63)
        return 0;
    snprintf(l, sizeof l, "%u", level);
    return fmt_tile(buf, cap, l, n, width);
}

size_t aw_tile_entries_path(char *buf, size_t cap, uint64_t n, unsigned width)
{
    return fmt_tile(buf, cap, "entries", n, width);
}

static int three_digits(const char *s, size_t len, unsigned *v)
{
    if (len != 3)
        return -1;
    *v = 0;
    for (int i = 0; i < 3; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 0;
}

aw_status aw_tile_parse(const char *level, const char *index, unsigned *lvl,
                        uint64_t *n, unsigned *width)
{
    uint64_t l, w = 0, v = 0;
    size_t ilen = strlen(index);
    if (aw_tlog_parse_u64(level, strlen(level), &l) != 0 || l > 63)
        return AW_EPARSE;
    const char *p = strstr(index, ".p/");
    size_t body = p ? (size_t)(p - index) : ilen;
    if (p) {
        const char *ws = p + 3;
        if (aw_tlog_parse_u64(ws, strlen(ws), &w) != 0 || w < 1 || w > 255)
            return AW_EPARSE;
    }
    size_t pos = 0;
    int first = 1;
    for (;;) {
        const char *slash = memchr(index + pos, '/', body - pos);
        unsigned g;
        if (!slash) {
            if (three_digits(index + pos, body - pos, &g) != 0)
                return AW_EPARSE;
        } else {
            size_t gl = (size_t)(slash - index) - pos;
            if (gl != 4 || index[pos] != 'x' ||
                three_digits(index + pos + 1, 3, &g) != 0 ||
                (first && g == 0))
                return AW_EPARSE;
        }
        if (v > (UINT64_MAX - g) / 1000)
            return AW_EPARSE;
        v = v * 1000 + g;
        first = 0;
        if (!slash)
            break;
        pos = (size_t)(slash - index) + 1;
    }
    *lvl = (unsigned)l;
    *n = v;
    *width = (unsigned)w;
    return AW_OK;
}

/* ----------------------------------------------------------- tile reader */

/* A direct-mapped cache of tiles with their 7 inner levels computed once
 * on load, so any perfect subtree inside a tile is a lookup. */
#define CACHE 256

typedef struct tile_slot {
    int used;
    unsigned level, width;
    uint64_t n;
    aw_hash h[8][256]; /* h[k][i]: subtree of 2^k stored hashes */
} tile_slot;

struct aw_tile_reader {
    char *dir;
    uint64_t size;
    tile_slot *c[CACHE];
};

aw_tile_reader *aw_tile_reader_new(const char *dir, uint64_t size)
{
    aw_tile_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir))) {
        free(r);
        return NULL;
    }
    r->size = size;
    return r;
}

void aw_tile_reader_free(aw_tile_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < CACHE; i++)
        free(r->c[i]);
    free(r->dir);
    free(r);
}

void aw_tile_reader_set_size(aw_tile_reader *r, uint64_t size)
{
    r->size = size;
}

static const tile_slot *load(aw_tile_reader *r, unsigned level, uint64_t n,
                             unsigned width, aw_errbuf *err)
{
    char rel[256], path[4096];
    unsigned slot = (unsigned)((n * 31 + level * 7 + width) % CACHE);
    tile_slot *s = r->c[slot];
    if (s && s->used && s->level == level && s->n == n && s->width == width)
        return s;
    aw_tile_path(rel, sizeof rel, level, n, width);
    snprintf(path, sizeof path, "%s/%s", r->dir, rel);
    char *buf;
    size_t len, cnt = width ? width : 256, want = cnt * (size_t)AW_TLOG_HASH;
    if (aw_tlog_read_file(path, 256 * AW_TLOG_HASH, &buf, &len, err) != AW_OK)
        return NULL;
    if (len != want) {
        aw_errbuf_set(err, "%s: %zu bytes, want %zu", path, len, want);
        free(buf);
        return NULL;
    }
    if (!s && !(s = r->c[slot] = malloc(sizeof *s))) {
        free(buf);
        aw_errbuf_set(err, "out of memory");
        return NULL;
    }
    s->used = 1;
    s->level = level;
    s->n = n;
    s->width = width;
    memcpy(s->h[0], buf, len);
    free(buf);
    for (unsigned k = 1; k < 8; k++)
        for (size_t i = 0; i < (cnt >> k); i++)
            aw_merkle_node_hash(s->h[k - 1][2 * i], s->h[k - 1][2 * i + 1],
                                s->h[k][i]);
    return s;
}

aw_status aw_tile_reader_node(void *ud, unsigned level, uint64_t index,
                              aw_hash out, aw_errbuf *err)
{
    aw_tile_reader *r = ud;
    unsigned L = level / 8, sub = level % 8;
    if (L > 7) {
        aw_errbuf_set(err, "tree level %u out of range", level);
        return AW_ERR;
    }
    uint64_t stored = r->size >> (8 * L); /* hashes at tree level 8L */
    uint64_t i0 = index << sub, cnt = UINT64_C(1) << sub;
    if (i0 + cnt > stored) {
        aw_errbuf_set(err, "node %u/%" PRIu64 " is beyond size %" PRIu64,
                      level, index, r->size);
        return AW_ERR;
    }
    uint64_t t = i0 >> 8;
    unsigned width = ((t + 1) << 8) <= stored ? 0 : (unsigned)(stored & 255);
    const tile_slot *s = load(r, L, t, width, err);
    if (!s)
        return AW_EIO;
    memcpy(out, s->h[sub][(i0 & 255) >> sub], AW_TLOG_HASH);
    return AW_OK;
}
