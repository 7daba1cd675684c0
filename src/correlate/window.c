/* window.c - one group's window: the events it holds and the aggregate
 * the correlation's condition is tested against.
 *
 * A group's entries are kept sorted by event time (eseq.h: a row of
 * small blocks): an event arrives usually in order (appended), sometimes
 * out of order within the lateness bound (correlate.c decides; inserted
 * in place); a sliding window drops entries from the front. Aggregates (count, sum, numeric count,
 * per-rule counts, the distinct-value table) are maintained as entries
 * come and go; temporal_ordered and value_percentile scan the entries.
 *
 * event_count, value_sum and value_avg keep one entry per event time
 * (the events of one time expire together: exact).
 *
 * Bounds: a group holds at most max_values entries and max_values
 * distinct values. Past that:
 *   value_count     switches to two HyperLogLog sketches (epochs of one
 *                   timespan; the estimate covers the window and up to
 *                   one timespan before it: it over-counts, never
 *                   under-counts beyond the sketch error);
 *   event_count, value_sum, value_avg
 *                   merge the two oldest entries, keeping the later time
 *                   (the merged events expire late: over-counts);
 *   temporal        drops the oldest entry of a rule that has a later
 *                   one (exact: only each rule's latest event matters);
 *   temporal_ordered, value_percentile
 *                   drop the oldest entry (may under-count).
 * Every degradation but temporal's marks the group approximate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/corr_int.h"

/* ---- hashing and HyperLogLog ---------------------------------------- */

uint64_t aw_hash64(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ (n * 0x9e3779b97f4a7c15ULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

void hll_add(uint8_t *reg, uint64_t h)
{
    uint32_t idx = (uint32_t)(h >> (64 - HLL_P));
    uint64_t w = (h << HLL_P) | (1ULL << (HLL_P - 1));
    uint8_t rank = (uint8_t)(__builtin_clzll(w) + 1);
    if (rank > reg[idx])
        reg[idx] = rank;
}

/* Estimate of the union of two sketches (b may be NULL). */
double hll_estimate(const uint8_t *a, const uint8_t *b)
{
    double sum = 0;
    unsigned zeros = 0;
    for (unsigned i = 0; i < HLL_M; i++) {
        uint8_t r = a[i];
        if (b && b[i] > r)
            r = b[i];
        sum += ldexp(1.0, -(int)r);
        zeros += r == 0;
    }
    double m = HLL_M, alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros);
    return floor(e + 0.5);
}

/* ---- entries ------------------------------------------------------- */

/* Account for what the entries allocated or freed since `before`. */
static void es_account(struct aw_correlator *c, const group *g, size_t before)
{
    c_account(c, (long)g->es.bytes - (long)before);
}

static bool temporal(const crun *cr)
{
    return cr->c->type == CT_TEMPORAL || cr->c->type == CT_TEMPORAL_ORDERED;
}

/* ---- distinct values: linear probing, backward-shift deletion --------- */

static void dset_grow(struct aw_correlator *c, group *g)
{
    uint32_t ncap = g->dcap ? g->dcap * 2 : 8;
    uint64_t *nv = aw_xcalloc(ncap, sizeof *nv);
    uint32_t *nc = aw_xcalloc(ncap, sizeof *nc);
    for (uint32_t i = 0; i < g->dcap; i++) {
        if (!g->dv[i])
            continue;
        uint32_t j = (uint32_t)g->dv[i] & (ncap - 1);
        while (nv[j])
            j = (j + 1) & (ncap - 1);
        nv[j] = g->dv[i];
        nc[j] = g->dc[i];
    }
    c_account(c, (long)ncap * 12 - (long)g->dcap * 12);
    free(g->dv);
    free(g->dc);
    g->dv = nv;
    g->dc = nc;
    g->dcap = ncap;
}

static uint32_t *dset_find(group *g, uint64_t v)
{
    if (!g->dcap)
        return NULL;
    uint32_t j = (uint32_t)v & (g->dcap - 1);
    while (g->dv[j]) {
        if (g->dv[j] == v)
            return &g->dc[j];
        j = (j + 1) & (g->dcap - 1);
    }
    return NULL;
}

static void dset_insert(struct aw_correlator *c, group *g, uint64_t v)
{
    if ((g->dn + 1) * 2 > g->dcap)
        dset_grow(c, g);
    uint32_t j = (uint32_t)v & (g->dcap - 1);
    while (g->dv[j])
        j = (j + 1) & (g->dcap - 1);
    g->dv[j] = v;
    g->dc[j] = 1;
    g->dn++;
}

static void dset_remove(group *g, uint64_t v)
{
    uint32_t *cnt = dset_find(g, v);
    if (!cnt || --*cnt)
        return;
    uint32_t mask = g->dcap - 1, i = (uint32_t)(cnt - g->dc);
    g->dv[i] = 0;
    g->dn--;
    for (uint32_t j = (i + 1) & mask; g->dv[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)g->dv[j] & mask;
        /* move j back to i if its home is not in (i, j] cyclically */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            g->dv[i] = g->dv[j];
            g->dc[i] = g->dc[j];
            g->dv[j] = 0;
            i = j;
        }
    }
}

/* ---- aggregates -------------------------------------------------------- */

static void sub(crun *cr, group *g, const entry *e)
{
    g->count -= e->cnt;
    g->base -= e->base;
    g->sum -= e->num;
    g->nnum -= e->nnum;
    if (g->rulecnt)
        g->rulecnt[e->rule] -= e->cnt;
    if (cr->c->type == CT_VALUE_COUNT && e->has_v && !g->hll_mode)
        dset_remove(g, e->vh);
}

static void drop_at(struct aw_correlator *c, crun *cr, group *g, epos p)
{
    size_t before = g->es.bytes;
    sub(cr, g, es_get(&g->es, p));
    es_remove(&g->es, p);
    es_account(c, g, before);
}

void g_expire(struct aw_correlator *c, crun *cr, group *g, int64_t lo)
{
    if (g->hll_mode) {
        /* the sketches expire by epoch; counts since approx_since stay */
        return;
    }
    size_t before = g->es.bytes;
    while (g->es.n && g->es.tfirst < lo) {
        sub(cr, g, es_first(&g->es));
        es_pop_front(&g->es);
    }
    es_account(c, g, before);
    if (!g->es.n) {
        g->sum = 0;     /* no drift after float subtraction */
        g->nnum = 0;
    }
}

static int64_t epoch_of(crun *cr, int64_t t)
{
    int64_t q = t / cr->span_ns;
    if (t < 0 && q * cr->span_ns != t)
        q--;
    return q;
}

static void hll_rotate(crun *cr, group *g, int64_t t)
{
    int64_t ep = epoch_of(cr, t);
    if (ep == g->hll_epoch + 1) {
        memcpy(g->hll, g->hll + HLL_M, HLL_M);
        memset(g->hll + HLL_M, 0, HLL_M);
        g->hll_epoch = ep;
    } else if (ep > g->hll_epoch + 1) {
        memset(g->hll, 0, 2 * HLL_M);
        g->hll_epoch = ep;
    }
}

static void hll_put(crun *cr, group *g, int64_t t, uint64_t vh)
{
    int64_t ep = epoch_of(cr, t);
    if (ep >= g->hll_epoch)
        hll_add(g->hll + HLL_M, vh);
    else if (ep == g->hll_epoch - 1)
        hll_add(g->hll, vh);
}

static void to_hll(struct aw_correlator *c, crun *cr, group *g, int64_t t)
{
    g->hll = aw_xcalloc(2, HLL_M);
    c_account(c, 2 * HLL_M);
    g->hll_epoch = epoch_of(cr, t);
    g->approx_since = g->es.n ? g->es.tfirst : t;
    for (epos p = es_begin(&g->es); !es_done(&g->es, p); p = es_next(&g->es, p))
        if (es_get(&g->es, p)->has_v)
            hll_put(cr, g, es_get(&g->es, p)->t, es_get(&g->es, p)->vh);
    c_account(c, -(long)g->es.bytes - (long)g->dcap * 12);
    es_free(&g->es);
    free(g->dv);
    free(g->dc);
    g->dv = NULL;
    g->dc = NULL;
    g->dcap = g->dn = 0;
    g->hll_mode = true;
}

/* Entry b takes on a's events (counts and sums only: they add). */
static void entry_absorb(entry *b, const entry *a)
{
    b->cnt += a->cnt;
    b->nnum += a->nnum;
    b->base += a->base;
    b->num += a->num;
}

/* Counts and sums: the events of one time expire together, so one entry
 * holds them all, exactly (CloudTrail's times are whole seconds: a busy
 * tenant's window holds thousands of events in a few hundred seconds).
 * Below max_values one search finds the entry of e's time or inserts e
 * (*put); at max_values the entry is only looked for. NULL: no entry of
 * that time was there. */
static entry *same_time(struct aw_correlator *c, group *g, const entry *e, uint32_t maxv, bool *put)
{
    entry *same;
    if (g->es.n < maxv) {
        size_t before = g->es.bytes;
        same = es_insert(&g->es, e, true);
        es_account(c, g, before);
        *put = !same;
        return same;
    }
    same = es_last_le(&g->es, e->t);
    return same && same->t == e->t ? same : NULL;
}

/* At max_values: make room as the type allows (docs at the top). */
static void degrade(struct aw_correlator *c, crun *cr, group *g, const entry *e)
{
    switch (cr->c->type) {
    case CT_VALUE_COUNT:
        to_hll(c, cr, g, e->t);
        g->approx = true;
        break;
    case CT_TEMPORAL: {
        epos p = es_begin(&g->es);
        while (!es_done(&g->es, p) && g->rulecnt[es_get(&g->es, p)->rule] <= es_get(&g->es, p)->cnt)
            p = es_next(&g->es, p);
        if (es_done(&g->es, p)) {
            p = es_begin(&g->es);
            g->approx = true;
        }
        drop_at(c, cr, g, p);
        break;
    }
    case CT_EVENT_COUNT: case CT_VALUE_SUM: case CT_VALUE_AVG: {
        size_t before = g->es.bytes;
        entry_absorb(es_second(&g->es), es_first(&g->es));
        es_pop_front(&g->es);
        es_account(c, g, before);
        g->approx = true;
        break;
    }
    default:
        drop_at(c, cr, g, es_begin(&g->es));
        g->approx = true;
    }
}

bool g_add(struct aw_correlator *c, crun *cr, group *g, const entry *e)
{
    uint32_t maxv = (uint32_t)c_max_values(c);
    bool was = g->approx, put = false;
    aw_corrtype ty = cr->c->type;
    if (ty == CT_EVENT_COUNT || ty == CT_VALUE_SUM || ty == CT_VALUE_AVG) {
        entry *same = same_time(c, g, e, maxv, &put);
        if (same) {
            entry_absorb(same, e);
            g->count += e->cnt;
            g->base += e->base;
            g->sum += e->num;
            g->nnum += e->nnum;
            return false;
        }
    }
    if (temporal(cr) && !g->rulecnt) {
        g->rulecnt = aw_xcalloc(cr->c->nrules, sizeof *g->rulecnt);
        c_account(c, (long)(cr->c->nrules * sizeof *g->rulecnt));
    }
    if (ty == CT_VALUE_COUNT && !g->hll_mode && e->has_v && g->dn >= maxv && !dset_find(g, e->vh)) {
        to_hll(c, cr, g, e->t);
        g->approx = true;
    }
    if (!put && !g->hll_mode && g->es.n == maxv)
        degrade(c, cr, g, e);
    g->count += e->cnt;
    g->base += e->base;
    if (g->hll_mode) {
        hll_rotate(cr, g, e->t);
        if (e->has_v)
            hll_put(cr, g, e->t, e->vh);
        return g->approx && !was;
    }
    if (!put) {
        size_t before = g->es.bytes;
        es_insert(&g->es, e, false);
        es_account(c, g, before);
    }
    g->sum += e->num;
    g->nnum += e->nnum;
    if (g->rulecnt)
        g->rulecnt[e->rule] += e->cnt;
    if (ty == CT_VALUE_COUNT && e->has_v) {
        uint32_t *cnt = dset_find(g, e->vh);
        if (cnt)
            ++*cnt;
        else
            dset_insert(c, g, e->vh);
    }
    return g->approx && !was;
}

void g_sample(struct aw_correlator *c, group *g, const cref *r)
{
    uint32_t maxs = (uint32_t)c_max_samples(c);
    if (g->slen == g->scap && g->scap < maxs) {
        uint32_t ncap = g->scap ? g->scap * 2 : 2;
        if (ncap > maxs)
            ncap = maxs;
        cref *n = aw_xmalloc((size_t)ncap * sizeof *n);
        for (uint32_t i = 0; i < g->slen; i++)
            n[i] = g->samp[(g->shead + i) % g->scap];
        c_account(c, ((long)ncap - (long)g->scap) * (long)sizeof(cref));
        free(g->samp);
        g->samp = n;
        g->scap = ncap;
        g->shead = 0;
    }
    if (g->slen < g->scap) {
        g->samp[(g->shead + g->slen++) % g->scap] = *r;
    } else {
        g->samp[g->shead] = *r;
        g->shead = (g->shead + 1) % g->scap;
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

bool g_value(struct aw_correlator *c, crun *cr, group *g, double *v)
{
    switch (cr->c->type) {
    case CT_EVENT_COUNT:
        *v = (double)g->count;
        return true;
    case CT_VALUE_COUNT:
        *v = g->hll_mode ? hll_estimate(g->hll, g->hll + HLL_M) : (double)g->dn;
        return true;
    case CT_TEMPORAL: {
        unsigned n = 0;
        for (size_t i = 0; i < cr->c->nrules; i++)
            n += g->rulecnt && g->rulecnt[i] > 0;
        *v = n;
        return true;
    }
    case CT_TEMPORAL_ORDERED: {
        /* Greedy earliest match of rules[0], rules[1], ... as a
         * subsequence; equal times count as ordered, so a run of entries
         * with one time is rescanned while it makes progress. */
        const eseq *q = &g->es;
        size_t pos = 0, n = cr->c->nrules;
        epos i = es_begin(q);
        while (!es_done(q, i) && pos < n) {
            int64_t t = es_get(q, i)->t;
            epos j = i;
            while (!es_done(q, j) && es_get(q, j)->t == t)
                j = es_next(q, j);
            for (bool moved = true; moved && pos < n;) {
                moved = false;
                for (epos k = i; !(k.k == j.k && k.i == j.i) && pos < n; k = es_next(q, k))
                    if (es_get(q, k)->rule == pos) {
                        pos++;
                        moved = true;
                    }
            }
            i = j;
        }
        *v = (double)pos;
        return true;
    }
    case CT_VALUE_SUM:
        *v = g->sum;
        return g->nnum > 0;
    case CT_VALUE_AVG:
        *v = g->nnum ? g->sum / (double)g->nnum : 0;
        return g->nnum > 0;
    case CT_VALUE_PERCENTILE: {
        double *x = c_scratch(c, g->es.n);
        size_t n = 0;
        for (epos p = es_begin(&g->es); !es_done(&g->es, p); p = es_next(&g->es, p)) {
            const entry *en = es_get(&g->es, p);
            if (en->nnum)
                x[n++] = en->num / en->nnum;
        }
        if (!n)
            return false;
        qsort(x, n, sizeof *x, cmp_dbl);
        double rank = cr->c->percentile / 100.0 * (double)(n - 1);
        size_t lo = (size_t)floor(rank);
        size_t hi = lo + 1 < n ? lo + 1 : lo;
        *v = x[lo] + (x[hi] - x[lo]) * (rank - (double)lo);
        return true;
    }
    }
    return false;
}

int64_t g_start(crun *cr, group *g)
{
    if (cr->close_mode)
        return g->first_t;
    if (g->hll_mode) {
        int64_t s = (g->hll_epoch - 1) * cr->span_ns;
        return s > g->approx_since ? s : g->approx_since;
    }
    return g->es.n ? g->es.tfirst : g->max_t;
}

bool cond_holds(const aw_corr *c, double v)
{
    /* gt gte lt lte eq neq, AND-ed */
    return (!c->has_cond[0] || v > c->cond[0]) && (!c->has_cond[1] || v >= c->cond[1]) &&
           (!c->has_cond[2] || v < c->cond[2]) && (!c->has_cond[3] || v <= c->cond[3]) &&
           (!c->has_cond[4] || v == c->cond[4]) && (!c->has_cond[5] || v != c->cond[5]);
}

void g_free_state(struct aw_correlator *c, group *g)
{
    c_account(c, -(long)g->es.bytes - (long)g->dcap * 12 -
                     (g->hll ? 2 * HLL_M : 0) - (long)g->scap * (long)sizeof(cref));
    es_free(&g->es);
    free(g->dv);
    free(g->dc);
    free(g->hll);
    free(g->samp);
    g->dv = NULL;
    g->dc = NULL;
    g->hll = NULL;
    g->samp = NULL;
    g->dcap = g->dn = g->scap = g->shead = g->slen = 0;
}

void g_reset(struct aw_correlator *c, crun *cr, group *g)
{
    /* keep the sample ring and one block of entries (bounded; avoids
     * malloc churn on groups that fire repeatedly); drop the distinct
     * table and sketches */
    size_t before = g->es.bytes;
    es_clear(&g->es);
    es_account(c, g, before);
    c_account(c, -(long)g->dcap * 12 - (g->hll ? 2 * HLL_M : 0));
    free(g->dv);
    free(g->dc);
    free(g->hll);
    g->dv = NULL;
    g->dc = NULL;
    g->hll = NULL;
    g->dcap = g->dn = 0;
    g->shead = g->slen = 0;
    if (g->rulecnt)
        memset(g->rulecnt, 0, cr->c->nrules * sizeof *g->rulecnt);
    g->count = g->base = g->nnum = 0;
    g->sum = 0;
    g->approx = g->hll_mode = false;
}
