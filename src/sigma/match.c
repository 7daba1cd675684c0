/* match.c - the matcher, and one rule against the current event.
 *
 * Field values are looked up lazily, once per event for all the sources
 * that read them through the same paths, and cached in the matcher;
 * the cache, the keyword leaf list and the per-rule search results are
 * reused between events, so a warm matcher does not allocate. Which
 * rules an event meets is select.c's business. */
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sigma/match_int.h"

#define RJP_END ((aw_jpath *)(uintptr_t)1)      /* ends a list of m->rjp */

aw_matcher *aw_matcher_new(const aw_plan *p)
{
    aw_matcher *m = aw_xcalloc(1, sizeof *m);
    m->p = p;
    m->fc = aw_xcalloc(p->nres ? p->nres : 1, sizeof *m->fc);
    m->rjp = aw_xcalloc(p->nres ? p->nres : 1, sizeof *m->rjp);
    if (aw_fgroup_enabled()) {
        m->rgroup = aw_xmalloc((p->nres ? p->nres : 1) * sizeof *m->rgroup);
        for (size_t i = 0; i < p->nres; i++)
            m->rgroup[i] = FG_UNSEEN;
        m->rseen = aw_xcalloc(p->nres ? p->nres : 1, sizeof *m->rseen);
    }
    m->fired = aw_xcalloc(p->rs->nrules ? p->rs->nrules : 1, sizeof *m->fired);
    m->cand = aw_xcalloc(p->rs->nrules ? p->rs->nrules : 1, sizeof *m->cand);
    m->eval = aw_xcalloc(p->rs->nrules ? p->rs->nrules : 1, sizeof *m->eval);
    m->cbits = aw_xcalloc(p->rs->nrules / 64 + 1, sizeof *m->cbits);
    m->sres = aw_xcalloc(p->max_search ? p->max_search : 1, 1);
    m->md = pcre2_match_data_create(1, NULL);
    m->scap = 4096;
    m->scratch = aw_xmalloc(m->scap);
    if (p->pf && aw_prefilter_scratch(p->pf, &m->hs) == AW_OK) {
        m->nwords = (aw_prefilter_count(p->pf) + 63) / 64;
        m->litbase = aw_prefilter_unscanned(p->pf);
        m->litbits = aw_xmalloc((m->nwords ? m->nwords : 1) * sizeof *m->litbits);
        memcpy(m->litbits, m->litbase, m->nwords * sizeof *m->litbits);
        m->pfh.bits = m->litbits;
        m->pfh.found = aw_xcalloc(aw_prefilter_count(p->pf), sizeof *m->pfh.found);
        m->lbits = aw_xmalloc((m->nwords ? m->nwords : 1) * sizeof *m->lbits);
        m->lfh.bits = m->lbits;
        m->lfh.found = aw_xcalloc(aw_prefilter_count(p->pf), sizeof *m->lfh.found);
        m->pk_stamp = aw_xcalloc(p->npfkeys + 1, sizeof *m->pk_stamp);
        m->pk_start = aw_xcalloc(p->npfkeys + 1, sizeof *m->pk_start);
        m->pk_n = aw_xcalloc(p->npfkeys + 1, sizeof *m->pk_n);
        m->pfc = aw_pfcache_new();
    }
    return m;
}

void aw_matcher_counts_add(const aw_matcher *m, aw_matcher_counts *sum)
{
    sum->events += m->n_events;
    sum->considered += m->n_considered;
    sum->evaluated += m->n_evaluated;
    uint64_t lookups, hits;
    aw_pfcache_counts(m->pfc, &lookups, &hits);
    sum->value_lookups += lookups;
    sum->value_hits += hits;
    sum->group_walks += m->n_walks;
}

void aw_matcher_free(aw_matcher *m)
{
    if (!m)
        return;
    if (getenv("AUPWATCH_DEBUG_PREFILTER") && m->n_events)
        fprintf(stderr, "matcher: %llu events, %.1f rules considered and %.1f evaluated per event\n",
                (unsigned long long)m->n_events, (double)m->n_considered / (double)m->n_events,
                (double)m->n_evaluated / (double)m->n_events);
    for (size_t i = 0; i < m->p->nres; i++)
        if (m->rjp[i]) {
            for (aw_jpath **j = m->rjp[i]; *j != RJP_END; j++)
                aw_jpath_free(*j);
            free(m->rjp[i]);
        }
    free(m->rjp);
    free(m->rgroup);
    free(m->rseen);
    aw_fgroup_free_all(m->fg, m->nfg);
    free(m->fc);
    free(m->fired);
    free(m->cand);
    free(m->eval);
    free(m->cbits);
    free(m->litbits);
    free(m->pfh.found);
    free(m->lbits);
    free(m->lfh.found);
    free(m->pk_stamp);
    free(m->pk_start);
    free(m->pk_n);
    free(m->evlits);
    free(m->kwbuf);
    free(m->fstamp);
    free(m->foff);
    free(m->fbuf);
    free(m->ftmp);
    if (m->hs)
        hs_free_scratch(m->hs);
    aw_pfcache_free(m->pfc);
    free(m->sres);
    free(m->vals);
    free(m->scratch);
    pcre2_match_data_free(m->md);
    free(m);
}

/* ---- field values ------------------------------------------------------------- */

int aw_match_collect(const aw_doc *d, const aw_jnode *n, void *ud)
{
    aw_matcher *m = ud;
    (void)d;
    aw_grow((void **)&m->vals, &m->capvals, m->nvals, sizeof *m->vals);
    m->vals[m->nvals++] = n;
    return 0;
}

/* The compiled paths of resolution id res (paths[0..n)), made at its
 * first use, as pairs: j[2i] is path i compiled; a "*" path stays text
 * (NULL) and j[2i + 1] is then the path of the whole segments before
 * its first "*" (`Event.UserData` of `Event.UserData.*.CommandLine`),
 * or NULL: where that plainly leads to no object, the "*" path reaches
 * nothing either, and its text walk (~400 instructions) is skipped; a
 * Sysmon event has no UserData and reads two such paths. Ends with
 * RJP_END. */
static aw_jpath **compiled(aw_matcher *m, uint32_t res, const char *const *paths, size_t n)
{
    if (!m->rjp[res]) {
        aw_jpath **j = aw_xcalloc(2 * n + 1, sizeof *j);
        for (size_t i = 0; i < n; i++) {
            const char *star = strchr(paths[i], '*');
            if (!star) {
                j[2 * i] = aw_jpath_new(paths[i], strlen(paths[i]));
                continue;
            }
            const char *dot = star;
            while (dot > paths[i] && *dot != '.')
                dot--;
            if (dot > paths[i])
                j[2 * i + 1] = aw_jpath_new(paths[i], (size_t)(dot - paths[i]));
        }
        j[2 * n] = RJP_END;
        m->rjp[res] = j;
    }
    return m->rjp[res];
}

/* (match_int.h) */
const fcache *aw_match_field(aw_matcher *m, int fid)
{
    uint32_t res = m->src->res[fid];
    fcache *c = &m->fc[res];
    if (c->gen == m->gen)
        return c;
    size_t from = 0;
    if (m->rgroup && m->rgroup[res] != -1 && m->src->npaths[fid] &&
        aw_fgroup_lookup(m, res, m->src->paths[fid][0])) {
        if (c->gen == m->gen)
            return c;
        from = 1;                       /* its group's object holds no value of it */
    }
    c->gen = m->gen;
    c->start = (uint32_t)m->nvals;
    aw_jpath **jp = compiled(m, res, m->src->paths[fid], m->src->npaths[fid]);
    for (size_t i = from; i < m->src->npaths[fid]; i++) {
        const char *path = m->src->paths[fid][i];
        const aw_jnode *obj;
        if (jp[2 * i])
            aw_jpath_each(m->doc, jp[2 * i], aw_match_collect, m);
        else if (!jp[2 * i + 1] || aw_jpath_plain_object(m->doc, jp[2 * i + 1], &obj) != 0)
            aw_mapping_path_each(m->doc, path, strlen(path), aw_match_collect, m);
        if (m->nvals > c->start)
            break;
    }
    c->count = (uint32_t)(m->nvals - c->start);
    c->present = c->count > 0;
    return c;
}

static void leaves(aw_matcher *m, uint32_t *start, uint32_t *count)
{
    if (m->leaves_gen != m->gen) {
        m->leaves_gen = m->gen;
        m->leaves_start = (uint32_t)m->nvals;
        aw_json_leaves_each(m->doc, aw_match_collect, m);
        m->leaves_count = (uint32_t)(m->nvals - m->leaves_start);
    }
    *start = m->leaves_start;
    *count = m->leaves_count;
}

/* (match_int.h) */
bool aw_match_node_text(aw_matcher *m, const aw_jnode *n, const char **s, size_t *len)
{
    switch (n->type) {
    case AW_JSTR:
    case AW_JNUM:
    case AW_JTRUE:
    case AW_JFALSE:
        *s = n->val;
        *len = n->vlen;
        return true;
    case AW_JOBJ:
    case AW_JARR: {
        size_t need = aw_json_compact(m->doc, n, m->scratch, m->scap);
        if (need >= m->scap) {
            m->scap = need + 1;
            m->scratch = aw_xrealloc(m->scratch, m->scap);
            aw_json_compact(m->doc, n, m->scratch, m->scap);
        }
        *s = m->scratch;
        *len = need;
        return true;
    }
    default:
        return false;
    }
}

/* Lower-cased text of node n (whose text is s[0..len)), cached for the
 * event. Offsets, not pointers, are cached: fbuf may move as it grows. */
static const char *node_folded(aw_matcher *m, const aw_jnode *n, const char *s, size_t len)
{
    if (n->type == AW_JOBJ || n->type == AW_JARR) {   /* compact text lives in scratch */
        if (len + 1 > m->ftcap) {
            m->ftcap = len + 1;
            m->ftmp = aw_xrealloc(m->ftmp, m->ftcap);
        }
        aw_fold_ascii(m->ftmp, s, len);
        return m->ftmp;
    }
    uint32_t idx = aw_doc_index(m->doc, n);
    if (idx >= m->fnodes) {
        size_t nn = idx + 1 > 2 * m->fnodes ? idx + 1 : 2 * m->fnodes;
        m->fstamp = aw_xrealloc(m->fstamp, nn * sizeof *m->fstamp);
        m->foff = aw_xrealloc(m->foff, nn * sizeof *m->foff);
        memset(m->fstamp + m->fnodes, 0, (nn - m->fnodes) * sizeof *m->fstamp);
        m->fnodes = nn;
    }
    if (m->fstamp[idx] != m->evstamp) {
        if (m->fused + len + 1 > m->fcap) {
            m->fcap = (m->fused + len + 1) * 2;
            m->fbuf = aw_xrealloc(m->fbuf, m->fcap);
        }
        aw_fold_ascii(m->fbuf + m->fused, s, len);
        m->foff[idx] = (uint32_t)m->fused;
        m->fused += len + 1;
        m->fstamp[idx] = m->evstamp;
    }
    return m->fbuf + m->foff[idx];
}

static bool node_number(const aw_jnode *n, double *v)
{
    if (n->type == AW_JNUM) {
        *v = n->num;
        return true;
    }
    if (n->type != AW_JSTR || n->vlen == 0 || n->vlen > 64)
        return false;
    char buf[72], *end;
    memcpy(buf, n->val, n->vlen);
    buf[n->vlen] = 0;
    *v = strtod(buf, &end);
    return *end == 0 && isfinite(*v);
}

static bool timepart(const aw_jnode *n, aw_tpart part, double *out)
{
    int64_t ns;
    double num;
    if (n->type == AW_JSTR) {
        if (aw_time_parse(n->val, n->vlen, &ns) != AW_OK)
            return false;
    } else if (node_number(n, &num)) {
        ns = (int64_t)(num > 1e11 ? num * 1e6 : num * 1e9);   /* ms or s */
    } else {
        return false;
    }
    time_t t = (time_t)(ns / 1000000000);
    if (ns < 0 && ns % 1000000000)
        t--;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return false;
    switch (part) {
    case TP_MINUTE: *out = tm.tm_min; break;
    case TP_HOUR: *out = tm.tm_hour; break;
    case TP_DAY: *out = tm.tm_mday; break;
    case TP_MONTH: *out = tm.tm_mon + 1; break;
    case TP_YEAR: *out = tm.tm_year + 1900; break;
    case TP_WEEK: {
        char b[8];
        strftime(b, sizeof b, "%V", &tm);
        *out = atoi(b);
        break;
    }
    }
    return true;
}

static bool fold_eq(const char *a, const char *b, size_t n, bool cased)
{
    return cased ? memcmp(a, b, n) == 0 : strncasecmp(a, b, n) == 0;
}

static bool fieldref(aw_matcher *m, const aw_leaf *l, const char *s, size_t n)
{
    const fcache *c = aw_match_field(m, l->ref_field);
    for (uint32_t i = 0; i < c->count; i++) {
        const aw_jnode *o = m->vals[c->start + i];
        if (o->type == AW_JOBJ || o->type == AW_JARR || o->type == AW_JNULL)
            continue;
        const char *t = o->val;
        size_t tn = o->vlen;
        switch (l->frmode) {
        case FR_EQ:
            if (n == tn && fold_eq(s, t, n, l->cased))
                return true;
            break;
        case FR_PREFIX:
            if (n >= tn && fold_eq(s, t, tn, l->cased))
                return true;
            break;
        case FR_SUFFIX:
            if (n >= tn && fold_eq(s + n - tn, t, tn, l->cased))
                return true;
            break;
        case FR_CONTAINS:
            for (size_t k = 0; k + tn <= n; k++)
                if (fold_eq(s + k, t, tn, l->cased))
                    return true;
            break;
        }
    }
    return false;
}

/* Whether n is a scalar of the record's own text (not an object, whose
 * text is compacted, nor a member derived after parsing). */
static bool parsed_scalar(const aw_matcher *m, const aw_jnode *n)
{
    return n->type != AW_JOBJ && n->type != AW_JARR && aw_doc_index(m->doc, n) < aw_doc_parsed_count(m->doc);
}

static bool leaf_match(aw_matcher *m, const aw_leaf *l, const aw_jnode *n)
{
    const char *s;
    size_t len;
    double v = 0;
    switch (l->kind) {
    case LM_GLOB:
        if (l->is_num && n->type == AW_JNUM)
            return n->num == l->num;
        /* the value's literal is not in the record: it cannot match */
        if (m->pf_on && l->lit_id && !LIT_FOUND(m, l->lit_id))
            return false;
        if (!aw_match_node_text(m, n, &s, &len))
            return false;
        return l->cased ? aw_glob_match(l, s, len) : aw_glob_match_fold(l, s, node_folded(m, n, s, len), len);
    case LM_RE:
        if (m->pf_on && l->lit_id && !LIT_FOUND(m, l->lit_id))
            return false;               /* a run every match contains is absent */
        if (!aw_match_node_text(m, n, &s, &len))
            return false;
        /* not scanned for, look for that run (folded: a superset) */
        if (l->litn && !(m->pf_on && l->lit_id && LIT_SCANNED(m, l->lit_id)) &&
            !aw_memfind(node_folded(m, n, s, len), len, l->lit, l->litn))
            return false;
        /* the parser let only valid UTF-8 into the record's scalars:
         * PCRE2 need not check it again (an O(n) pass per match) */
        return pcre2_match(l->re, (PCRE2_SPTR)s, len, 0, parsed_scalar(m, n) ? PCRE2_NO_UTF_CHECK : 0, m->md,
                           NULL) >= 0;
    case LM_CIDR:
        return n->type == AW_JSTR && aw_cidr_match(&l->cidr, n->val, n->vlen);
    case LM_CMP:
        if (!node_number(n, &v))
            return false;
        switch (l->op) {
        case CMP_LT: return v < l->num;
        case CMP_LTE: return v <= l->num;
        case CMP_GT: return v > l->num;
        case CMP_GTE: return v >= l->num;
        }
        return false;
    case LM_TIMEPART:
        return timepart(n, l->part, &v) && v == l->num;
    case LM_FIELDREF:
        return n->type != AW_JOBJ && n->type != AW_JARR && n->type != AW_JNULL &&
               fieldref(m, l, n->val, n->vlen);
    case LM_NULL:
        return n->type == AW_JNULL;
    case LM_EXISTS:
        return false;
    }
    return false;
}

static void explain_value(aw_matcher *m, const aw_item *it, const aw_jnode *n)
{
    const char *s = "";
    size_t len = 0;
    char out[512];
    if (!m->xfn)
        return;
    if (n && !aw_match_node_text(m, n, &s, &len))
        s = "null", len = 4;
    aw_source_render(m->src->src, m->p->map, it->field >= 0 ? it->field_name : "", s, len, out, sizeof out);
    m->xfn(m->xud, m->xident, it->field >= 0 ? it->field_name : NULL, out);
}

static bool item_match(aw_matcher *m, const aw_item *it)
{
    uint32_t start, count;
    bool present;
    if (it->field < 0) {
        leaves(m, &start, &count);
        present = count > 0;
    } else {
        const fcache *c = aw_match_field(m, it->field);
        start = c->start, count = c->count, present = c->present;
    }
    bool result = it->all;
    const aw_jnode *hit = NULL;
    for (size_t g = 0; g < it->n; g++) {
        const aw_group *gr = &it->groups[g];
        bool gt = false;
        /* the value's only literal is not in the record: no leaf to try */
        bool gated = m->pf_on && it->glit[g] && !LIT_FOUND(m, it->glit[g]);
        for (size_t a = 0; a < gr->n && !gt && !gated; a++) {
            const aw_leaf *l = &gr->alts[a];
            if (l->kind == LM_EXISTS) {
                gt = present == l->want;
            } else if (m->pf_on && l->lit_whole && l->lit_id && LIT_SCANNED(m, l->lit_id)) {
                gt = LIT_FOUND(m, l->lit_id) != 0;  /* scanned in this field's values */
            } else if (l->kind == LM_NULL && count == 0) {
                gt = true;
            } else {
                for (uint32_t i = 0; i < count && !gt; i++)
                    if (leaf_match(m, l, m->vals[start + i])) {
                        gt = true;
                        hit = m->vals[start + i];
                    }
            }
        }
        if (it->all && !gt) {
            result = false;
            break;
        }
        if (!it->all && gt) {
            result = true;
            break;
        }
    }
    if (it->negate)
        result = !result;
    if (result && m->xfn)
        explain_value(m, it, it->negate ? (count ? m->vals[start] : NULL) : hit);
    return result;
}

static bool search_match(aw_matcher *m, const aw_search *s)
{
    for (size_t a = 0; a < s->n; a++) {
        const aw_conj *cj = &s->alts[a];
        bool ok = true;
        for (size_t i = 0; i < cj->n && ok; i++)
            ok = item_match(m, &cj->items[i]);
        if (ok)
            return true;
    }
    return false;
}

static bool cond_eval(aw_matcher *m, const aw_rule *r, const aw_cnode *c)
{
    switch (c->t) {
    case CN_REF:
        if (m->sres[c->ref] < 0)
            m->sres[c->ref] = search_match(m, &r->searches[c->ref]);
        return m->sres[c->ref];
    case CN_NOT:
        return !cond_eval(m, r, c->kids[0]);
    case CN_AND:
        for (size_t i = 0; i < c->n; i++)
            if (!cond_eval(m, r, c->kids[i]))
                return false;
        return true;
    case CN_OR:
        for (size_t i = 0; i < c->n; i++)
            if (cond_eval(m, r, c->kids[i]))
                return true;
        return false;
    }
    return false;
}

static bool rule_eval(aw_matcher *m, const aw_rule *r)
{
    memset(m->sres, 0xff, r->nsearch);
    return cond_eval(m, r, r->cond);
}

bool aw_match_prule(aw_matcher *m, const aw_prule *pr)
{
    if (!rule_eval(m, pr->rule))
        return false;
    for (size_t f = 0; f < pr->nfilters; f++)
        if (!rule_eval(m, pr->filters[f]))
            return false;
    return true;
}

/* (match_int.h) */
void aw_match_begin_event(aw_matcher *m, const aw_doc *d)
{
    m->doc = d;
    m->nvals = 0;
    m->nevlits = 0;
    if (++m->gen == 0) {        /* wrapped: invalidate every cache entry */
        memset(m->fc, 0, m->p->nres * sizeof *m->fc);
        if (m->pk_stamp)
            memset(m->pk_stamp, 0, (m->p->npfkeys + 1) * sizeof *m->pk_stamp);
        m->leaves_gen = 0;
        if (m->rseen)
            memset(m->rseen, 0, m->p->nres * sizeof *m->rseen);
        aw_fgroup_reset(m);
        m->gen = 1;
    }
}

static void explain_rule(aw_matcher *m, const aw_rule *r)
{
    for (size_t i = 0; i < r->nsearch; i++) {
        m->xident = r->searches[i].name;
        aw_explain_fn fn = m->xfn;
        m->xfn = NULL;                  /* only report identifiers that are true */
        bool t = search_match(m, &r->searches[i]);
        m->xfn = fn;
        if (t)
            search_match(m, &r->searches[i]);
    }
}

void aw_matcher_explain(aw_matcher *m, const aw_doc *d, const aw_hit *hit, aw_explain_fn fn, void *ud)
{
    const aw_prule *pr = &m->p->prules[hit->rule->index];
    aw_match_begin_event(m, d);
    m->src = &m->p->srcs[aw_source_index(hit->source)];
    /* the literal bits may be another source's: no gating here */
    bool pf_on = m->pf_on;
    m->pf_on = false;
    m->xfn = fn;
    m->xud = ud;
    explain_rule(m, hit->rule);
    for (size_t f = 0; f < pr->nfilters; f++)
        explain_rule(m, pr->filters[f]);
    m->xfn = NULL;
    m->pf_on = pf_on;
}
