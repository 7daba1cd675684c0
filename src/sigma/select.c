/* select.c - which rules an event is evaluated against, in rule-set
 * order: per log source of the event, the rules dispatched under its
 * values (dispatch.c), and those in `always` that the literal
 * prefilter did not rule out (prefilter.c; when it is off for the
 * event, the `always` rules are still checked against the literals of
 * their own fields, scanned alone); each is then confirmed exactly by
 * match.c. Scans made for one source are replayed for the next source
 * reading the same values. */
#include <math.h>
#include <string.h>

#include "sigma/match_int.h"
#include "util/digits.h"

#define MAX_SOURCES_PER_EVENT 64
#define PREFETCH_LINES 4        /* of the next rule's block: condition, searches, first items */

/* Candidates from the dispatch index: rules whose required literal
 * equals (case-insensitively) a value of the dispatch field. They are
 * marked in a bitmap by rule index and listed from it, so alerts come
 * out in rule-set order without sorting: the plan's prules are indexed
 * by rule index, so their addresses are in that order and the hot loops
 * below never load the rule to learn its index. */

static inline size_t rule_index(const aw_matcher *m, const aw_prule *pr)
{
    return (size_t)(pr - m->p->prules);
}

/* Mark rule ri a candidate; 1 if it was not yet. */
static inline int cand_mark_index(aw_matcher *m, size_t ri)
{
    uint64_t bit = 1ull << (ri & 63);
    if (m->cbits[ri >> 6] & bit)
        return 0;
    m->cbits[ri >> 6] |= bit;
    return 1;
}

static inline int cand_mark(aw_matcher *m, const aw_prule *pr)
{
    return cand_mark_index(m, rule_index(m, pr));
}

/* With the prefilter on, the `always` rules that have literals are not
 * walked one by one: the literals found lead to them (postings). */
static size_t posted(aw_matcher *m, const aw_psrc *ps, size_t n)
{
    uint64_t s = aw_source_index(ps->src);
    const uint64_t *post = m->p->post;
    for (size_t f = 0; f < m->pfh.nfound; f++) {
        uint32_t id = m->pfh.found[f];
        for (uint32_t k = m->p->post_start[id]; k < m->p->post_start[id + 1]; k++)
            if (post[k] >> 32 == s && cand_mark_index(m, (uint32_t)post[k]))
                n++;
    }
    return n;
}

/* The rules bucketed under value s[0..len) join the candidates (kept
 * in rule-set order, each once). */
static size_t bucket_take(aw_matcher *m, const aw_dindex *x, const char *s, size_t len, size_t n)
{
    if (len < x->minlen || len > x->maxlen)
        return n;
    const aw_dbucket *b = &x->buckets[aw_dispatch_hash(s, len) & (x->nbuckets - 1)];
    for (size_t k = 0; k < b->n; k++) {
        const aw_dentry *e = &b->e[k];
        if (e->litn == len && strncasecmp(e->lit, s, len) == 0 && cand_mark(m, e->rule))
            n++;
    }
    return n;
}

/* The candidates marked, into m->cand in rule-set order (the bitmap is
 * left clear). */
static size_t cand_list(aw_matcher *m, size_t n)
{
    size_t k = 0;
    for (size_t w = 0; k < n; w++) {
        for (uint64_t b = m->cbits[w]; b; b &= b - 1)
            m->cand[k++] = &m->p->prules[w * 64 + (size_t)__builtin_ctzll(b)];
        m->cbits[w] = 0;
    }
    return n;
}

static size_t candidates(aw_matcher *m, const aw_psrc *ps)
{
    size_t n = 0;
    for (size_t x = 0; x < ps->ndidx; x++) {
        const aw_dindex *dx = &ps->didx[x];
        const fcache *c = aw_match_field(m, dx->field);
        for (uint32_t i = 0; i < c->count; i++) {
            const aw_jnode *v = m->vals[c->start + i];
            const char *s = NULL;
            size_t len = 0;
            if (aw_match_node_text(m, v, &s, &len))
                n = bucket_take(m, dx, s, len, n);
            /* a number is also looked up as its integer value: rules compare
             * numbers by value (4688 = 4688.0 = 4.688e3; dispatch.c) */
            if (v->type == AW_JNUM && fabs(v->num) < 1e15 && v->num == (double)(long long)v->num) {
                char num[32];
                size_t k = aw_i64_text(num, (int64_t)v->num);   /* not snprintf: its parsing cost more */
                if (!s || k != len || memcmp(num, s, k) != 0)
                    n = bucket_take(m, dx, num, k, n);
            }
        }
    }
    if (m->pf_on && m->p->post)
        n = posted(m, ps, n);
    return cand_list(m, n);
}

/* The scan under `key` was made earlier in this event (for another
 * source reading the same values): set the literals it found again.
 * Returns false if it was not; the caller scans, then calls remember(). */
static bool replay(aw_matcher *m, uint32_t key)
{
    if (m->pk_stamp[key] != m->gen)
        return false;
    for (uint32_t i = m->pk_start[key], e = i + m->pk_n[key]; i < e; i++) {
        uint32_t id = m->evlits[i];
        m->litbits[id >> 6] |= 1ull << (id & 63);
        m->pfh.found[m->pfh.nfound++] = id;
    }
    return true;
}

/* Keep the literals found since pfh.nfound was `from` as the scan of key
 * (a key's literals are its field's: no other scan sets them). */
static void remember(aw_matcher *m, uint32_t key, size_t from)
{
    size_t n = m->pfh.nfound - from;
    aw_grow((void **)&m->evlits, &m->capevlits, m->nevlits + n, sizeof *m->evlits);
    for (size_t i = 0; i < n; i++)     /* mostly 0-3 ids: no memcpy call */
        m->evlits[m->nevlits + i] = m->pfh.found[from + i];
    m->pk_stamp[key] = m->gen;
    m->pk_start[key] = (uint32_t)m->nevlits;
    m->pk_n[key] = (uint32_t)n;
    m->nevlits += n;
}

/* Keyword literals: the raw record and the members derived after it;
 * or, if the record had \u escapes (the parser says: raw is the text
 * the document was parsed from), every scalar value (what keywords
 * match) unescaped, each followed by a quote (no keyword literal holds
 * one, so none spans two values), in one scan. */
static void scan_keywords(aw_matcher *m, const char *raw, size_t len)
{
    size_t n = aw_doc_count(m->doc), i = 0, used = 0;
    if (!aw_doc_had_u_escape(m->doc)) {
        aw_prefilter_scan(m->p->pf, m->hs, -1, raw, len, &m->pfh);
        i = aw_doc_parsed_count(m->doc);     /* derived members are not in raw */
    }
    for (; i < n; i++) {
        const aw_jnode *x = aw_doc_node(m->doc, i);
        if (x->type == AW_JARR || x->type == AW_JOBJ)
            continue;
        aw_grow((void **)&m->kwbuf, &m->kwcap, used + x->vlen + 1, 1);
        memcpy(m->kwbuf + used, x->val, x->vlen);
        used += x->vlen;
        m->kwbuf[used++] = '"';
    }
    aw_prefilter_scan(m->p->pf, m->hs, -1, m->kwbuf, used, &m->pfh);
}

/* Field f's values (m->src's), scanned for its literals into h. */
static void scan_field(aw_matcher *m, int f, aw_pfhits *h)
{
    const fcache *c = aw_match_field(m, f);
    for (uint32_t i = 0; i < c->count; i++) {
        const char *s;
        size_t n;
        if (aw_match_node_text(m, m->vals[c->start + i], &s, &n))
            aw_pfcache_scan(m->pfc, m->p->pf, m->hs, f, s, n, h);
    }
}

/* Literals present in the event, for the rules of source ps: the values
 * of each field they test, scanned for that field's literals (the
 * values the rules read, so no escape can hide a literal), and keyword
 * literals (scan_keywords). Scans made for an earlier source of the
 * event are replayed. */
static void prefilter(aw_matcher *m, const aw_psrc *ps, const char *raw, size_t len)
{
    /* reset only the words set last time (to the literals not scanned) */
    for (size_t i = 0; i < m->pfh.nfound; i++) {
        size_t w = m->pfh.found[i] >> 6;
        m->litbits[w] = m->litbase[w];
    }
    m->pfh.nfound = 0;
    for (size_t k = 0; k < ps->npffields; k++) {
        if (replay(m, ps->pfkeys[k]))
            continue;
        size_t from = m->pfh.nfound;
        scan_field(m, ps->pffields[k], &m->pfh);
        remember(m, ps->pfkeys[k], from);
    }
    if (ps->pfkw && !replay(m, (uint32_t)m->p->npfkeys)) {
        size_t from = m->pfh.nfound;
        scan_keywords(m, raw, len);
        remember(m, (uint32_t)m->p->npfkeys, from);
    }
}

/* Every clause of rule ri has a literal set in bits (found, or not
 * looked for; aw_prefilter_postings). */
static inline __attribute__((always_inline)) bool clauses_met(const aw_matcher *m, const uint64_t *bits, size_t ri)
{
    uint32_t off = m->p->pfc_off ? m->p->pfc_off[ri] : 0;
    if (!off)
        return true;
    const uint64_t *c = m->p->pfc + off;
    for (uint64_t k = 0, nc = *c++; k < nc; k++) {
        uint64_t nw = *c++;
        bool found = false;
        for (uint64_t j = 0; j < nw && !found; j++)
            found = (bits[c[2 * j]] & c[2 * j + 1]) != 0;
        if (!found)
            return false;
        c += 2 * nw;
    }
    return true;
}

static bool pf_pass(const aw_matcher *m, size_t ri)
{
    return !m->pf_on || clauses_met(m, m->litbits, ri);
}

/* With the prefilter off: the values of the fields of source ps's
 * `always` rules' clauses alone, scanned into lbits (aw_psrc.lite_*). */
static void lite_scan(aw_matcher *m, const aw_psrc *ps)
{
    if (m->lsrc == ps) {        /* reset only the words the last scan set */
        for (size_t i = 0; i < m->lfh.nfound; i++) {
            size_t w = m->lfh.found[i] >> 6;
            m->lbits[w] = ps->lite_base[w];
        }
    } else {
        memcpy(m->lbits, ps->lite_base, m->nwords * sizeof *m->lbits);
        m->lsrc = ps;
    }
    m->lfh.nfound = 0;
    for (size_t k = 0; k < ps->nlite; k++)
        scan_field(m, ps->lite_fields[k], &m->lfh);
}

size_t aw_matcher_eval(aw_matcher *m, const aw_doc *d, aw_hit_fn fn, void *ud)
{
    return aw_matcher_eval_raw(m, d, NULL, 0, fn, ud);
}

size_t aw_matcher_eval_raw(aw_matcher *m, const aw_doc *d, const char *raw, size_t len, aw_hit_fn fn,
                           void *ud)
{
    const aw_source *cls[MAX_SOURCES_PER_EVENT];
    size_t nc = aw_mapping_classify(m->p->map, d, cls, MAX_SOURCES_PER_EVENT);
    if (nc > MAX_SOURCES_PER_EVENT)
        nc = MAX_SOURCES_PER_EVENT;
    return aw_matcher_eval_sources(m, d, raw, len, cls, nc, fn, ud);
}

size_t aw_matcher_eval_sources(aw_matcher *m, const aw_doc *d, const char *raw, size_t len,
                               const aw_source *const *cls, size_t nc, aw_hit_fn fn, void *ud)
{
    size_t hits = 0;
    if (++m->evstamp == 0) {
        memset(m->fired, 0, m->p->rs->nrules * sizeof *m->fired);
        memset(m->fstamp, 0, m->fnodes * sizeof *m->fstamp);
        m->evstamp = 1;
    }
    m->fused = 0;
    m->n_events++;
    aw_match_begin_event(m, d);
    /* The literal scan pays off only when many rules would otherwise be
     * evaluated (keyword values weigh more): with dispatch, a source's
     * bucketed rules are few. */
    size_t many = 0;
    for (size_t s = 0; s < nc; s++)
        many += m->p->srcs[aw_source_index(cls[s])].pf_weight;
    bool pf = many >= m->p->pf_min_rules && raw && m->litbits;
    for (size_t s = 0; s < nc; s++) {
        const aw_psrc *ps = &m->p->srcs[aw_source_index(cls[s])];
        if (!ps->nrules)
            continue;
        m->src = ps;
        m->pf_on = pf;
        bool lite = !pf && ps->nlite && m->lbits;
        if (pf)
            prefilter(m, ps, raw, len);
        else if (lite)
            lite_scan(m, ps);
        size_t nd = candidates(m, ps), ia = 0, id = 0;
        aw_prule *const *all = ps->always;
        size_t nall = ps->nalways;
        if (m->pf_on && m->p->post) {       /* the others came as candidates */
            all = ps->nopf;
            nall = ps->nnopf;
        }
        /* merge the rules always run and the candidates, both in rule-set
         * order, keeping those the literals found let through */
        size_t ne = 0;
        while (ia < nall || id < nd) {
            const aw_prule *pr;
            bool always = id == nd || (ia < nall && all[ia] < m->cand[id]);
            pr = always ? all[ia++] : m->cand[id++];
            size_t ri = rule_index(m, pr);
            if (m->fired[ri] == m->evstamp)
                continue;
            m->n_considered++;
            if (!pf_pass(m, ri) || (lite && always && !clauses_met(m, m->lbits, ri)))
                continue;
            m->eval[ne++] = pr;
            __builtin_prefetch(pr->rule);
        }
        m->n_evaluated += ne;
        /* A rule's compiled nodes are cold (3,000 rules): each one's first
         * lines are fetched while the one before it is evaluated. They are
         * one block that starts at the condition (aw_rule_pack), so its
         * first lines hold the condition, the searches and the first
         * conjunctions and items, without loads to find them. */
        for (size_t k = 0; k < ne; k++) {
            const aw_prule *pr = m->eval[k];
            size_t ri = rule_index(m, pr);
            if (k + 1 < ne) {
                const char *nx = (const char *)m->eval[k + 1]->rule->cond;
                for (size_t i = 0; i < PREFETCH_LINES; i++)
                    __builtin_prefetch(nx + 64 * i);
            }
            if (!aw_match_prule(m, pr))
                continue;
            m->fired[ri] = m->evstamp;
            hits++;
            aw_hit h = {pr->rule, ps->src, pr->correlation_only};
            if (fn && fn(ud, &h))
                return hits;
        }
    }
    return hits;
}
