/* classify.c - which sources an event belongs to, and the content drops
 * applied at ingestion.
 *
 * Classification runs for every event against every source, so it is
 * allocation-free and shares work between sources: each distinct
 * predicate path ("slot", see mapping_int.h) is looked up at most once
 * per event and remembered in a per-thread cache. When the node found is a
 * scalar reached without crossing an array, it is the only candidate
 * and comparisons use it directly; otherwise (arrays, "*" segments) the
 * condition falls back to visiting every node the path reaches, so "a
 * value matches if any element matches" holds for predicates too.
 *
 * Before any of that, a prefilter (index.c) skips the
 * sources whose discriminating value (the Windows channel) cannot match:
 * one hash lookup instead of comparing the channel of every source.
 *
 * Comparison: strings exactly but case-insensitively (or by prefix /
 * substring with the startswith / contains operators); a predicate value
 * that is a number also equals a JSON number of the same value and a
 * JSON string holding that number ("4688" = 4688 = 4688.0). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mapping/mapping_int.h"

#define CACHE_SLOTS 256
#define DROP_MAX_SOURCES 64

enum { ST_UNKNOWN, ST_SIMPLE, ST_COMPLEX, ST_ABSENT };

typedef struct slotc {
    const aw_jnode *first;
    int state;
    uint32_t gen;               /* valid in the event of this generation */
} slotc;

/* The slots looked up in this event. Thread-local and stamped, so an
 * event starts with a counter increment, not a clearing of the table. */
typedef struct scache {
    slotc e[CACHE_SLOTS];
    uint32_t gen;
} scache;
static __thread scache tl_slots;

static inline slotc *cslot(scache *sc, uint32_t slot)
{
    slotc *e = &sc->e[slot];
    if (e->gen != sc->gen) {
        e->gen = sc->gen;
        e->state = ST_UNKNOWN;
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* comparisons                                                         */

const char *mp_scalar(const aw_jnode *n, size_t *len)
{
    if (!n || n->type == AW_JARR || n->type == AW_JOBJ || !n->val)
        return NULL;
    *len = n->vlen;
    return n->val;
}

/* The whole of t[0..n) is a number; its value in *out. */
static int text_number(const char *t, size_t n, double *out)
{
    char buf[64], *end;
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, t, n);
    buf[n] = '\0';
    *out = strtod(buf, &end);
    return *end == '\0';
}

static int value_eq(const aw_jnode *n, const mp_value *v)
{
    size_t len;
    const char *t = mp_scalar(n, &len);
    double x;
    if (!t)
        return 0;
    if (n->type == AW_JNUM && v->isnum)
        return n->num == v->num;
    if (len == v->n && strncasecmp(t, v->s, len) == 0)
        return 1;
    if (n->type == AW_JSTR && v->isnum && text_number(t, len, &x))
        return x == v->num;
    return 0;
}

static int value_prefix(const aw_jnode *n, const mp_value *v)
{
    size_t len;
    const char *t = mp_scalar(n, &len);
    return t && len >= v->n && strncasecmp(t, v->s, v->n) == 0;
}

static int value_contains(const aw_jnode *n, const mp_value *v)
{
    size_t len;
    const char *t = mp_scalar(n, &len);
    if (!t || len < v->n)
        return 0;
    if (v->n == 0)
        return 1;
    /* equal letters are equal with bit 0x20 set: a cheap first test */
    unsigned first = (unsigned char)v->s[0] | 0x20;
    for (size_t i = 0; i + v->n <= len; i++)
        if (((unsigned char)t[i] | 0x20) == first && strncasecmp(t + i, v->s, v->n) == 0)
            return 1;
    return 0;
}

static int node_matches(const aw_jnode *n, const mp_cond *c)
{
    for (size_t i = 0; i < c->nvals; i++) {
        const mp_value *v = &c->vals[i];
        if (c->op == MP_PREFIX ? value_prefix(n, v)
            : c->op == MP_CONTAINS ? value_contains(n, v)
                                   : value_eq(n, v))
            return 1;
    }
    return 0;
}

static int visit_match(const aw_doc *d, const aw_jnode *n, void *ud)
{
    (void)d;
    return node_matches(n, ud);
}

/* ------------------------------------------------------------------ */
/* per-event evaluation                                                */

static int crosses_array(const aw_doc *d, const aw_jnode *n)
{
    while (aw_doc_index(d, n) != 0) {
        n = aw_doc_node(d, n->parent);
        if (!n)
            return 0;
        if (n->type == AW_JARR)
            return 1;
    }
    return 0;
}

static void slot_lookup(const aw_mapping *m, const aw_doc *d, uint32_t slot, slotc *c)
{
    const mp_slot *sl = &m->slots[slot];
    c->first = sl->jp ? aw_jpath_first(d, sl->jp) : mp_path_first(d, sl->path, sl->len);
    if (!c->first)
        c->state = ST_ABSENT;
    else if (sl->star || c->first->type == AW_JARR || c->first->type == AW_JOBJ ||
             crosses_array(d, c->first))
        c->state = ST_COMPLEX;
    else
        c->state = ST_SIMPLE;
}

static int cond_true(const aw_mapping *m, const aw_doc *d, const mp_cond *c, scache *cache)
{
    slotc local, *sc = c->slot < CACHE_SLOTS ? cslot(cache, c->slot) : &local;
    const mp_slot *sl = &m->slots[c->slot];
    if (sc == &local || sc->state == ST_UNKNOWN)
        slot_lookup(m, d, c->slot, sc);
    switch (c->op) {
    case MP_EXISTS:
        return sc->state != ST_ABSENT;
    case MP_ABSENT:
        return sc->state == ST_ABSENT;
    default:
        if (sc->state == ST_ABSENT)
            return 0;
        if (sc->state == ST_SIMPLE)
            return node_matches(sc->first, c);
        return (sl->jp ? aw_jpath_each(d, sl->jp, visit_match, (void *)c)
                       : mp_path_each(d, NULL, sl->path, sl->len, visit_match, (void *)c)) != 0;
    }
}

static int source_has(const aw_mapping *m, const aw_source *s, const aw_doc *d, scache *cache)
{
    for (size_t i = 0; i < s->nwhen; i++) {
        const mp_conj *cj = &s->when[i];
        size_t j;
        for (j = 0; j < cj->n; j++)
            if (!cond_true(m, d, &cj->conds[j], cache))
                break;
        if (j == cj->n)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* classification                                                      */

typedef struct gcache {          /* guard keys looked up in this event */
    uint64_t known, present;
    int on;                     /* the root is an object */
} gcache;

/* Start the event's guard cache: keys whose hash misses the root's Bloom
 * filter (aw_json_root_bloom) are known absent, so the sources guarded
 * only by them (a CloudTrail record against ~15 Azure and GCP sources)
 * are skipped without a lookup. */
static void guard_start(const mp_index *x, const aw_doc *d, gcache *gc)
{
    const aw_jnode *root = aw_doc_root(d);
    gc->known = gc->present = 0;
    gc->on = root && root->type == AW_JOBJ;
    if (!gc->on || !x->ngkeys)
        return;
    uint64_t bloom = aw_json_root_bloom(d), maybe = 0;
    if (bloom == ~0ull) {
        maybe = ~0ull;                          /* not indexed: all may be */
    } else {
        for (; bloom; bloom &= bloom - 1)       /* a bit per root name */
            maybe |= x->gbloom[__builtin_ctzll(bloom)];
    }
    gc->known = ~maybe;
}

/* Can source i match at all: does the root have one of its guard keys? */
static inline int guard_pass(const aw_mapping *m, const aw_doc *d, uint32_t i, gcache *gc)
{
    const mp_index *x = &m->index;
    uint64_t g = x->guard ? x->guard[i] : 0;
    if (!g || !gc->on)
        return 1;
    if (g & gc->present)
        return 1;
    for (uint64_t need = g & ~gc->known; need; need &= need - 1) {
        unsigned b = (unsigned)__builtin_ctzll(need);
        gc->known |= 1ULL << b;
        if (aw_json_root_member(d, x->gkeys[b].s, x->gkeys[b].n, x->gkeys[b].h)) {
            gc->present |= 1ULL << b;
            return 1;
        }
    }
    return 0;
}

static inline void take(const aw_mapping *m, const aw_doc *d, uint32_t i, scache *cache, gcache *gc,
                        const aw_source **out, size_t max, size_t *n)
{
    if (guard_pass(m, d, i, gc) && source_has(m, m->src[i], d, cache)) {
        if (*n < max)
            out[*n] = m->src[i];
        (*n)++;
    }
}

/* A whole number k that node n equals under value_eq (a JSON number, or
 * a string holding one): 1 and k, else 0. */
static int whole_key(const aw_jnode *n, int64_t *k)
{
    double x;
    if (n->type == AW_JNUM)
        x = n->num;
    else if (n->type != AW_JSTR || !text_number(n->val, n->vlen, &x))
        return 0;
    if (!mp_whole(x))
        return 0;
    *k = (int64_t)x;
    return 1;
}

/* Bucket b's sources for this event's value of the number slot (looked
 * up into sc, which the conditions then reuse): a source bound to other
 * numbers cannot hold. Other values (text, arrays) keep the bucket. */
static const uint32_t *narrow(const aw_mapping *m, const aw_doc *d, const mp_bucket *b, slotc *sc,
                              size_t *n, const uint32_t *all)
{
    int64_t k;
    if (sc->state == ST_UNKNOWN)
        slot_lookup(m, d, m->index.nslot, sc);
    if (sc->state == ST_ABSENT)
        return mp_index_narrow(b, 0, 0, n);
    if (sc->state == ST_SIMPLE && whole_key(sc->first, &k))
        return mp_index_narrow(b, 1, k, n);
    return all;
}

size_t aw_mapping_classify(const aw_mapping *m, const aw_doc *d,
                           const aw_source **out, size_t max)
{
    scache *cache = &tl_slots;
    gcache gc;
    const mp_index *x;
    const uint32_t *cand = NULL;
    size_t n = 0, ncand = 0, a = 0, c = 0;

    if (!m || !d)
        return 0;
    if (++cache->gen == 0) {                    /* wrapped: no stale stamp may match */
        memset(cache->e, 0, sizeof cache->e);
        cache->gen = 1;
    }
    x = &m->index;
    guard_start(x, d, &gc);
    if (x->built && x->slot < CACHE_SLOTS) {
        slotc *sc = cslot(cache, x->slot);
        size_t len;
        const char *t;
        slot_lookup(m, d, x->slot, sc);
        t = sc->state == ST_SIMPLE ? mp_scalar(sc->first, &len) : NULL;
        if (sc->state == ST_ABSENT || (t && len < MP_KEY_MAX)) {
            const mp_bucket *b = NULL;
            if (t)
                cand = mp_index_lookup(x, t, len, &ncand, &b);
            if (b && b->nums && x->nslot < CACHE_SLOTS)
                cand = narrow(m, d, b, cslot(cache, x->nslot), &ncand, cand);
            /* merge the two ordered lists: output stays in source order */
            while (a < x->nalways || c < ncand) {
                if (c == ncand || (a < x->nalways && x->always[a] < cand[c]))
                    take(m, d, x->always[a++], cache, &gc, out, max, &n);
                else
                    take(m, d, cand[c++], cache, &gc, out, max, &n);
            }
            return n;
        }
    }
    for (uint32_t i = 0; i < m->nsrc; i++)
        take(m, d, i, cache, &gc, out, max, &n);
    return n;
}

void aw_mapping_drop_content(const aw_mapping *m, aw_doc *d)
{
    const aw_source *hit[DROP_MAX_SOURCES];
    size_t n;
    if (!m || !d)
        return;
    n = aw_mapping_classify(m, d, hit, DROP_MAX_SOURCES);
    if (n > DROP_MAX_SOURCES)
        n = DROP_MAX_SOURCES;
    aw_mapping_prepare(m, d, hit, n);
}

static void prepare(const aw_mapping *m, aw_doc *d, const aw_source *const *src, size_t n,
                    aw_own_spec *spec)
{
    if (!m || !d)
        return;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < src[i]->ndrop; j++) {
            const char *p = src[i]->drop[j];
            const aw_jpath *jp = src[i]->drop_jp ? src[i]->drop_jp[j] : NULL;
            if (jp)
                aw_jpath_drop(d, jp);
            else
                aw_json_drop(d, p, strlen(p));  /* every occurrence */
        }
    }
    mp_derive_apply(d, src, n, spec);   /* derived fields, after the drops */
}

void aw_mapping_prepare(const aw_mapping *m, aw_doc *d, const aw_source *const *src, size_t n)
{
    prepare(m, d, src, n, NULL);
}

void aw_mapping_prepare_spec(const aw_mapping *m, aw_doc *d, const aw_source *const *src, size_t n,
                             aw_own_spec *spec)
{
    spec->n = 0;
    prepare(m, d, src, n, spec);
}
