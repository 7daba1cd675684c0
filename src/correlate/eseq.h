/* eseq.h - private to src/correlate: a group's window entries in time
 * order, as a row of small blocks.
 *
 * Events mostly arrive in time order (appended), but a provider's files
 * interleave: one account's regions, or one file's own records, arrive
 * minutes apart, so many events land inside the window. In one flat
 * sorted array each such insert searched up to max_values entries
 * (a cache miss per step) and moved half of them; here it searches the
 * blocks' last times, then one block of at most ES_BLK entries, and moves
 * at most half a block.
 *
 * Entries of equal time keep their arrival order (an insert goes after
 * them). Blocks other than the first and the last hold at least half of
 * ES_BLK entries, so capacity stays below 2 n + 2 ES_BLK entries
 * (es_bound_bytes). `bytes` is what the sequence has allocated, for the
 * correlator's memory accounting. */
#ifndef AW_ESEQ_H
#define AW_ESEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ES_BLK 32               /* entries a full block holds in a row */
#define ES_ONE 128              /* entries the only block may hold */

/* One contributing event (or several merged ones) in a group window. */
typedef struct entry {
    int64_t t;
    uint64_t vh;                /* value hash (value_count) */
    double num;                 /* sum of numeric values */
    uint32_t cnt;               /* events */
    uint32_t nnum;              /* events with a numeric value */
    uint32_t base;              /* base events (chained: inner's events) */
    uint16_t rule;              /* slot in the correlation's `rules` */
    uint8_t has_v;
} entry;

typedef struct eblk {
    uint32_t lo, hi, cap;       /* entries e[lo, hi) of e[0, cap) */
    entry e[];
} eblk;

typedef struct eslot {
    int64_t last;               /* time of the block's last entry */
    eblk *b;
} eslot;

typedef struct eseq {
    union {
        eslot *s;               /* blocks s[s0, s0 + nb) of s[0, scap), */
        eblk *one;              /* or while scap is 0, nb <= 1 (most groups
                                   hold a few entries): the block */
    };
    uint32_t s0, nb, scap;      /* (no row: s0 is the block's lo) */
    uint32_t n;                 /* entries */
    int64_t tfirst, tlast;      /* the first and last entries' times (n > 0):
                                   the blocks are read only when an event
                                   does not simply go last, or expires one */
    size_t bytes;               /* allocated */
} eseq;

/* A place in the sequence: block k (0 = oldest) and index i in its e[]. */
typedef struct epos {
    uint32_t k, i;
} epos;

static inline eblk *es_blk(const eseq *q, uint32_t k)
{
    return q->scap ? q->s[q->s0 + k].b : q->one;
}

static inline entry *es_first(const eseq *q)
{
    eblk *b = es_blk(q, 0);
    return &b->e[b->lo];
}

static inline entry *es_last(const eseq *q)
{
    eblk *b = es_blk(q, q->nb - 1);
    return &b->e[b->hi - 1];
}

static inline epos es_begin(const eseq *q)
{
    epos p = {q->n ? 0 : q->nb, q->n ? es_blk(q, 0)->lo : 0};
    return p;
}

static inline bool es_done(const eseq *q, epos p)
{
    return p.k >= q->nb;
}

static inline entry *es_get(const eseq *q, epos p)
{
    return &es_blk(q, p.k)->e[p.i];
}

static inline epos es_next(const eseq *q, epos p)
{
    if (++p.i == es_blk(q, p.k)->hi && ++p.k < q->nb)
        p.i = es_blk(q, p.k)->lo;
    return p;
}

/* The latest entry of time <= t (the last of those of equal time), or
 * NULL when every entry is later. */
entry *es_last_le(const eseq *q, int64_t t);
/* Insert a copy of *e after the entries of time <= e->t. With join,
 * when the entry before that place has e's time, return it instead, and
 * insert nothing (counts of one time share an entry); else NULL. */
entry *es_insert(eseq *q, const entry *e, bool join);
/* The second entry (n > 1). */
entry *es_second(const eseq *q);
/* Remove the first entry (n > 0). */
void es_pop_front(eseq *q);
/* Remove the entry at p (a valid place). */
void es_remove(eseq *q, epos p);
/* Empty it, keeping one block for the next entries (a group that fires
 * and resets refills at once). */
void es_clear(eseq *q);
/* Free everything (the sequence is then empty, bytes 0). */
void es_free(eseq *q);
/* At most what a sequence of n entries allocates. */
size_t es_bound_bytes(size_t n);

#endif
