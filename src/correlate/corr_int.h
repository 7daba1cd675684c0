/* corr_int.h - the correlator's internal state, shared by correlate.c
 * (feeding, per-group lateness, firing, chaining) and window.c (per-group
 * window state and aggregates). */
#ifndef AW_CORR_INT_H
#define AW_CORR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "aupwatch/aw_correlate.h"
#include "correlate/eseq.h"
#include "sigma/plan_int.h"

#define HLL_P 10
#define HLL_M (1u << HLL_P)     /* 1024 registers: std. error 1.04/32 = 3.25% */
#define KEY_SEP '\x1f'          /* between the values of a composite key */
#define KEY_HIDE '\x1e'         /* starts the hidden raw-value hash of a
                                   pseudonymised key value */
#define VAL_MAX 512             /* a rendered group or value field, bytes */

/* A compact evidence reference. */
typedef struct cref {
    uint64_t record;
    uint32_t line;
    uint32_t file;              /* index into the correlator's file table */
    uint8_t sha[32];
    uint8_t has_sha;
} cref;


typedef struct lnode {
    struct lnode *prev, *next;
} lnode;

typedef struct group {
    struct group *hnext;
    lnode lru;                  /* correlation's LRU list, most recent first */
    lnode cq;                   /* open windows (upper-bound conditions) */
    uint64_t hash;
    int64_t max_t;              /* the group's clock: newest event time */
    int64_t first_t;            /* close mode: window start */
    int64_t approx_since;
    eseq es;                    /* the window's entries, in time order */
    uint64_t count, base;       /* events / base events in window */
    double sum;
    uint64_t nnum;
    uint32_t *rulecnt;          /* per slot, temporal types */
    uint64_t *dv;               /* distinct values: open addressing */
    uint32_t *dc;
    uint32_t dcap, dn;
    uint8_t *hll;               /* 2 x HLL_M: epochs e-1 and e */
    int64_t hll_epoch;
    cref *samp;                 /* ring of the most recent references */
    uint32_t scap, shead, slen;
    int tenant_idx;
    bool approx;                /* degraded since the last reset */
    bool hll_mode;
    bool queued;
    uint16_t keylen;
    char key[];
} group;

struct aw_correlator;

/* A use of a rule by a correlation: slot `slot` of `cr`'s rules. */
typedef struct use {
    struct crun *cr;
    uint16_t slot;
} use;

typedef struct crun {
    const aw_rule *rule;
    const aw_corr *c;
    bool close_mode;            /* no lower bound: evaluate at window close */
    bool correlation_only;
    int64_t span_ns;
    const char ***gfield;       /* [slot][g]: group-by field after aliases */
    group **buckets;
    size_t nbuckets, ngroups;
    lnode lru;                  /* sentinel */
    lnode cq;                   /* sentinel, open windows (any order) */
    unsigned warned;            /* one warning per kind */
} crun;

/* window.c */
typedef struct wctx {
    struct aw_correlator *c;
    crun *cr;
} wctx;

void g_reset(struct aw_correlator *c, crun *cr, group *g);
void g_free_state(struct aw_correlator *c, group *g);
/* Expire entries older than lo (sliding windows). */
void g_expire(struct aw_correlator *c, crun *cr, group *g, int64_t lo);
/* Add one event, in time order among the group's entries (it may be
 * older than some: out of order within the lateness bound); returns true
 * if this made the group approximate. */
bool g_add(struct aw_correlator *c, crun *cr, group *g, const entry *e);
void g_sample(struct aw_correlator *c, group *g, const cref *r);
/* Current aggregate; false if there is no value (nothing numeric). */
bool g_value(struct aw_correlator *c, crun *cr, group *g, double *v);
int64_t g_start(crun *cr, group *g);
bool cond_holds(const aw_corr *c, double v);

void hll_add(uint8_t *reg, uint64_t h);
double hll_estimate(const uint8_t *a, const uint8_t *b);
uint64_t aw_hash64(const void *p, size_t n);

void c_account(struct aw_correlator *c, long delta);
size_t c_max_values(const struct aw_correlator *c);
size_t c_max_samples(const struct aw_correlator *c);
double *c_scratch(struct aw_correlator *c, size_t n);

#endif
