/* eseq.c - a group's window entries as a row of sorted blocks (see
 * eseq.h). The row is an array of slots, each with its block's last
 * time, so finding where an event goes reads the slots (one or two
 * cache lines for a window of max_values 1,024) and then one block.
 * The row has a free front (s0): blocks leave at the front as the
 * window slides, and are added behind it or split in place. */
#include <stdlib.h>
#include <string.h>

#include "correlate/eseq.h"
#include "util/arena.h"

static size_t blk_size(uint32_t cap)
{
    return sizeof(eblk) + (size_t)cap * sizeof(entry);
}

static eblk *blk_new(eseq *q, uint32_t cap)
{
    eblk *b = aw_xmalloc(blk_size(cap));
    b->lo = b->hi = 0;
    b->cap = cap;
    q->bytes += blk_size(cap);
    return b;
}

static void blk_free(eseq *q, eblk *b)
{
    q->bytes -= blk_size(b->cap);
    free(b);
}

static void touch(eseq *q, uint32_t k)
{
    if (q->scap) {
        eblk *b = es_blk(q, k);
        q->s[q->s0 + k].last = b->e[b->hi - 1].t;
    }
}

static void set_blk(eseq *q, uint32_t k, eblk *b)
{
    if (q->scap)
        q->s[q->s0 + k].b = b;
    else
        q->one = b;
}

/* Put block b in the row as block k (0 <= k <= nb). */
static void slot_insert(eseq *q, uint32_t k, eblk *b)
{
    if (!q->scap && !q->nb) {                  /* the first block */
        q->one = b;
        q->nb = 1;
        return;
    }
    if (!q->scap || q->s0 + q->nb == q->scap) {
        if (q->scap && q->s0 > q->nb / 2) { /* reuse the free front */
            memmove(q->s, q->s + q->s0, (size_t)q->nb * sizeof *q->s);
            q->s0 = 0;
        } else {
            uint32_t ncap = q->scap ? q->scap * 2 : 4;
            eslot *ns = aw_xmalloc((size_t)ncap * sizeof *ns);
            if (q->scap) {
                memcpy(ns, q->s + q->s0, (size_t)q->nb * sizeof *ns);
                free(q->s);
            } else {                            /* the second block */
                ns[0].b = q->one;
                ns[0].last = q->one->e[q->one->hi - 1].t;
            }
            q->bytes += (size_t)(ncap - q->scap) * sizeof *ns;
            q->s = ns;
            q->scap = ncap;
            q->s0 = 0;
        }
    }
    eslot *r = q->s + q->s0;
    memmove(&r[k + 1], &r[k], (size_t)(q->nb - k) * sizeof *r);
    r[k].b = b;
    r[k].last = b->hi > b->lo ? b->e[b->hi - 1].t : INT64_MIN;
    q->nb++;
}

/* Take block k out of the row and free it. */
static void slot_remove(eseq *q, uint32_t k)
{
    blk_free(q, es_blk(q, k));
    if (!q->scap) {
        q->one = NULL;
        q->nb = 0;
        return;
    }
    if (k == 0) {
        q->s0++;
    } else {
        eslot *r = q->s + q->s0;
        memmove(&r[k], &r[k + 1], (size_t)(q->nb - k - 1) * sizeof *r);
    }
    if (--q->nb == 0)
        q->s0 = 0;
}

/* First block whose last entry is later than t (the last block's is). */
static uint32_t find_blk(const eseq *q, int64_t t)
{
    if (q->nb == 1)
        return 0;
    const eslot *r = q->s + q->s0;
    uint32_t lo = 0, hi = q->nb - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r[mid].last > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* First entry of b later than t (b's last entry is). The block is
 * usually cold: its lines are asked for at once, so the search's five
 * steps wait for memory about once, not five times. */
static uint32_t find_in(const eseq *q, const eblk *b, int64_t t)
{
    uint32_t lo, hi;
    if (q->scap) {
        for (size_t off = 0; off < sizeof(eblk) + ES_BLK * sizeof(entry); off += 64)
            __builtin_prefetch((const char *)b + off);
        lo = b->lo;
        hi = b->hi - 1;
    } else {                        /* the only block: its bounds from q, so
                                       the first step need not wait for the
                                       block's header */
        lo = q->s0;
        hi = q->s0 + q->n - 1;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->e[mid].t > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The last entry of block k. */
static entry *es_last_of(const eseq *q, uint32_t k)
{
    eblk *b = es_blk(q, k);
    return &b->e[b->hi - 1];
}

/* The entry before index i of block k (in that block or the one
 * before), or NULL at the front. */
static entry *before(const eseq *q, uint32_t k, uint32_t i)
{
    eblk *b = es_blk(q, k);
    if (i > b->lo)
        return &b->e[i - 1];
    return k > 0 ? es_last_of(q, k - 1) : NULL;
}

/* Move b's entries to the start of its array. */
static void compact(eblk *b)
{
    memmove(b->e, &b->e[b->lo], (size_t)(b->hi - b->lo) * sizeof *b->e);
    b->hi -= b->lo;
    b->lo = 0;
}

/* Entries a block may hold: ES_BLK in a row, ES_ONE when it is the
 * only one (a group of up to ES_ONE entries is one array, as a flat
 * ring would be, without a row to look up first). */
static uint32_t blk_max(const eseq *q)
{
    return q->scap ? ES_BLK : ES_ONE;
}

/* Put *e at index i of block k (lo <= i <= hi), the block having fewer
 * than blk_max entries: the shorter side moves, into the free front or
 * back (a block with no room behind whose front side is the longer is
 * compacted first); a block with no room behind that is full, or more
 * than three quarters full (compacting it would soon be needed again),
 * grows, doubling up to blk_max. */
static void blk_put(eseq *q, uint32_t k, uint32_t i, const entry *e)
{
    eblk *b = es_blk(q, k);
    if (b->hi == b->cap && b->cap < blk_max(q) && (b->lo == 0 || (b->hi - b->lo) * 4 > b->cap * 3)) {
        uint32_t ncap = b->cap * 2 > blk_max(q) ? blk_max(q) : b->cap * 2;
        b = aw_xrealloc(b, blk_size(ncap));
        q->bytes += blk_size(ncap) - blk_size(b->cap);
        b->cap = ncap;
        set_blk(q, k, b);
    }
    if (b->lo > 0 && b->hi == b->cap && i - b->lo >= b->hi - i) {
        i -= b->lo;
        compact(b);
    }
    if (b->lo > 0 && (b->hi == b->cap || i - b->lo < b->hi - i)) {
        memmove(&b->e[b->lo - 1], &b->e[b->lo], (size_t)(i - b->lo) * sizeof *b->e);
        b->lo--;
        i--;
    } else {
        memmove(&b->e[i + 1], &b->e[i], (size_t)(b->hi - i) * sizeof *b->e);
        b->hi++;
    }
    b->e[i] = *e;
    touch(q, k);
}

/* The only block, of ES_ONE, has no room behind and is more than three
 * quarters full: it becomes a row of half-full blocks of ES_BLK (the last
 * holding the rest). */
static void to_row(eseq *q)
{
    eblk *one = q->one;
    uint32_t half = ES_BLK / 2, cnt = one->hi - one->lo;
    q->one = NULL;
    q->nb = 0;
    for (uint32_t k = 0; k * half < cnt; k++) {
        eblk *b = blk_new(q, ES_BLK);
        b->hi = cnt - k * half < half ? cnt - k * half : half;
        memcpy(b->e, &one->e[one->lo + k * half], (size_t)b->hi * sizeof *b->e);
        slot_insert(q, k, b);
        touch(q, k);
    }
    q->bytes -= blk_size(one->cap);
    free(one);
}

/* The only block's first index, kept in q->s0 (free while there is no
 * row) after every change, for find_in. */
static void sync_lo(eseq *q)
{
    if (!q->scap && q->nb)
        q->s0 = q->one->lo;
}

static entry *insert(eseq *q, const entry *e, bool join)
{
    int64_t t = e->t;
    if (!q->nb)
        slot_insert(q, 0, blk_new(q, 4));
    else if (!q->scap && q->n * 4 > ES_ONE * 3 && q->one->cap == ES_ONE && q->one->hi == ES_ONE)
        to_row(q);
    uint32_t k, i;
    if (!q->n) {
        k = 0;
        i = es_blk(q, 0)->lo;
        q->tfirst = q->tlast = t;
    } else if (q->tlast <= t) {                     /* in order */
        if (join && q->tlast == t)
            return es_last(q);
        k = q->nb - 1;
        i = es_blk(q, k)->hi;
        q->tlast = t;
    } else {
        k = find_blk(q, t);
        eblk *b = es_blk(q, k);
        i = find_in(q, b, t);
        entry *same;
        if (join && (same = before(q, k, i)) && same->t == t)
            return same;
        if (i == b->lo && k > 0) {
            eblk *p = es_blk(q, k - 1);
            if (p->hi - p->lo < ES_BLK) {           /* the end of the one before */
                k--;
                i = p->hi;
            }
        }
        if (t < q->tfirst)
            q->tfirst = t;
    }
    q->n++;
    eblk *b = es_blk(q, k);
    uint32_t cnt = b->hi - b->lo;
    /* past the end of a row's last block, with no room behind it: a new
     * block, once this one is at least half full (a window sliding in
     * order then moves no entry) */
    if (q->scap && i == b->hi && k == q->nb - 1 && b->hi == b->cap &&
        (cnt == ES_BLK || (b->lo > 0 && cnt >= ES_BLK / 2))) {
        eblk *nb = blk_new(q, ES_BLK);
        nb->e[0] = *e;
        nb->hi = 1;
        slot_insert(q, k + 1, nb);
        return NULL;
    }
    if (cnt < blk_max(q)) {
        blk_put(q, k, i, e);
        return NULL;
    }
    /* inside a full block (lo 0, hi cap ES_BLK): split it in halves */
    uint32_t half = ES_BLK / 2;
    eblk *nb = blk_new(q, ES_BLK);
    memcpy(nb->e, &b->e[half], (size_t)(ES_BLK - half) * sizeof *b->e);
    nb->hi = ES_BLK - half;
    b->hi = half;
    touch(q, k);
    slot_insert(q, k + 1, nb);
    if (i <= half)
        blk_put(q, k, i, e);
    else
        blk_put(q, k + 1, i - half, e);
    return NULL;
}

entry *es_insert(eseq *q, const entry *e, bool join)
{
    entry *same = insert(q, e, join);
    sync_lo(q);
    return same;
}

entry *es_last_le(const eseq *q, int64_t t)
{
    if (!q->n)
        return NULL;
    if (q->tlast <= t)
        return es_last(q);
    uint32_t k = find_blk(q, t);
    return before(q, k, find_in(q, es_blk(q, k), t));
}

entry *es_second(const eseq *q)
{
    eblk *b = es_blk(q, 0);
    if (b->hi - b->lo >= 2)
        return &b->e[b->lo + 1];
    b = es_blk(q, 1);
    return &b->e[b->lo];
}

/* Block k was emptied: it leaves the row, unless it is the only one. */
static void emptied(eseq *q, uint32_t k)
{
    eblk *b = es_blk(q, k);
    if (q->nb > 1)
        slot_remove(q, k);
    else
        b->lo = b->hi = 0;
}

void es_pop_front(eseq *q)
{
    eblk *b = es_blk(q, 0);
    b->lo++;
    q->n--;
    if (b->lo == b->hi)
        emptied(q, 0);
    if (q->n)
        q->tfirst = es_first(q)->t;
    sync_lo(q);
}

/* Block k, between the first and the last, fell below half: it takes
 * the next block's entries when they fit, else that block's first. */
static void rebalance(eseq *q, uint32_t k)
{
    eblk *b = es_blk(q, k), *r = es_blk(q, k + 1);
    uint32_t rn = r->hi - r->lo;
    compact(b);
    if (b->hi + rn <= b->cap) {
        memcpy(&b->e[b->hi], &r->e[r->lo], (size_t)rn * sizeof *b->e);
        b->hi += rn;
        slot_remove(q, k + 1);
    } else {
        b->e[b->hi++] = r->e[r->lo++];
    }
    touch(q, k);
}

void es_remove(eseq *q, epos p)
{
    eblk *b = es_blk(q, p.k);
    uint32_t i = p.i;
    if (i - b->lo < b->hi - 1 - i) {
        memmove(&b->e[b->lo + 1], &b->e[b->lo], (size_t)(i - b->lo) * sizeof *b->e);
        b->lo++;
    } else {
        memmove(&b->e[i], &b->e[i + 1], (size_t)(b->hi - 1 - i) * sizeof *b->e);
        b->hi--;
    }
    q->n--;
    if (b->lo == b->hi)
        emptied(q, p.k);
    else {
        touch(q, p.k);
        if (p.k > 0 && p.k + 1 < q->nb && b->hi - b->lo < ES_BLK / 2)
            rebalance(q, p.k);
    }
    if (q->n) {
        q->tfirst = es_first(q)->t;
        q->tlast = es_last(q)->t;
    }
    sync_lo(q);
}

void es_clear(eseq *q)
{
    while (q->nb > 1)
        slot_remove(q, q->nb - 1);
    if (q->nb)
        es_blk(q, 0)->lo = es_blk(q, 0)->hi = 0;
    q->n = 0;
    sync_lo(q);
}

void es_free(eseq *q)
{
    while (q->nb)
        slot_remove(q, q->nb - 1);
    if (q->scap)
        free(q->s);
    memset(q, 0, sizeof *q);
}

size_t es_bound_bytes(size_t n)
{
    /* blocks but the first and the last are at least half full */
    size_t nb = 2 + 2 * n / ES_BLK + 1;
    return blk_size(ES_ONE) + nb * blk_size(ES_BLK) + 3 * nb * sizeof(eslot);   /* the row grows at 2/3 full */
}
