/* plan_int.h - the compiled plan, shared by plan.c and match.c. */
#ifndef AW_PLAN_INT_H
#define AW_PLAN_INT_H

#include <stdarg.h>

#include "sigma/sigma_int.h"

#define AW_CORR_MAX_DEPTH 10

typedef struct aw_prule {
    aw_rule *rule;
    aw_rule **filters;          /* filters whose condition is AND-ed in */
    size_t nfilters;
    bool active;                /* detection rule with a covered log source */
    bool referenced;            /* by a correlation */
    bool generate;              /* some referencing correlation generates */
    bool correlation_only;
    bool corr_ok;               /* correlation whose references resolve */
    uint32_t *lits;             /* prefilter literal ids; NULL: always run */
    size_t nlits;
    uint32_t *clause_end;       /* clause c = lits[end[c-1] .. end[c]) */
    size_t nclauses;
    uint64_t *alw;              /* sources where the rule is in `always`
                                   and reached through literal postings;
                                   freed once the postings are built */
} aw_prule;

typedef struct aw_dentry {
    const char *lit;            /* folded literal */
    size_t litn;
    aw_prule *rule;
} aw_dentry;

typedef struct aw_dbucket {
    aw_dentry *e;
    size_t n;
} aw_dbucket;

/* Rules requiring one field's value to be one of a few literals,
 * bucketed by literal (dispatch.c). */
#define AW_DISPATCH_FIELDS 8
typedef struct aw_dindex {
    int field;
    aw_dbucket *buckets;
    size_t nbuckets;
    size_t minlen, maxlen;      /* of its literals: a value of another
                                   length is in no bucket (not hashed) */
} aw_dindex;

typedef struct aw_psrc {
    const aw_source *src;
    const char *const **paths;  /* per field id */
    size_t *npaths;
    uint32_t *res;              /* per field id: its resolution id, shared
                                   by every (source, field) reading the
                                   same paths, so values are read once */
    aw_prule **rules;           /* every rule this source serves */
    size_t nrules;
    bool keywords;              /* one of them (or a filter) has keywords,
                                   which read every value of an event */
    /* dispatch (dispatch.c): each rule requiring a value of one of the
     * index fields sits in that field's buckets; the others in `always` */
    aw_dindex didx[AW_DISPATCH_FIELDS];
    size_t ndidx;
    aw_prule **always;
    size_t nalways;
    size_t pf_weight;           /* cost of `always` without the prefilter:
                                   a rule, plus KEYWORD_WEIGHT (plan.c) per
                                   keyword value */
    /* with the prefilter on: the `always` rules without literals; the
     * others are reached from the literals found (plan postings) */
    aw_prule **nopf;
    size_t nnopf;
    /* prefilter: fields scanned for their literals, keyword literals */
    int *pffields;
    size_t npffields;
    uint32_t *pfkeys;           /* per pffields entry: id of (field,
                                   resolution), whose scan an event reuses */
    bool pfkw;
    /* With the prefilter off for an event (few `always` rules): the
     * fields of the `always` rules' clauses, scanned alone, so that
     * those rules are still skipped when a clause has no literal found.
     * lite_base: 1 for each literal not scanned then (counts as present). */
    int *lite_fields;
    size_t nlite;
    uint64_t *lite_base;
} aw_psrc;

/* prefilter.c */
typedef struct aw_prefilter aw_prefilter;
struct hs_scratch;
/* NULL when no rule has a literal, or (reported through diag) when
 * Hyperscan rejects them: every rule is then evaluated. */
aw_prefilter *aw_prefilter_build(aw_plan *p, aw_diag_fn diag, void *ud);
void aw_prefilter_free(aw_prefilter *pf);
size_t aw_prefilter_count(const aw_prefilter *pf);
/* Which Hyperscan scan function the prefilter uses (checked at first
 * use: prefilter.c), for diagnostics. */
const char *aw_prefilter_scanner(void);
aw_status aw_prefilter_scratch(const aw_prefilter *pf, struct hs_scratch **scratch);
/* Bit per literal id that no database holds (never looked for: it may
 * be present); the matcher's found-bits start from it. */
const uint64_t *aw_prefilter_unscanned(const aw_prefilter *pf);
/* Literals found in a record: a bit per literal, and the list of those
 * found (each once). */
typedef struct aw_pfhits {
    uint64_t *bits;
    uint32_t *found;
    size_t nfound;
} aw_pfhits;
/* Scan s, a value of field (-1: the raw record, for keyword literals),
 * for that field's literals. */
void aw_prefilter_scan(const aw_prefilter *pf, struct hs_scratch *scratch, int field, const char *s, size_t n,
                       aw_pfhits *hits);
/* Mark literal id found (as a scan that meets it does). */
void aw_prefilter_hit(aw_pfhits *hits, uint32_t id);
/* aw_prefilter_scan that also lists the distinct literals of this value
 * in ids[0..cap); returns how many there are (> cap: the list is short). */
size_t aw_prefilter_scan_ids(const aw_prefilter *pf, struct hs_scratch *scratch, int field, const char *s, size_t n,
                             aw_pfhits *hits, uint32_t *ids, size_t cap);

/* The literals of a field's value, remembered per value (pfcache.c): a
 * matcher's own table, so one thread's. NULL when AUPWATCH_PF_CACHE=0. */
typedef struct aw_pfcache aw_pfcache;
aw_pfcache *aw_pfcache_new(void);
void aw_pfcache_free(aw_pfcache *c);
/* aw_prefilter_scan, answered from the table when the field's value is
 * there with the same bytes. */
void aw_pfcache_scan(aw_pfcache *c, const aw_prefilter *pf, struct hs_scratch *scratch, int field, const char *s,
                     size_t n, aw_pfhits *hits);
void aw_pfcache_counts(const aw_pfcache *c, uint64_t *lookups, uint64_t *hits);

/* Posting lists: literal id -> rules (in `always` of some source) that
 * one of their clauses makes reachable through it. */
void aw_prefilter_postings(aw_plan *p);

void aw_dispatch_build(aw_psrc *ps, size_t nfields);
void aw_dispatch_free(aw_psrc *ps);
uint64_t aw_dispatch_hash(const char *s, size_t n);

struct aw_plan {
    const aw_ruleset *rs;
    const aw_mapping *map;
    size_t nfields;
    size_t nres;                /* resolution ids (aw_psrc.res) */
    size_t npfkeys;             /* (field, resolution) ids; npfkeys: keywords */
    aw_psrc *srcs;
    size_t nsrc;
    aw_prule *prules;           /* indexed by rule->index (so a prule's
                                   address orders it as its rule) */
    size_t nactive, ncorr;
    size_t max_search;
    bool no_dispatch;           /* reference path: evaluate every rule */
    aw_prefilter *pf;           /* NULL: no literal prefilter */
    size_t pf_min_rules;        /* aw_plan_opts.prefilter_min_rules */
    int compile_threads;        /* aw_plan_opts.compile_threads */
    uint32_t *post_start;       /* CSR over literal ids (nlits + 1) */
    uint64_t *post;             /* source index << 32 | rule index */
    uint32_t *pfc_off;          /* per rule index: its clauses in pfc, 0: none */
    uint64_t *pfc;              /* nclauses; per clause nwords, then (word,
                                   mask) pairs of the found-literal bitmap */
    size_t nsrc_words;          /* words of a prule's alw bitset */
};

#endif
