/* match_int.h - private to src/sigma: the matcher's state, shared by
 * match.c (a rule against the current event: values, leaves, items,
 * conditions) and select.c (which rules an event is evaluated against:
 * dispatch, literal prefilter, candidates in rule-set order). */
#ifndef AW_MATCH_INT_H
#define AW_MATCH_INT_H

#include <hs/hs.h>

#include "sigma/plan_int.h"

/* Literal id (1-based) may be in the record: found by the scan, or not
 * looked for (prefilter.c scans for two clauses' literals per rule);
 * LIT_SCANNED: looked for, so LIT_FOUND is exact. */
#define LIT_FOUND(m, id) ((m)->litbits[((id) - 1) >> 6] & (1ull << (((id) - 1) & 63)))
#define LIT_SCANNED(m, id) (!((m)->litbase[((id) - 1) >> 6] & (1ull << (((id) - 1) & 63))))

typedef struct aw_fgroup aw_fgroup;
#define FG_UNSEEN (-2)          /* aw_matcher.rgroup: not looked at yet */

typedef struct fcache {
    uint32_t gen;
    uint32_t start, count;
    bool present;
} fcache;

struct aw_matcher {
    const aw_plan *p;
    const aw_doc *doc;
    const aw_psrc *src;
    fcache *fc;
    aw_jpath ***rjp;            /* per resolution id: its paths compiled at
                                   first use (NULL entries: "*" paths) */
    int32_t *rgroup;            /* per resolution id: its group (fgroup.c),
                                   -1 none, FG_UNSEEN; NULL: groups off */
    uint32_t *rseen;            /* per resolution id: event a group fill
                                   decided its first path in */
    aw_fgroup *fg;
    size_t nfg;
    uint64_t n_walks;           /* group fills (aw_matcher_counts) */
    uint32_t gen;
    const aw_jnode **vals;
    size_t nvals, capvals;
    uint32_t leaves_gen;
    uint32_t leaves_start, leaves_count;
    uint32_t *fired;            /* per rule: event stamp it fired at */
    uint32_t evstamp;
    const aw_prule **cand;      /* dispatch candidates of one event+source */
    const aw_prule **eval;      /* those of them (and of `always`) to evaluate */
    uint64_t *cbits;            /* per rule: a candidate of this source and
                                   event (cleared as m->cand is made) */
    hs_scratch_t *hs;           /* prefilter scratch */
    aw_pfcache *pfc;            /* literals of recent field values (NULL: off) */
    uint64_t *litbits;          /* literals found in the current record,
                                   and those not looked for (litbase) */
    const uint64_t *litbase;    /* aw_prefilter_unscanned */
    size_t nwords;
    aw_pfhits pfh;              /* litbits + the list of literals found */
    uint64_t *lbits;            /* the same, with the prefilter off: the */
    aw_pfhits lfh;              /* `always` rules' fields only (aw_psrc.lite_*) */
    const aw_psrc *lsrc;        /* the source whose lite_base lbits holds */
    /* scans already made in this event, per (field, resolution) key and
     * for keywords (key npfkeys): the literals they found, in evlits */
    uint32_t *pk_stamp, *pk_start, *pk_n;
    uint32_t *evlits;
    size_t nevlits, capevlits;
    char *kwbuf;                /* unescaped keys and values, quote-separated */
    size_t kwcap;
    bool pf_on;                 /* prefilter active for the current record */
    uint64_t n_considered, n_evaluated, n_events;  /* aw_matcher_counts_add */
    /* lower-cased copies of node texts, made once per event */
    uint32_t *fstamp, *foff;
    size_t fnodes;
    char *fbuf;
    size_t fcap, fused;
    char *ftmp;                 /* folded compact text of an object */
    size_t ftcap;
    int8_t *sres;               /* per search: -1 unknown, 0/1 */
    pcre2_match_data *md;
    char *scratch;
    size_t scap;
    /* explain hook */
    aw_explain_fn xfn;
    void *xud;
    const char *xident;
};

/* match.c */
/* The values of field fid in the current source (m->src), read once per
 * event for every source that resolves it to the same paths. */
const fcache *aw_match_field(aw_matcher *m, int fid);
/* aw_json_visit_fn: n joins the values read (m->vals). */
int aw_match_collect(const aw_doc *d, const aw_jnode *n, void *ud);
/* Text of a node for string matchers; objects are compacted. */
bool aw_match_node_text(aw_matcher *m, const aw_jnode *n, const char **s, size_t *len);
/* The rule and its filters on the current event and source. */
bool aw_match_prule(aw_matcher *m, const aw_prule *pr);
/* A new event: the values read and the literal scans made are stale. */
void aw_match_begin_event(aw_matcher *m, const aw_doc *d);

/* fgroup.c */
bool aw_fgroup_enabled(void);
/* 1 if the first path of resolution id res (path0) was read by its
 * group's walk this event: m->fc[res] is fresh if it had values, else
 * the next paths are to be tried; 0: read it by path. */
int aw_fgroup_lookup(aw_matcher *m, uint32_t res, const char *path0);
void aw_fgroup_reset(aw_matcher *m);            /* the event counter wrapped */
void aw_fgroup_free_all(aw_fgroup *fg, size_t n);

#endif
