/* window.c - one group's window: the events it holds and the aggregate
 * the correlation's condition is tested against.
 *
 * A group's entries form a ring sorted by event time: an event arrives
 * usually in order (appended), sometimes out of order within the
 * lateness bound (correlate.c decides; inserted in place, shifting the
 * younger entries); a sliding window drops entries from the head. Aggregates (count, sum, numeric count,
 * per-rule counts, the distinct-value table) are maintained as entries
 * come and go; temporal_ordered and value_percentile scan the ring.
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

/* ---- ring of entries -------------------------------------------------- */

/* Entry i of the ring (i < ecap): a compare, not a division, as the
 * binary search of an out-of-order insert reads ten of them. */
static inline uint32_t ring_at(const group *g, uint32_t i)
{
    uint32_t k = g->ehead + i;
    return k >= g->ecap ? k - g->ecap : k;
}

#define E(g, i) ((g)->ent[ring_at((g), (i))])

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

static void drop_at(crun *cr, group *g, uint32_t i)
{
    sub(cr, g, &E(g, i));
    for (uint32_t k = i; k > 0; k--)
        E(g, k) = E(g, k - 1);
    g->ehead = (g->ehead + 1) % g->ecap;
    g->elen--;
}

void g_expire(crun *cr, group *g, int64_t lo)
{
    if (g->hll_mode) {
        /* the sketches expire by epoch; counts since approx_since stay */
        return;
    }
    while (g->elen && E(g, 0).t < lo)
        drop_at(cr, g, 0);
    if (!g->elen) {
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
    g->approx_since = g->elen ? E(g, 0).t : t;
    for (uint32_t i = 0; i < g->elen; i++)
        if (E(g, i).has_v)
            hll_put(cr, g, E(g, i).t, E(g, i).vh);
    c_account(c, -(long)g->ecap * (long)sizeof(entry) - (long)g->dcap * 12);
    free(g->ent);
    free(g->dv);
    free(g->dc);
    g->ent = NULL;
    g->dv = NULL;
    g->dc = NULL;
    g->ecap = g->ehead = g->elen = g->dcap = g->dn = 0;
    g->hll_mode = true;
}

static void ring_grow(struct aw_correlator *c, group *g, uint32_t maxv)
{
    uint32_t ncap = g->ecap ? g->ecap * 2 : 4;
    if (ncap > maxv)
        ncap = maxv;
    entry *n = aw_xmalloc((size_t)ncap * sizeof *n);
    for (uint32_t i = 0; i < g->elen; i++)
        n[i] = E(g, i);
    c_account(c, ((long)ncap - (long)g->ecap) * (long)sizeof(entry));
    free(g->ent);
    g->ent = n;
    g->ecap = ncap;
    g->ehead = 0;
}

/* First entry later than t (entries are sorted by time; the last one is
 * later than t): after the entries of equal time, as they arrived. */
static uint32_t insert_pos(const group *g, int64_t t)
{
    uint32_t lo = 0, hi = g->elen - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (E(g, mid).t > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Move entries [at, elen) one place up (room for elen + 1 is there), a
 * contiguous run of the ring at a time. */
static void shift_up(group *g, uint32_t at)
{
    uint32_t k = g->elen;
    while (k > at) {
        uint32_t pk = (g->ehead + k) % g->ecap;    /* where entry k - 1 goes */
        if (pk == 0) {
            g->ent[0] = g->ent[g->ecap - 1];
            k--;
            continue;
        }
        uint32_t n = k - at < pk ? k - at : pk;
        memmove(&g->ent[pk - n + 1], &g->ent[pk - n], (size_t)n * sizeof *g->ent);
        k -= n;
    }
}

/* Move entries [0, at) one place down, the ring's head moving back one
 * (room for elen + 1 is there), a contiguous run at a time: entry `at`
 * is then free, and the entries after it keep their places. */
static void shift_down(group *g, uint32_t at)
{
    g->ehead = (g->ehead + g->ecap - 1) % g->ecap;
    uint32_t k = 0;
    while (k < at) {
        uint32_t pk = (g->ehead + k) % g->ecap;    /* where entry k goes */
        if (pk == g->ecap - 1) {
            g->ent[pk] = g->ent[0];
            k++;
            continue;
        }
        uint32_t n = at - k < g->ecap - 1 - pk ? at - k : g->ecap - 1 - pk;
        memmove(&g->ent[pk], &g->ent[pk + 1], (size_t)n * sizeof *g->ent);
        k += n;
    }
}

/* Entry b takes on a's events (counts and sums only: they add). */
static void entry_absorb(entry *b, const entry *a)
{
    b->cnt += a->cnt;
    b->nnum += a->nnum;
    b->base += a->base;
    b->num += a->num;
}

/* Where an event of time t goes: after the entries of its time or
 * earlier (elen when it arrives in order). */
static uint32_t add_pos(const group *g, int64_t t)
{
    return g->elen && E(g, g->elen - 1).t > t ? insert_pos(g, t) : g->elen;
}

bool g_add(struct aw_correlator *c, crun *cr, group *g, const entry *e)
{
    uint32_t maxv = (uint32_t)c_max_values(c);
    bool was = g->approx;
    aw_corrtype ty = cr->c->type;
    uint32_t at = add_pos(g, e->t);
    /* counts and sums: the events of one time expire together, so one
     * entry holds them all, exactly (CloudTrail's times are whole
     * seconds: a busy tenant's window holds thousands of events in a few
     * hundred seconds, and each entry less is one less to move when an
     * event arrives out of order) */
    if ((ty == CT_EVENT_COUNT || ty == CT_VALUE_SUM || ty == CT_VALUE_AVG) && at && E(g, at - 1).t == e->t) {
        entry_absorb(&E(g, at - 1), e);
        g->count += e->cnt;
        g->base += e->base;
        g->sum += e->num;
        g->nnum += e->nnum;
        return false;
    }
    if (temporal(cr) && !g->rulecnt) {
        g->rulecnt = aw_xcalloc(cr->c->nrules, sizeof *g->rulecnt);
        c_account(c, (long)(cr->c->nrules * sizeof *g->rulecnt));
    }
    if (ty == CT_VALUE_COUNT && !g->hll_mode && e->has_v && g->dn >= maxv && !dset_find(g, e->vh)) {
        to_hll(c, cr, g, e->t);
        g->approx = true;
    }
    if (!g->hll_mode && g->elen == maxv) {
        switch (ty) {
        case CT_VALUE_COUNT:
            to_hll(c, cr, g, e->t);
            g->approx = true;
            break;
        case CT_TEMPORAL: {
            uint32_t i = 0;
            while (i < g->elen && g->rulecnt[E(g, i).rule] <= E(g, i).cnt)
                i++;
            if (i == g->elen) {
                i = 0;
                g->approx = true;
            }
            drop_at(cr, g, i);
            break;
        }
        case CT_EVENT_COUNT: case CT_VALUE_SUM: case CT_VALUE_AVG: {
            entry_absorb(&E(g, 1), &E(g, 0));
            g->ehead = (g->ehead + 1) % g->ecap;
            g->elen--;
            g->approx = true;
            break;
        }
        default:
            drop_at(cr, g, 0);
            g->approx = true;
        }
        at = add_pos(g, e->t);          /* the head moved */
    }
    g->count += e->cnt;
    g->base += e->base;
    if (g->hll_mode) {
        hll_rotate(cr, g, e->t);
        if (e->has_v)
            hll_put(cr, g, e->t, e->vh);
        return g->approx && !was;
    }
    if (g->elen == g->ecap)
        ring_grow(c, g, maxv);
    if (at < g->elen) {                 /* out of order: insert in place, */
        if (at < g->elen - at)          /* moving the fewer entries */
            shift_down(g, at);
        else
            shift_up(g, at);
    }
    E(g, at) = *e;
    g->elen++;
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
        size_t pos = 0, n = cr->c->nrules;
        uint32_t i = 0;
        while (i < g->elen && pos < n) {
            uint32_t j = i;
            while (j < g->elen && E(g, j).t == E(g, i).t)
                j++;
            for (bool moved = true; moved && pos < n;) {
                moved = false;
                for (uint32_t k = i; k < j && pos < n; k++)
                    if (E(g, k).rule == pos) {
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
        double *x = c_scratch(c, g->elen);
        size_t n = 0;
        for (uint32_t i = 0; i < g->elen; i++)
            if (E(g, i).nnum)
                x[n++] = E(g, i).num / E(g, i).nnum;
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
    return g->elen ? E(g, 0).t : g->max_t;
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
    c_account(c, -(long)g->ecap * (long)sizeof(entry) - (long)g->dcap * 12 -
                     (g->hll ? 2 * HLL_M : 0) - (long)g->scap * (long)sizeof(cref));
    free(g->ent);
    free(g->dv);
    free(g->dc);
    free(g->hll);
    free(g->samp);
    g->ent = NULL;
    g->dv = NULL;
    g->dc = NULL;
    g->hll = NULL;
    g->samp = NULL;
    g->ecap = g->ehead = g->elen = g->dcap = g->dn = g->scap = g->shead = g->slen = 0;
}

void g_reset(struct aw_correlator *c, crun *cr, group *g)
{
    /* keep the entry and sample rings (bounded; avoids malloc churn on
     * groups that fire repeatedly); drop the distinct table and sketches */
    c_account(c, -(long)g->dcap * 12 - (g->hll ? 2 * HLL_M : 0));
    free(g->dv);
    free(g->dc);
    free(g->hll);
    g->dv = NULL;
    g->dc = NULL;
    g->hll = NULL;
    g->dcap = g->dn = 0;
    g->ehead = g->elen = g->shead = g->slen = 0;
    if (g->rulecnt)
        memset(g->rulecnt, 0, cr->c->nrules * sizeof *g->rulecnt);
    g->count = g->base = g->nnum = 0;
    g->sum = 0;
    g->approx = g->hll_mode = false;
}
