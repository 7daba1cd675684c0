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

#define CACHE 8

struct aw_tile_reader {
    char *dir;
    uint64_t size;
    struct {
        int used;
        unsigned level, width;
        uint64_t n;
        uint8_t data[256 * AW_TLOG_HASH];
    } c[CACHE];
    unsigned next;
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
    free(r->dir);
    free(r);
}

void aw_tile_reader_set_size(aw_tile_reader *r, uint64_t size)
{
    r->size = size;
}

static const uint8_t *load(aw_tile_reader *r, unsigned level, uint64_t n,
                           unsigned width, aw_errbuf *err)
{
    char rel[256], path[4096];
    for (int i = 0; i < CACHE; i++)
        if (r->c[i].used && r->c[i].level == level && r->c[i].n == n &&
            r->c[i].width == width)
            return r->c[i].data;
    aw_tile_path(rel, sizeof rel, level, n, width);
    snprintf(path, sizeof path, "%s/%s", r->dir, rel);
    char *buf;
    size_t len, want = (width ? width : 256) * (size_t)AW_TLOG_HASH;
    if (aw_tlog_read_file(path, 256 * AW_TLOG_HASH, &buf, &len, err) != AW_OK)
        return NULL;
    if (len != want) {
        aw_errbuf_set(err, "%s: %zu bytes, want %zu", path, len, want);
        free(buf);
        return NULL;
    }
    unsigned slot = r->next++ % CACHE;
    r->c[slot].used = 1;
    r->c[slot].level = level;
    r->c[slot].n = n;
    r->c[slot].width = width;
    memcpy(r->c[slot].data, buf, len);
    free(buf);
    return r->c[slot].data;
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
    const uint8_t *d = load(r, L, t, width, err);
    if (!d)
        return AW_EIO;
    aw_hash buf[128];
    unsigned off = (unsigned)(i0 & 255);
    if (cnt == 1) {
        memcpy(out, d + off * AW_TLOG_HASH, AW_TLOG_HASH);
        return AW_OK;
    }
    /* perfect subtree: hash pairs upward */
    for (uint64_t i = 0; i < cnt / 2; i++)
        aw_merkle_node_hash(d + (off + 2 * i) * AW_TLOG_HASH,
                            d + (off + 2 * i + 1) * AW_TLOG_HASH, buf[i]);
    for (uint64_t w = cnt / 2; w > 1; w /= 2)
        for (uint64_t i = 0; i < w / 2; i++)
            aw_merkle_node_hash(buf[2 * i], buf[2 * i + 1], buf[i]);
    memcpy(out, buf[0], AW_TLOG_HASH);
    return AW_OK;
}
