/* correlate.c - the correlator: feeding, per-group event time, groups,
 * firing and chaining. Semantics: docs/correlation.md.
 *
 * A hit of a rule that correlations reference is processed at once, per
 * correlation, by the group it belongs to. Each group keeps its own
 * clock: the newest event time it has seen. An event older than that
 * minus the lateness bound (or, for sliding windows, older than the
 * group's current window) is late: counted, not correlated. Otherwise it
 * is inserted into the group's window in time order (window.c), so
 * out-of-orderness between groups costs nothing and there is no global
 * buffer. Each correlation keeps its groups in a chained hash table with
 * an LRU list (eviction at max_groups) and, for upper-bound conditions,
 * a list of open windows; such a window closes when its group sees an
 * event past the window's end, or at flush (in deadline order). A
 * firing correlation feeds the correlations that reference it directly,
 * as one event at the window's end. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/corr_int.h"

enum { W_LATE = 1, W_EVICT = 2, W_APPROX = 4 };

struct aw_correlator {
    const aw_plan *p;
    aw_correlator_opts o;
    aw_correlation_fn fn;
    void *ud;
    aw_diag_fn diag;
    void *dud;
    crun *runs;
    size_t nruns;
    use **uses;                 /* per rule index */
    size_t *nuses;
    size_t nrules;
    int64_t max_t;              /* newest event time fed (eviction report) */
    bool any_t, flushing;
    char **files;
    size_t nfiles, capfiles;
    uint64_t last_file_id;          /* aw_evidence.file_id of files[last_file] */
    uint32_t last_file;
    aw_correlator_stats st;
    long bytes;
    double *scratch;
    size_t nscratch;
    uint64_t id;                /* unique per process: keys the field memo */
};

/* ---- small helpers ------------------------------------------------------ */

void c_account(struct aw_correlator *c, long delta) { c->bytes += delta; }
size_t c_max_values(const struct aw_correlator *c) { return c->o.max_values; }
size_t c_max_samples(const struct aw_correlator *c) { return c->o.max_samples; }

double *c_scratch(struct aw_correlator *c, size_t n)
{
    if (n > c->nscratch) {
        free(c->scratch);
        c->nscratch = n;
        c->scratch = aw_xmalloc(n * sizeof *c->scratch);
    }
    return c->scratch;
}

static void l_init(lnode *s) { s->prev = s->next = s; }
static void l_unlink(lnode *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
static void l_push_front(lnode *s, lnode *n)
{
    n->next = s->next;
    n->prev = s;
    s->next->prev = n;
    s->next = n;
}
static void l_push_back(lnode *s, lnode *n)
{
    n->prev = s->prev;
    n->next = s;
    s->prev->next = n;
    s->prev = n;
}
#define G_OF(node, member) ((group *)((char *)(node) - offsetof(group, member)))

static void warn(aw_correlator *c, crun *cr, unsigned bit, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void warn(aw_correlator *c, crun *cr, unsigned bit, const char *kind, const char *fmt, ...)
{
    if (cr->warned & bit)
        return;
    cr->warned |= bit;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->diag)
        c->diag(c->dud, aw_rule_path(cr->rule), aw_rule_line(cr->rule), kind, msg);
}

static bool same_ref(const aw_rule *r, const char *name)
{
    return (r->id && strcmp(r->id, name) == 0) || (r->name && strcmp(r->name, name) == 0);
}

int aw_refire_parse(const char *s, aw_refire *out)
{
    if (!strcmp(s, "reset"))
        *out = AW_REFIRE_RESET;
    else if (!strcmp(s, "keep"))
        *out = AW_REFIRE_KEEP;
    else
        return -1;
    return 0;
}

static uint32_t intern_name(aw_correlator *c, const char *f)
{
    if (!f)
        f = "";
    if (c->nfiles && strcmp(c->files[c->nfiles - 1], f) == 0)
        return (uint32_t)(c->nfiles - 1);
    for (size_t i = c->nfiles; i-- > 0 && i + 64 > c->nfiles;)
        if (strcmp(c->files[i], f) == 0)
            return (uint32_t)i;
    aw_grow((void **)&c->files, &c->capfiles, c->nfiles, sizeof *c->files);
    c->files[c->nfiles] = aw_xstrdup(f);
    return (uint32_t)c->nfiles++;
}

/* The file of an event: by its id when the caller gives one and it is
 * the last one seen, else by name. */
static uint32_t intern_file(aw_correlator *c, const char *f, uint64_t id)
{
    if (id && id == c->last_file_id)
        return c->last_file;
    uint32_t i = intern_name(c, f);
    c->last_file_id = id;
    c->last_file = i;
    return i;
}

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

static void make_ref(aw_correlator *c, const aw_evidence *ev, cref *r)
{
    memset(r, 0, sizeof *r);
    if (!ev)
        return;
    r->file = intern_file(c, ev->file, ev->file_id);
    r->record = ev->record;
    r->line = (uint32_t)ev->line;
    if (ev->sha256_bytes) {
        r->has_sha = 1;
        memcpy(r->sha, ev->sha256_bytes, sizeof r->sha);
    } else if (ev->sha256 && strlen(ev->sha256) == 64) {
        r->has_sha = 1;
        for (int i = 0; i < 32; i++) {
            int hi = hexval(ev->sha256[2 * i]), lo = hexval(ev->sha256[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                r->has_sha = 0;
                break;
            }
            r->sha[i] = (uint8_t)(hi << 4 | lo);
        }
    }
}

static void ref_out(const aw_correlator *c, const cref *r, aw_correlation_ref *o)
{
    static const char hex[] = "0123456789abcdef";
    o->file = r->file < c->nfiles ? c->files[r->file] : "";
    o->record = r->record;
    o->line = r->line;
    o->sha256[0] = 0;
    if (r->has_sha) {
        for (int i = 0; i < 32; i++) {
            o->sha256[2 * i] = hex[r->sha[i] >> 4];
            o->sha256[2 * i + 1] = hex[r->sha[i] & 15];
        }
        o->sha256[64] = 0;
    }
}

/* ---- construction --------------------------------------------------------- */

aw_correlator *aw_correlator_new(const aw_plan *p, const aw_correlator_opts *o, aw_correlation_fn fn,
                                 void *ud, aw_diag_fn diag, void *dud)
{
    const aw_ruleset *rs = p->rs;
    size_t n = 0;
    for (size_t i = 0; i < rs->nrules; i++)
        n += rs->rules[i]->kind == AW_RULE_CORRELATION && p->prules[i].corr_ok;
    if (!n)
        return NULL;
    aw_correlator *c = aw_xcalloc(1, sizeof *c);
    static _Atomic uint64_t ids;
    c->id = ++ids;
    c->p = p;
    if (o)
        c->o = *o;
    if (!c->o.max_groups)
        c->o.max_groups = 100000;
    if (!c->o.max_values)
        c->o.max_values = 1024;
    if (c->o.max_values < 16)
        c->o.max_values = 16;
    if (c->o.max_values > (1u << 24))
        c->o.max_values = 1u << 24;
    if (c->o.lateness_s == 0)
        c->o.lateness_s = 300;
    else if (c->o.lateness_s < 0)
        c->o.lateness_s = 0;
    if (c->o.lateness_s > 100LL * 366 * 86400)     /* nanoseconds fit int64 */
        c->o.lateness_s = 100LL * 366 * 86400;
    if (!c->o.max_samples)
        c->o.max_samples = 8;
    c->fn = fn;
    c->ud = ud;
    c->diag = diag;
    c->dud = dud;
    c->nrules = rs->nrules;
    c->uses = aw_xcalloc(c->nrules, sizeof *c->uses);
    c->nuses = aw_xcalloc(c->nrules, sizeof *c->nuses);
    c->runs = aw_xcalloc(n, sizeof *c->runs);
    for (size_t i = 0; i < rs->nrules; i++) {
        const aw_rule *r = rs->rules[i];
        if (r->kind != AW_RULE_CORRELATION || !p->prules[i].corr_ok)
            continue;
        crun *cr = &c->runs[c->nruns++];
        const aw_corr *k = r->corr;
        cr->rule = r;
        cr->c = k;
        cr->close_mode = !k->has_cond[0] && !k->has_cond[1];
        cr->correlation_only = p->prules[i].correlation_only;
        cr->span_ns = k->timespan_s * 1000000000LL;
        l_init(&cr->lru);
        l_init(&cr->cq);
        cr->nbuckets = 1024;
        cr->buckets = aw_xcalloc(cr->nbuckets, sizeof *cr->buckets);
        cr->gfield = aw_xcalloc(k->nrules, sizeof *cr->gfield);
        for (size_t s = 0; s < k->nrules; s++) {
            const aw_rule *t = aw_ruleset_find(rs, k->rules[s]);
            cr->gfield[s] = aw_xcalloc(k->ngroup ? k->ngroup : 1, sizeof **cr->gfield);
            for (size_t g = 0; g < k->ngroup; g++) {
                const char *f = k->group_by[g];
                for (size_t a = 0; a < k->naliases; a++) {
                    if (strcmp(k->aliases[a].name, f) != 0)
                        continue;
                    for (size_t j = 0; j < k->aliases[a].n; j++)
                        if (strcmp(k->aliases[a].rules[j], k->rules[s]) == 0 ||
                            (t && same_ref(t, k->aliases[a].rules[j])))
                            f = k->aliases[a].fields[j];
                }
                cr->gfield[s][g] = f;
            }
        }
    }
    /* who uses whom: base rules and inner correlations */
    for (size_t i = 0; i < c->nruns; i++) {
        crun *cr = &c->runs[i];
        for (size_t s = 0; s < cr->c->nrules; s++) {
            const aw_rule *t = aw_ruleset_find(rs, cr->c->rules[s]);
            if (!t)
                continue;
            size_t cap = c->nuses[t->index];
            c->uses[t->index] = aw_xrealloc(c->uses[t->index], (cap + 1) * sizeof(use));
            c->uses[t->index][c->nuses[t->index]++] = (use){cr, (uint16_t)s};
        }
    }
    return c;
}

/* ---- groups ----------------------------------------------------------- */

static void unchain(crun *cr, group *g)
{
    group **pp = &cr->buckets[g->hash & (cr->nbuckets - 1)];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
}

static void g_destroy(aw_correlator *c, crun *cr, group *g)
{
    unchain(cr, g);
    l_unlink(&g->lru);
    if (g->queued)
        l_unlink(&g->cq);
    g_free_state(c, g);
    if (g->rulecnt)
        c_account(c, -(long)(cr->c->nrules * sizeof *g->rulecnt));
    c_account(c, -(long)(sizeof *g + g->keylen));
    free(g->rulecnt);
    free(g);
    cr->ngroups--;
    c->st.groups--;
}

static void evict(aw_correlator *c, crun *cr)
{
    group *g = G_OF(cr->lru.prev, lru);
    /* live: an open window, or events that a stream within the lateness
     * bound of the newest time fed could still join */
    int64_t horizon = c->max_t - cr->span_ns - c->o.lateness_s * 1000000000LL;
    bool live = g->queued || g->hll_mode || (g->es.n && g->max_t >= horizon);
    c->st.evicted_groups++;
    if (live) {
        c->st.evicted_live++;
        warn(c, cr, W_EVICT, "correlation-evict",
             "correlation '%s': more than %zu groups; evicting the least recently seen group with events in its window (a firing may be lost; raise --corr-max-groups)",
             aw_rule_title(cr->rule), c->o.max_groups);
    }
    g_destroy(c, cr, g);
}

static void rehash(crun *cr)
{
    size_t nb = cr->nbuckets * 2;
    group **b = aw_xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < cr->nbuckets; i++)
        for (group *g = cr->buckets[i], *nx; g; g = nx) {
            nx = g->hnext;
            g->hnext = b[g->hash & (nb - 1)];
            b[g->hash & (nb - 1)] = g;
        }
    free(cr->buckets);
    cr->buckets = b;
    cr->nbuckets = nb;
}

static group *group_get(aw_correlator *c, crun *cr, const char *key, uint32_t keylen, int tenant_idx,
                        bool *created)
{
    *created = false;
    uint64_t h = aw_hash64(key, keylen);
    for (group *g = cr->buckets[h & (cr->nbuckets - 1)]; g; g = g->hnext)
        if (g->hash == h && g->keylen == keylen && memcmp(g->key, key, keylen) == 0) {
            l_unlink(&g->lru);
            l_push_front(&cr->lru, &g->lru);
            return g;
        }
    /* not while flushing: flush holds pointers to open windows, and the
     * groups chained firings create then are destroyed right after */
    while (cr->ngroups >= c->o.max_groups && !c->flushing)
        evict(c, cr);
    *created = true;
    if (2 * cr->ngroups >= cr->nbuckets)
        rehash(cr);
    group *g = aw_xcalloc(1, sizeof *g + keylen);
    c_account(c, (long)(sizeof *g + keylen));
    g->hash = h;
    g->keylen = (uint16_t)keylen;
    memcpy(g->key, key, keylen);
    g->tenant_idx = tenant_idx;
    l_init(&g->cq);
    l_push_front(&cr->lru, &g->lru);
    g->hnext = cr->buckets[h & (cr->nbuckets - 1)];
    cr->buckets[h & (cr->nbuckets - 1)] = g;
    cr->ngroups++;
    if (++c->st.groups > c->st.peak_groups)
        c->st.peak_groups = c->st.groups;
    return g;
}

/* ---- firing and chaining ---------------------------------------------- */

static bool process(aw_correlator *c, crun *cr, int64_t t, const char *key, uint32_t keylen,
                    entry *e, int tenant_idx, const cref *refs, size_t nrefs, const cref *trigger,
                    int depth);

/* Split a key into its values (kb receives a NUL-separated copy);
 * with `shown`, without the hidden suffix of pseudonymised values. */
static void split_key(const group *g, size_t n, char *kb, const char **vals, bool shown)
{
    memcpy(kb, g->key, g->keylen);
    kb[g->keylen] = 0;
    char *p = kb;
    for (size_t i = 0; i < n; i++) {
        vals[i] = p;
        char *sep = memchr(p, KEY_SEP, (size_t)(kb + g->keylen - p));
        if (sep) {
            *sep = 0;
            p = sep + 1;
        } else {
            p = kb + g->keylen;
        }
        char *hide = shown ? strchr(vals[i], KEY_HIDE) : NULL;
        if (hide)
            *hide = 0;
    }
}

static void fire(aw_correlator *c, crun *cr, group *g, double v, int64_t start, int64_t end,
                 const cref *trigger, bool at_close, int depth)
{
    const aw_corr *k = cr->c;
    size_t ng = k->ngroup;
    char *kb = aw_xmalloc((size_t)g->keylen + 1);
    const char **vals = aw_xcalloc(ng ? ng : 1, sizeof *vals);
    split_key(g, ng, kb, vals, true);
    char *kb2 = aw_xmalloc((size_t)g->keylen + 1);
    const char **full = aw_xcalloc(ng ? ng : 1, sizeof *full);
    split_key(g, ng, kb2, full, false);
    size_t ns = g->slen;
    cref *cs = aw_xmalloc((ns ? ns : 1) * sizeof *cs);
    aw_correlation_ref *rs = aw_xmalloc((ns ? ns : 1) * sizeof *rs);
    for (size_t i = 0; i < ns; i++) {
        cs[i] = g->samp[(g->shead + i) % g->scap];
        ref_out(c, &cs[i], &rs[i]);
    }
    aw_correlation_ref trig;
    if (trigger)
        ref_out(c, trigger, &trig);
    aw_correlation_alert a = {
        .rule = cr->rule,
        .correlation_only = cr->correlation_only,
        .ngroup = ng,
        .group_fields = k->group_by,
        .group_values = vals,
        .tenant = g->tenant_idx >= 0 && (size_t)g->tenant_idx < ng ? vals[g->tenant_idx] : NULL,
        .value = v,
        .start_ns = start,
        .end_ns = end,
        .events = g->base,
        .refs = rs,
        .nrefs = ns,
        .trigger = trigger ? &trig : NULL,
        .at_window_close = at_close,
        .approximate = g->approx,
    };
    c->st.alerts++;
    if (c->fn)
        c->fn(c->ud, &a);

    /* the firing is one event for every correlation that references this one */
    size_t nu = c->nuses[cr->rule->index];
    use *us = c->uses[cr->rule->index];
    uint64_t base = g->base;
    int tidx = g->tenant_idx;
    for (size_t u = 0; u < nu && depth < AW_CORR_MAX_DEPTH + 1; u++) {
        crun *oc = us[u].cr;
        const aw_corr *ok = oc->c;
        char *okey = aw_xmalloc((size_t)g->keylen + ok->ngroup + 1);
        uint32_t olen = 0;
        int otenant = -1;
        bool missing = false;
        for (size_t og = 0; og < ok->ngroup && !missing; og++) {
            const char *f = oc->gfield[us[u].slot][og];
            size_t i;
            for (i = 0; i < ng; i++)
                if (strcmp(k->group_by[i], f) == 0)
                    break;
            if (i == ng) {
                missing = true;
                break;
            }
            if (og)
                okey[olen++] = KEY_SEP;
            size_t l = strlen(full[i]);
            memcpy(okey + olen, full[i], l);
            olen += (uint32_t)l;
            if ((int)i == tidx && otenant < 0)
                otenant = (int)og;
        }
        if (missing) {
            c->st.no_group++;
            free(okey);
            continue;
        }
        entry e = {.t = end, .cnt = 1, .base = (uint32_t)(base > UINT32_MAX ? UINT32_MAX : base),
                   .rule = us[u].slot};
        if (ok->ncond_fields) {
            /* value fields of the outer correlation, from this group */
            uint64_t h = 0;
            bool all = true;
            for (size_t f = 0; f < ok->ncond_fields && all; f++) {
                size_t i;
                for (i = 0; i < ng; i++)
                    if (strcmp(k->group_by[i], ok->cond_fields[f]) == 0)
                        break;
                if (i == ng) {
                    all = false;
                    break;
                }
                h = h * 0x9e3779b97f4a7c15ULL ^ aw_hash64(vals[i], strlen(vals[i]));
                if (f == 0) {
                    char *endp;
                    double d = strtod(vals[i], &endp);
                    if (*vals[i] && !*endp && isfinite(d)) {
                        e.num = d;
                        e.nnum = 1;
                    }
                }
            }
            e.has_v = all;
            e.vh = h ? h : 1;
        }
        process(c, oc, end, okey, olen, &e, otenant, cs, ns, trigger, depth + 1);
        free(okey);
    }
    free(kb);
    free(vals);
    free(kb2);
    free(full);
    free(cs);
    free(rs);
}

static void close_group(aw_correlator *c, crun *cr, group *g, int depth)
{
    double v;
    l_unlink(&g->cq);
    g->queued = false;
    if (g_value(c, cr, g, &v) && cond_holds(cr->c, v))
        fire(c, cr, g, v, g->first_t, g->first_t + cr->span_ns, NULL, true, depth);
    g_reset(c, cr, g);
}

/* Is t late for group g: older than the group's newest time minus the
 * lateness bound, or (sliding window) than the group's window start? */
static bool late(const aw_correlator *c, const crun *cr, const group *g, int64_t t)
{
    if (t >= g->max_t)
        return false;
    int64_t lo = g->max_t - c->o.lateness_s * 1000000000LL;
    if (!cr->close_mode && g->max_t - cr->span_ns > lo)
        lo = g->max_t - cr->span_ns;
    return t < lo;
}

/* One event for one correlation; false if it was late. */
static bool process(aw_correlator *c, crun *cr, int64_t t, const char *key, uint32_t keylen,
                    entry *e, int tenant_idx, const cref *refs, size_t nrefs, const cref *trigger,
                    int depth)
{
    bool created;
    group *g = group_get(c, cr, key, keylen, tenant_idx, &created);
    if (!created && late(c, cr, g, t)) {
        c->st.late++;
        warn(c, cr, W_LATE, "correlation-late",
             "correlation '%s': event older than its group's newest event minus the lateness bound (%lld s) or than the group's window ignored; raise --corr-lateness if a source delivers one group's events this far out of order",
             aw_rule_title(cr->rule), (long long)c->o.lateness_s);
        return false;
    }
    if (created || t > g->max_t)
        g->max_t = t;
    c->st.events++;
    if (cr->close_mode) {
        /* the group's own clock passed its window's end: close it first */
        if (g->queued && t > g->first_t + cr->span_ns)
            close_group(c, cr, g, depth);
        if (!g->queued) {
            g->first_t = t;
            g->queued = true;
            l_push_back(&cr->cq, &g->cq);
        }
    } else {
        g_expire(c, cr, g, g->max_t - cr->span_ns);
    }
    if (g_add(c, cr, g, e)) {
        c->st.approximated_groups++;
        warn(c, cr, W_APPROX, "correlation-approximate",
             "correlation '%s': a group exceeded %zu events/values; its state is approximate from now on (alerts flagged approximate; raise --corr-max-values)",
             aw_rule_title(cr->rule), c->o.max_values);
    }
    for (size_t i = 0; i < nrefs; i++)
        g_sample(c, g, &refs[i]);
    if (cr->close_mode)
        return true;
    double v;
    if (g_value(c, cr, g, &v) && cond_holds(cr->c, v)) {
        fire(c, cr, g, v, g_start(cr, g), g->max_t, trigger, false, depth);
        if (c->o.refire == AW_REFIRE_RESET)
            g_reset(c, cr, g);
    }
    return true;
}

/* ---- flush: closing every open window in deadline order ------------ */

typedef struct closing {
    int64_t deadline;
    size_t run;
    group *g;
} closing;

static int cmp_closing(const void *pa, const void *pb)
{
    const closing *a = pa, *b = pb;
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline ? -1 : 1;
    if (a->run != b->run)
        return a->run < b->run ? -1 : 1;
    if (a->g->hash != b->g->hash)
        return a->g->hash < b->g->hash ? -1 : 1;
    size_t n = a->g->keylen < b->g->keylen ? a->g->keylen : b->g->keylen;
    int r = memcmp(a->g->key, b->g->key, n);
    return r ? r : (a->g->keylen > b->g->keylen) - (a->g->keylen < b->g->keylen);
}

/* Close every open window (upper-bound conditions), earliest deadline
 * first across correlations; the order does not depend on arrival.
 * Closing may fire into outer correlations and open windows there: those
 * are closed by the next pass (chains are acyclic and bounded). Groups
 * are not evicted meanwhile (c->flushing), so the snapshot stays valid. */
static void close_all(aw_correlator *c)
{
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < c->nruns; i++)
            for (lnode *x = c->runs[i].cq.next; x != &c->runs[i].cq; x = x->next)
                n++;
        if (!n)
            return;
        closing *v = aw_xmalloc(n * sizeof *v);
        n = 0;
        for (size_t i = 0; i < c->nruns; i++)
            for (lnode *x = c->runs[i].cq.next; x != &c->runs[i].cq; x = x->next) {
                group *g = G_OF(x, cq);
                v[n++] = (closing){g->first_t + c->runs[i].span_ns, i, g};
            }
        qsort(v, n, sizeof *v, cmp_closing);
        for (size_t k = 0; k < n; k++) {
            crun *cr = &c->runs[v[k].run];
            group *g = v[k].g;
            if (g->queued && g->first_t + cr->span_ns == v[k].deadline)
                close_group(c, cr, g, 0);
        }
        free(v);
    }
}

/* ---- feeding -------------------------------------------------------- */

static int first_cb(const aw_doc *d, const aw_jnode *n, void *ud)
{
    (void)d;
    *(const aw_jnode **)ud = n;
    return 1;
}

/* What a source's field resolves to, remembered per thread by the
 * correlator, source and field pointers (the field names are the
 * correlator's own strings, so a pointer stands for its name): the
 * extract runs for every hit, and resolving by name (hashing, string
 * compares, the pseudonymised list, twice) cost a third of it. */
typedef struct fmemo {
    uint64_t cid;
    const aw_source *s;
    const char *field;
    const char *const *paths;
    size_t np;
    int pseudo;
} fmemo;

#define FMEMO_BITS 6
static __thread fmemo tl_fmemo[1u << FMEMO_BITS];

static const fmemo *field_memo(const aw_correlator *c, const aw_source *s, const char *field)
{
    uint64_t h = ((uint64_t)(uintptr_t)s ^ (uint64_t)(uintptr_t)field * 31 ^ c->id) * 0x9e3779b97f4a7c15ULL;
    fmemo *m = &tl_fmemo[h >> (64 - FMEMO_BITS)];
    if (m->cid != c->id || m->s != s || m->field != field) {
        m->np = aw_source_resolve(s, field, &m->paths);
        m->pseudo = aw_source_is_pseudonymised(s, field);
        m->cid = c->id;
        m->s = s;
        m->field = field;
    }
    return m;
}

static const aw_jnode *field_node(const fmemo *f, const aw_doc *d)
{
    for (size_t i = 0; i < f->np; i++) {
        const aw_jnode *n = NULL;
        aw_mapping_path_each(d, f->paths[i], strlen(f->paths[i]), first_cb, &n);
        if (n && n->type != AW_JNULL && n->type != AW_JOBJ && n->type != AW_JARR)
            return n;
    }
    return NULL;
}

/* Text of a field into out; -1 if the event lacks it. For a group key
 * (`render`): the value as it may leave the engine (pseudonymised where
 * declared), and for a pseudonymised field KEY_HIDE + a hash of the raw
 * value, so that groups stay apart when there is no key and every
 * pseudonym is "redacted" (the suffix is never shown). Otherwise the
 * raw value (distinct-value hashing; never shown). KEY_SEP bytes
 * become '?'. */
static long field_text(aw_correlator *c, const aw_source *s, const aw_doc *d, const char *field,
                       const char *tenant, size_t tlen, char *out, size_t cap, bool render)
{
    const fmemo *f = field_memo(c, s, field);
    const aw_jnode *n = field_node(f, d);
    size_t len;
    if (n && !render) {
        len = n->vlen < cap ? n->vlen : cap - 1;
        memcpy(out, n->val, len);
        out[len] = 0;
    } else if (n) {
        len = aw_source_render_as(s, c->p->map, f->pseudo, n->val, n->vlen, out, cap - 18);
        if (f->pseudo)
            len += (size_t)snprintf(out + len, 18, "%c%016llx", KEY_HIDE,
                                    (unsigned long long)aw_hash64(n->val, n->vlen));
    } else if (tlen && strcmp(field, "tenant") == 0) {
        len = tlen < cap ? tlen : cap - 1;
        memcpy(out, tenant, len);
        out[len] = 0;
    } else {
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (out[i] == KEY_SEP || (out[i] == KEY_HIDE && !(render && n && i + 17 == len)))
            out[i] = '?';
    return (long)len;
}

int aw_correlator_wants(const aw_correlator *c, const aw_rule *r)
{
    return c && r && r->index < c->nrules && c->nuses[r->index] > 0;
}

/* The extract: what feeding a hit needs from its event, in a flat
 * buffer. Header, then one use record per correlation the rule feeds,
 * each followed by its group key (8-byte aligned). */
typedef struct xhead {
    int64_t t;
    uint32_t nuse;
    uint8_t has_t;
} xhead;

typedef struct xuse {
    entry e;
    int32_t tidx;
    uint32_t klen;
    uint8_t missing;
} xuse;

#define XALIGN(n) (((n) + 7) & ~(size_t)7)

static void xput(char *buf, size_t cap, size_t *at, const void *p, size_t n)
{
    if (*at + n <= cap)
        memcpy(buf + *at, p, n);
    *at = XALIGN(*at + n);
}

size_t aw_correlator_extract(const aw_correlator *cc, const aw_hit *hit, const aw_doc *d, void *out,
                             size_t cap)
{
    aw_correlator *c = (aw_correlator *)(uintptr_t)cc;  /* read only: plan and uses */
    char *buf = out;
    size_t at = 0;
    xhead h = {0, 0, 0};
    if (!c || !hit || !hit->rule || hit->rule->index >= c->nrules || !c->nuses[hit->rule->index])
        return 0;
    size_t idx = hit->rule->index;
    if (aw_source_time(hit->source, d, &h.t) != AW_OK) {
        xput(buf, cap, &at, &h, sizeof h);
        return at;
    }
    h.has_t = 1;
    h.nuse = (uint32_t)c->nuses[idx];
    xput(buf, cap, &at, &h, sizeof h);
    char tenant[256], val[VAL_MAX], key[4096];
    size_t tlen = aw_source_tenant(hit->source, d, tenant, sizeof tenant);
    for (size_t u = 0; u < c->nuses[idx]; u++) {
        crun *cr = c->uses[idx][u].cr;
        uint16_t slot = c->uses[idx][u].slot;
        const aw_corr *k = cr->c;
        xuse x = {.e = {.t = h.t, .cnt = 1, .base = 1, .rule = slot}, .tidx = -1};
        size_t klen = 0;
        for (size_t g = 0; g < k->ngroup; g++) {
            long l = field_text(c, hit->source, d, cr->gfield[slot][g], tenant, tlen, val, sizeof val, true);
            if (l < 0 || klen + (size_t)l + 1 > sizeof key) {
                x.missing = 1;
                break;
            }
            if (g)
                key[klen++] = KEY_SEP;
            memcpy(key + klen, val, (size_t)l);
            klen += (size_t)l;
            const char *hide = memchr(val, KEY_HIDE, (size_t)l);
            size_t shown = hide ? (size_t)(hide - val) : (size_t)l;
            if (x.tidx < 0 && tlen && shown == tlen && memcmp(val, tenant, tlen) == 0)
                x.tidx = (int)g;
        }
        if (!x.missing && k->ncond_fields) {
            uint64_t hv = 0;
            bool all = true;
            for (size_t f = 0; f < k->ncond_fields; f++) {
                const char *fname = k->cond_fields[f];
                if (f == 0 && k->type != CT_VALUE_COUNT) {
                    const aw_jnode *n = field_node(field_memo(c, hit->source, fname), d);
                    if (n && n->type == AW_JNUM && isfinite(n->num)) {
                        x.e.num = n->num;
                        x.e.nnum = 1;
                    } else if (n && n->type == AW_JSTR && n->vlen) {
                        char *endp;
                        double v = strtod(n->val, &endp);
                        if (!*endp && isfinite(v)) {
                            x.e.num = v;
                            x.e.nnum = 1;
                        }
                    }
                    continue;
                }
                long l = field_text(c, hit->source, d, fname, tenant, tlen, val, sizeof val, false);
                if (l < 0) {
                    all = false;
                    break;
                }
                hv = hv * 0x9e3779b97f4a7c15ULL ^ aw_hash64(val, (size_t)l);
            }
            if (k->type == CT_VALUE_COUNT) {
                x.e.has_v = all;
                x.e.vh = hv ? hv : 1;
            }
        }
        x.klen = x.missing ? 0 : (uint32_t)klen;
        xput(buf, cap, &at, &x, sizeof x);
        xput(buf, cap, &at, key, x.klen);
    }
    return at;
}

size_t aw_correlator_feed_extract(aw_correlator *c, const aw_hit *hit, const void *in, size_t len,
                                  const aw_evidence *ev)
{
    const char *buf = in;
    xhead h;
    if (!c || !hit || !hit->rule || len < sizeof h)
        return 0;
    size_t idx = hit->rule->index;
    if (idx >= c->nrules || !c->nuses[idx])
        return 0;
    memcpy(&h, buf, sizeof h);
    c->st.hits++;
    if (!h.has_t) {
        c->st.no_time += c->nuses[idx];
        return 0;
    }
    if (!c->any_t || h.t > c->max_t) {
        c->max_t = h.t;
        c->any_t = true;
    }
    cref ref;
    bool have_ref = false;
    size_t fed = 0, at = XALIGN(sizeof h);
    for (uint32_t u = 0; u < h.nuse && at + sizeof(xuse) <= len; u++) {
        xuse x;
        memcpy(&x, buf + at, sizeof x);
        at = XALIGN(at + sizeof x);
        const char *key = buf + at;
        at = XALIGN(at + x.klen);
        if (x.missing) {
            c->st.no_group++;
            continue;
        }
        if (!have_ref) {
            make_ref(c, ev, &ref);
            have_ref = true;
        }
        crun *cr = c->uses[idx][u].cr;
        fed += process(c, cr, h.t, key, x.klen, &x.e, x.tidx, &ref, 1, &ref, 0);
    }
    return fed;
}

size_t aw_correlator_feed(aw_correlator *c, const aw_hit *hit, const aw_doc *d, const aw_evidence *ev)
{
    char small[8192];
    size_t n = aw_correlator_extract(c, hit, d, small, sizeof small);
    if (n <= sizeof small)
        return aw_correlator_feed_extract(c, hit, small, n, ev);
    char *big = aw_xmalloc(n);
    aw_correlator_extract(c, hit, d, big, n);
    size_t fed = aw_correlator_feed_extract(c, hit, big, n, ev);
    free(big);
    return fed;
}

void aw_correlator_flush(aw_correlator *c)
{
    if (!c)
        return;
    c->flushing = true;
    close_all(c);
    for (size_t i = 0; i < c->nruns; i++) {
        crun *cr = &c->runs[i];
        while (cr->lru.next != &cr->lru)
            g_destroy(c, cr, G_OF(cr->lru.next, lru));
    }
    c->flushing = false;
    c->any_t = false;
}

const aw_correlator_stats *aw_correlator_stats_get(const aw_correlator *c)
{
    return &c->st;
}

size_t aw_correlator_state_bytes(const aw_correlator *c)
{
    return c ? (size_t)c->bytes : 0;
}

void aw_correlator_free(aw_correlator *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nruns; i++) {
        crun *cr = &c->runs[i];
        while (cr->lru.next != &cr->lru)
            g_destroy(c, cr, G_OF(cr->lru.next, lru));
        free(cr->buckets);
        for (size_t s = 0; s < cr->c->nrules; s++)
            free(cr->gfield[s]);
        free(cr->gfield);
    }
    for (size_t i = 0; i < c->nrules; i++)
        free(c->uses[i]);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->files);
    free(c->uses);
    free(c->nuses);
    free(c->runs);
    free(c->scratch);
    free(c);
}

size_t aw_correlator_bound_bytes(const aw_correlator *c)
{
    if (!c)
        return 0;
    size_t mv = c->o.max_values, dcap = 8;
    while (dcap < 2 * mv)
        dcap *= 2;
    size_t total = 0;
    for (size_t i = 0; i < c->nruns; i++) {
        size_t per = sizeof(group) + 4096 + es_bound_bytes(mv) + dcap * 12 + 2 * HLL_M +
                     c->o.max_samples * sizeof(cref) + c->runs[i].c->nrules * sizeof(uint32_t) +
                     2 * sizeof(group *);
        total += c->o.max_groups * per;
    }
    return total;
}
