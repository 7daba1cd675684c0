/* plan.c - bind a rule set to a field mapping.
 *
 * For every log source of the mapping: the rules it serves and, for
 * every interned field name, the event paths to read. Filters are
 * attached to the rules they name; rules referenced by correlations
 * without `generate: true` are marked correlation-only; correlation
 * references are resolved, cycles and over-deep chains rejected. */
#include <string.h>

#include "sigma/plan_int.h"

static bool ls_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Filter logsource contains rule logsource: every attribute set in the
 * filter equals the rule's. */
static bool ls_contains(const aw_rule *f, const aw_rule *r)
{
    return (!f->ls_product || ls_eq(f->ls_product, r->ls_product)) &&
           (!f->ls_category || ls_eq(f->ls_category, r->ls_category)) &&
           (!f->ls_service || ls_eq(f->ls_service, r->ls_service));
}

static bool filter_targets(const aw_rule *f, const aw_rule *r)
{
    if (!ls_contains(f, r))
        return false;
    if (f->filter_any)
        return true;
    for (size_t i = 0; i < f->nfilter_rules; i++) {
        const char *t = f->filter_rules[i];
        if ((r->id && strcmp(r->id, t) == 0) || (r->name && strcmp(r->name, t) == 0))
            return true;
    }
    return false;
}

/* Resolution ids: every (source, field) whose path list is the same
 * (same paths, same order) gets one id, so a field read by the rules of
 * several sources an event belongs to is read once per event. */
typedef struct rslot {
    uint64_t h;
    uint32_t s, f, id;
    bool used;
} rslot;

static uint64_t paths_hash(const char *const *pp, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++)
        for (const unsigned char *c = (const unsigned char *)pp[i];; c++) {
            h = (h ^ *c) * 0x100000001b3ull;
            if (!*c)
                break;
        }
    return h;
}

static bool paths_eq(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static void intern_resolutions(aw_plan *p)
{
    size_t cap = 16;
    while (cap < 2 * p->nsrc * p->nfields)
        cap <<= 1;
    rslot *t = aw_xcalloc(cap, sizeof *t);
    for (size_t s = 0; s < p->nsrc; s++) {
        aw_psrc *ps = &p->srcs[s];
        ps->res = aw_xcalloc(p->nfields ? p->nfields : 1, sizeof *ps->res);
        for (size_t f = 0; f < p->nfields; f++) {
            uint64_t h = paths_hash(ps->paths[f], ps->npaths[f]);
            for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
                rslot *e = &t[i];
                if (!e->used) {
                    *e = (rslot){h, (uint32_t)s, (uint32_t)f, (uint32_t)p->nres++, true};
                    ps->res[f] = e->id;
                    break;
                }
                const aw_psrc *o = &p->srcs[e->s];
                if (e->h == h && paths_eq(o->paths[e->f], o->npaths[e->f], ps->paths[f], ps->npaths[f])) {
                    ps->res[f] = e->id;
                    break;
                }
            }
        }
    }
    free(t);
}

/* Weight of a rule's keyword values in the prefilter decision: each is
 * tried on every value of an event (a few dozen), so it weighs as
 * KEYWORD_WEIGHT rules. */
#define KEYWORD_WEIGHT 4
static void count_keywords(const aw_item *it, void *ud)
{
    if (it->field < 0)
        *(size_t *)ud += it->n;
}

static size_t keyword_values(const aw_rule *r)
{
    size_t n = 0;
    aw_rule_items_each(r, count_keywords, &n);
    return n * KEYWORD_WEIGHT;
}

static void diag_rule(aw_diag_fn diag, void *ud, const aw_rule *r, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void diag_rule(aw_diag_fn diag, void *ud, const aw_rule *r, const char *kind, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (diag)
        diag(ud, r->path, r->line, kind, msg);
}

/* Depth of the correlation chain below r; -1 on a cycle. */
static int corr_depth(const aw_ruleset *rs, const aw_rule *r, int *state)
{
    if (state[r->index] == 1)
        return -1;
    if (state[r->index] == 2 || r->kind != AW_RULE_CORRELATION)
        return 0;
    state[r->index] = 1;
    int deepest = 0;
    for (size_t i = 0; i < r->corr->nrules; i++) {
        const aw_rule *t = aw_ruleset_find(rs, r->corr->rules[i]);
        if (!t)
            continue;
        int d = corr_depth(rs, t, state);
        if (d < 0) {
            state[r->index] = 0;
            return -1;
        }
        if (d + 1 > deepest)
            deepest = d + 1;
    }
    state[r->index] = 2;
    return deepest;
}

aw_plan *aw_plan_new(const aw_ruleset *rs, const aw_mapping *m, const aw_plan_opts *opts,
                     aw_diag_fn diag, void *ud)
{
    aw_plan *p = aw_xcalloc(1, sizeof *p);
    size_t nr = rs->nrules;
    p->rs = rs;
    p->map = m;
    p->nfields = rs->nfields;
    p->prules = aw_xcalloc(nr ? nr : 1, sizeof *p->prules);
    int *state = aw_xcalloc(nr ? nr : 1, sizeof *state);

    /* Correlations: references, cycles, depth; mark referenced rules. */
    for (size_t i = 0; i < nr; i++) {
        const aw_rule *r = rs->rules[i];
        if (r->kind != AW_RULE_CORRELATION)
            continue;
        bool ok = true;
        for (size_t k = 0; k < r->corr->nrules && ok; k++) {
            const aw_rule *t = aw_ruleset_find(rs, r->corr->rules[k]);
            if (!t || t->kind == AW_RULE_FILTER) {
                diag_rule(diag, ud, r, "unknown-reference", "correlation '%s' references '%s', which is no rule of the loaded collection",
                          r->title, r->corr->rules[k]);
                ok = false;
            }
        }
        int d = ok ? corr_depth(rs, r, state) : 0;
        if (ok && d < 0) {
            diag_rule(diag, ud, r, "correlation-cycle", "correlation '%s' references itself through its chain", r->title);
            ok = false;
        } else if (ok && d > AW_CORR_MAX_DEPTH) {
            diag_rule(diag, ud, r, "correlation-depth", "correlation '%s' chains %d levels deep (limit %d)", r->title, d,
                      AW_CORR_MAX_DEPTH);
            ok = false;
        }
        p->prules[i].corr_ok = ok;
        if (!ok)
            continue;
        p->ncorr++;
        for (size_t k = 0; k < r->corr->nrules; k++) {
            const aw_rule *t = aw_ruleset_find(rs, r->corr->rules[k]);
            p->prules[t->index].referenced = true;
            if (r->corr->generate)
                p->prules[t->index].generate = true;
        }
    }
    free(state);

    /* Sources, and the detection rules each serves. */
    size_t ns = aw_mapping_count(m);
    p->nsrc = ns;
    p->srcs = aw_xcalloc(ns ? ns : 1, sizeof *p->srcs);
    for (size_t s = 0; s < ns; s++) {
        aw_psrc *ps = &p->srcs[s];
        ps->src = aw_mapping_source(m, s);
        ps->paths = aw_xcalloc(p->nfields ? p->nfields : 1, sizeof *ps->paths);
        ps->npaths = aw_xcalloc(p->nfields ? p->nfields : 1, sizeof *ps->npaths);
        for (size_t f = 0; f < p->nfields; f++)
            ps->npaths[f] = aw_source_resolve(ps->src, rs->fields[f], &ps->paths[f]);
        ps->rules = aw_xcalloc(nr ? nr : 1, sizeof *ps->rules);
    }
    intern_resolutions(p);
    const aw_source **hits = aw_xcalloc(ns ? ns : 1, sizeof *hits);
    /* the filter rules, in rule-set order: each detection rule is matched
     * against these, not against every rule (3,000 squared: 40 ms) */
    aw_rule **filters = aw_xcalloc(nr ? nr : 1, sizeof *filters);
    size_t nfl = 0;
    for (size_t i = 0; i < nr; i++)
        if (rs->rules[i]->kind == AW_RULE_FILTER)
            filters[nfl++] = rs->rules[i];
    for (size_t i = 0; i < nr; i++) {
        aw_rule *r = rs->rules[i];
        aw_prule *pr = &p->prules[i];
        pr->rule = r;
        pr->correlation_only = pr->referenced && !pr->generate;
        if (r->kind != AW_RULE_DETECTION)
            continue;
        if (opts && opts->skip_deprecated && r->status &&
            (strcmp(r->status, "deprecated") == 0 || strcmp(r->status, "unsupported") == 0))
            continue;
        size_t nh = aw_mapping_route(m, r->ls_product, r->ls_category, r->ls_service, hits, ns);
        if (nh == 0) {
            diag_rule(diag, ud, r, "no-logsource-mapping",
                      "no mapping serves logsource product=%s category=%s service=%s: the rule cannot fire",
                      r->ls_product ? r->ls_product : "-", r->ls_category ? r->ls_category : "-",
                      r->ls_service ? r->ls_service : "-");
            continue;
        }
        pr->active = true;
        p->nactive++;
        for (size_t f = 0; f < nfl; f++) {
            aw_rule *fl = filters[f];
            if (filter_targets(fl, r)) {
                pr->filters = aw_xrealloc(pr->filters, (pr->nfilters + 1) * sizeof *pr->filters);
                pr->filters[pr->nfilters++] = fl;
            }
        }
        bool kw = keyword_values(r) > 0;
        for (size_t f = 0; f < pr->nfilters && !kw; f++)
            kw = keyword_values(pr->filters[f]) > 0;
        for (size_t h = 0; h < nh && h < ns; h++) {
            aw_psrc *ps = &p->srcs[aw_source_index(hits[h])];
            ps->rules[ps->nrules++] = pr;
            ps->keywords |= kw;
        }
        if (r->nsearch > p->max_search)
            p->max_search = r->nsearch;
        for (size_t f = 0; f < pr->nfilters; f++)
            if (pr->filters[f]->nsearch > p->max_search)
                p->max_search = pr->filters[f]->nsearch;
    }
    free(hits);
    free(filters);
    const char *nd = getenv("AUPWATCH_NO_DISPATCH");
    p->no_dispatch = (opts && opts->no_dispatch) || (nd && *nd && strcmp(nd, "0") != 0);
    for (size_t s = 0; s < ns; s++) {
        if (p->no_dispatch) {
            p->srcs[s].always = aw_xcalloc(p->srcs[s].nrules ? p->srcs[s].nrules : 1, sizeof(aw_prule *));
            memcpy(p->srcs[s].always, p->srcs[s].rules, p->srcs[s].nrules * sizeof(aw_prule *));
            p->srcs[s].nalways = p->srcs[s].nrules;
        } else {
            aw_dispatch_build(&p->srcs[s], p->nfields);
        }
    }
    for (size_t s = 0; s < ns; s++)
        for (size_t i = 0; i < p->srcs[s].nalways; i++) {
            const aw_prule *pr = p->srcs[s].always[i];
            p->srcs[s].pf_weight += 1 + keyword_values(pr->rule);
            for (size_t f = 0; f < pr->nfilters; f++)
                p->srcs[s].pf_weight += keyword_values(pr->filters[f]);
        }
    p->pf_min_rules = opts && opts->prefilter_min_rules > 0 ? (size_t)opts->prefilter_min_rules : 24;
    /* AUPWATCH_PF_MIN_RULES=1: the prefilter on every event (tests run
     * SigmaHQ's regression cases so, one rule at a time: small literal
     * databases, which no full rule set builds) */
    const char *pm = getenv("AUPWATCH_PF_MIN_RULES");
    if (pm && *pm && !(opts && opts->prefilter_min_rules > 0)) {
        long v = strtol(pm, NULL, 10);
        if (v > 0)
            p->pf_min_rules = (size_t)v;
    }
    p->compile_threads = opts ? opts->compile_threads : 0;
    if (!p->no_dispatch && !(opts && opts->no_prefilter))
        p->pf = aw_prefilter_build(p, diag, ud);
    aw_prefilter_postings(p);
    return p;
}

void aw_plan_free(aw_plan *p)
{
    if (!p)
        return;
    for (size_t s = 0; s < p->nsrc; s++) {
        free(p->srcs[s].paths);
        free(p->srcs[s].npaths);
        free(p->srcs[s].res);
        free(p->srcs[s].pfkeys);
        free(p->srcs[s].rules);
        free(p->srcs[s].nopf);
        free(p->srcs[s].pffields);
        free(p->srcs[s].lite_fields);
        free(p->srcs[s].lite_base);
        aw_dispatch_free(&p->srcs[s]);
    }
    for (size_t i = 0; i < p->rs->nrules; i++) {
        free(p->prules[i].filters);
        free(p->prules[i].lits);
        free(p->prules[i].clause_end);
        free(p->prules[i].alw);
    }
    free(p->post_start);
    free(p->post);
    free(p->pfc_off);
    free(p->pfc);
    aw_prefilter_free(p->pf);
    free(p->srcs);
    free(p->prules);
    free(p);
}

size_t aw_plan_rule_count(const aw_plan *p) { return p->nactive; }
const aw_mapping *aw_plan_mapping(const aw_plan *p) { return p->map; }
size_t aw_plan_field_count(const aw_plan *p) { return p->nfields; }
const char *aw_plan_field(const aw_plan *p, size_t i) { return i < p->nfields ? p->rs->fields[i] : NULL; }
size_t aw_plan_correlation_count(const aw_plan *p) { return p->ncorr; }
const char *aw_plan_literal_scan(const aw_plan *p) { return p->pf ? aw_prefilter_scanner() : "off"; }

/* Can a lookup of `path` (a resolved field path) reach the member named
 * `name`: the same, one a prefix of the other at a '.', or a path with a
 * "*" segment (which may match anything). A superset: it only decides
 * what is computed, never what matches. */
static bool path_reaches(const char *path, const char *name)
{
    size_t a = strlen(path), b = strlen(name), k = a < b ? a : b;
    if (strncmp(path, name, k) == 0 && (a == b || (a < b ? name[a] : path[b]) == '.'))
        return true;
    return strcmp(path, "*") == 0 || strncmp(path, "*.", 2) == 0 || strstr(path, ".*") != NULL;
}

static bool resolves_to(const aw_source *src, const char *field, const char *name)
{
    const char *const *paths;
    size_t np = aw_source_resolve(src, field, &paths);
    for (size_t i = 0; i < np; i++)
        if (path_reaches(paths[i], name))
            return true;
    return false;
}

/* (The reference path, AUPWATCH_NO_DISPATCH, computes them all: the
 * differential test holds its alerts against the fast path's.) */
bool aw_plan_reads(const aw_plan *p, size_t source, const char *name)
{
    if (source >= p->nsrc || p->no_dispatch)
        return true;
    const aw_psrc *ps = &p->srcs[source];
    if (ps->keywords)
        return true;
    for (size_t f = 0; f < p->nfields; f++)
        for (size_t i = 0; i < ps->npaths[f]; i++)
            if (path_reaches(ps->paths[f][i], name))
                return true;
    /* correlations read their group-by and value fields from the events
     * of the rules they reference, whichever source those came from */
    for (size_t i = 0; i < p->rs->nrules; i++) {
        const aw_rule *r = p->rs->rules[i];
        if (r->kind != AW_RULE_CORRELATION || !p->prules[i].corr_ok)
            continue;
        const aw_corr *c = r->corr;
        for (size_t k = 0; k < c->ngroup; k++)
            if (resolves_to(ps->src, c->group_by[k], name))
                return true;
        for (size_t k = 0; k < c->ncond_fields; k++)
            if (resolves_to(ps->src, c->cond_fields[k], name))
                return true;
        for (size_t a = 0; a < c->naliases; a++)
            for (size_t k = 0; k < c->aliases[a].n; k++)
                if (resolves_to(ps->src, c->aliases[a].fields[k], name))
                    return true;
    }
    return false;
}

int aw_plan_has_rule(const aw_plan *p, const aw_rule *r)
{
    if (r->index >= p->rs->nrules || p->rs->rules[r->index] != r)
        return 0;
    const aw_prule *pr = &p->prules[r->index];
    return r->kind == AW_RULE_CORRELATION ? pr->corr_ok : pr->active;
}
