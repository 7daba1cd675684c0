/* prefilter.c - skip rules whose required literals are not in the event.
 *
 * For every rule we derive a set of literals such that the rule can only
 * match an event in which at least one of them occurs (case-insensitively)
 * in the value of the field the literal came from. A literal belongs to
 * one field (the same text under two fields is two literals): each
 * field's literals form one Hyperscan database, and for each log source
 * the values of the fields its rules test are scanned with their
 * field's database (the values the rules will read: resolved through
 * the source's mapping, decoded, objects compacted). A bit is set per
 * literal found; a rule whose literals are all absent is not evaluated,
 * and a value whose literal is absent is not tried. Keyword literals
 * (no field) are looked for in the raw record. Only two clauses of a
 * rule are looked for (choose_scanned); the other literals count as
 * present, so their values are matched.
 *
 * Exactness. A field's literal is a run of bytes inside one literal
 * token of a rule value, looked for in exactly the text the value is
 * matched against, so any bytes may be in it. A keyword literal is
 * looked for in the raw record, so it is a run of bytes that a JSON
 * producer must write verbatim in a string: no quote, backslash, slash
 * (may be written \/) nor control byte. Keywords are matched against
 * scalar values only (numbers and booleans as written), never against
 * the compact form of an object, so : , { } [ ] in a keyword are bytes
 * of one value; in the raw record they can only add candidates. Members
 * derived after parsing are not in the raw record: they are scanned
 * too. A rule keeps its requirement as clauses (literal sets, all of which must
 * have one literal present): each positive item AND-ed in the condition
 * adds a clause. The one way a keyword literal's bytes can still be
 * hidden is a \uXXXX escape; a record containing "\u" is therefore
 * scanned key by key and value by value after unescaping instead of
 * raw. Derivation is conservative: only positive items, through AND/OR,
 * never NOT; a regular expression yields the run of bytes every match
 * contains, if it has one long enough (aw_re_run); numbers compared by
 * value, CIDR, comparisons and field references yield no literal, and
 * a rule without a literal set is always evaluated.
 *
 * The databases are compiled on compile_threads threads, the largest
 * first (the full SigmaHQ set: 197 databases in 290 ms, of which
 * CommandLine's 8,700 literals take 140). */
#include <dlfcn.h>
#include <hs/hs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigma/plan_int.h"

/* Shortest literal: three bytes; in a field's values (short and few),
 * two bytes when one is non-ASCII (a Cyrillic look-alike is rare in
 * most values; "-d" is in most command lines). */
#define PF_MIN_LIT 3
#define PF_MIN_FIELD_LIT 2
#define PF_MAX_PER_RULE 2048

struct aw_prefilter {
    hs_database_t **db;         /* per field id + 1; [0]: keyword literals */
    size_t ndb;
    size_t nlits;
    uint64_t *unscanned;        /* bit per literal in no database */
};

/* ---- the scan function ------------------------------------------------ */

/* Vectorscan 5.4.9 (Debian 12's libhs) misses literals in its AVX-512
 * code, which hs_scan runs on CPUs that have AVX-512: a match in a
 * buffer's last, partial 64-byte block is not reported once the buffer
 * is 68 bytes or longer (with two literals or more: ".exe" ending a
 * 79-byte path, among six extensions, is not found). A missed literal
 * is a missed alert, so hs_scan is tried once on such cases; if it
 * misses one, the library's AVX2 implementation (exported by its
 * multi-CPU build as avx2_hs_scan) is tried the same way and used; if
 * neither finds them all, the prefilter is not used. */
typedef hs_error_t (*scan_fn)(const hs_database_t *, const char *, unsigned, unsigned, hs_scratch_t *,
                              match_event_handler, void *);

static scan_fn pf_scan;                 /* NULL: no correct one (pf_scan_init) */
static const char *pf_scan_name = "none";
static char pf_scan_setup[200];         /* why the test itself could not run, or "" */
static pthread_once_t pf_scan_once = PTHREAD_ONCE_INIT;

static int count_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags;
    (*(unsigned *)ctx)++;
    return 0;
}

/* Whether fn finds a literal ending (or 6 bytes before the end of)
 * buffers of 4 to 300 bytes, with a database of six literals. */
static bool scan_finds_all(scan_fn fn)
{
    static const char *const lits[] = {".exe", ".com", ".dll", ".jar", ".ocx", ".pyc"};
    size_t lens[6] = {4, 4, 4, 4, 4, 4};
    unsigned flags[6], ids[6];
    for (unsigned i = 0; i < 6; i++)
        flags[i] = HS_FLAG_CASELESS, ids[i] = i;
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    hs_scratch_t *scratch = NULL;
    bool ok = hs_compile_lit_multi(lits, flags, ids, lens, 6, HS_MODE_BLOCK, NULL, &db, &err) == HS_SUCCESS &&
              hs_alloc_scratch(db, &scratch) == HS_SUCCESS;
    if (!ok)
        snprintf(pf_scan_setup, sizeof pf_scan_setup, "could not build its test database (%s)",
                 err && err->message ? err->message : "no scratch space");
    char buf[300];
    for (unsigned len = 4; ok && len <= sizeof buf; len++)
        for (unsigned back = 0; ok && back <= 6 && back + 4 <= len; back += 6) {
            unsigned n = 0;
            memset(buf, 'a', len);
            memcpy(buf + len - 4 - back, ".EXE", 4);
            ok = fn(db, buf, len, 0, scratch, count_match, &n) == HS_SUCCESS && n == 1;
        }
    hs_free_compile_error(err);
    hs_free_scratch(scratch);
    hs_free_database(db);
    return ok;
}

static void pf_scan_init(void)
{
    scan_fn avx2 = NULL;
    if (scan_finds_all(hs_scan)) {
        pf_scan = hs_scan;
        pf_scan_name = "hs_scan";
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx2"))
        *(void **)&avx2 = dlsym(RTLD_DEFAULT, "avx2_hs_scan");
#endif
    if (avx2 && scan_finds_all(avx2)) {
        pf_scan = avx2;
        pf_scan_name = "avx2_hs_scan";   /* hs_scan misses literals on this CPU */
    }
}

const char *aw_prefilter_scanner(void)
{
    pthread_once(&pf_scan_once, pf_scan_init);
    return pf_scan_name;
}

static bool scanned(const aw_prefilter *pf, uint32_t id)
{
    return !(pf->unscanned[id >> 6] & (1ull << (id & 63)));
}

static bool safe(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c != '/';
}

static bool rare_punct(char c)
{
    return c && strchr("^|;%&`~${}<>!#@+", c) != NULL;
}

/* (sigma_int.h) */
bool aw_two_byte_lit(const char *s)
{
    return (unsigned char)s[0] >= 0x80 || (unsigned char)s[1] >= 0x80 || (rare_punct(s[0]) && rare_punct(s[1]));
}

/* Longest run of the leaf's literal tokens: of PF_MIN_LIT or more safe
 * bytes when it is looked for in the raw record (`raw`: keywords); of
 * any bytes when it is looked for in the text the leaf is matched
 * against (a field's values, decoded, objects compacted as the matcher
 * does), PF_MIN_FIELD_LIT (two) if one is non-ASCII or both rare
 * punctuation. */
bool aw_leaf_literal(const aw_leaf *l, bool raw, const char **s, size_t *n)
{
    if (l->kind != LM_GLOB || l->is_num)
        return false;
    size_t best = 0;
    const char *bs = NULL;
    for (size_t t = 0; t < l->pat.n; t++) {
        const aw_tok *k = &l->pat.toks[t];
        if (k->t != TK_LIT)
            continue;
        size_t run = 0;
        for (size_t i = 0; i <= k->n; i++) {
            if (i < k->n && (!raw || safe((unsigned char)k->s[i]))) {
                run++;
                continue;
            }
            if (run > best) {
                best = run;
                bs = k->s + i - run;
            }
            run = 0;
        }
    }
    bool two = best == PF_MIN_FIELD_LIT && aw_two_byte_lit(bs);
    if (best < (!raw && two ? PF_MIN_FIELD_LIT : PF_MIN_LIT))
        return false;
    *s = bs;
    *n = best;
    return true;
}

/* A clause: the rule needs at least one of these literals. A CNF: the
 * rule needs every clause. AND adds clauses (more selective); OR and
 * the alternatives of a search fold into one clause made of the most
 * selective clause of each branch. */
typedef struct clause {
    uint32_t id[PF_MAX_PER_RULE];   /* literal ids of the rule set */
    size_t len[PF_MAX_PER_RULE];    /* their lengths (selectivity) */
    size_t cnt;
} clause;

#define PF_MAX_CLAUSES 8
typedef struct cnf {
    clause c[PF_MAX_CLAUSES];
    size_t n;
} cnf;

static bool add(clause *c, uint32_t id, size_t len)
{
    if (c->cnt == PF_MAX_PER_RULE)
        return false;
    c->id[c->cnt] = id;
    c->len[c->cnt++] = len;
    return true;
}

static bool merge(clause *into, const clause *from)
{
    for (size_t k = 0; k < from->cnt; k++)
        if (!add(into, from->id[k], from->len[k]))
            return false;
    return true;
}

/* Clauses are 24 KB: copied and started by their used part only (a
 * whole-struct copy or `= {0}` was most of loading 3,000 rules). */
static void clause_set(clause *to, const clause *from)
{
    to->cnt = 0;
    merge(to, from);
}

/* Selectivity of a clause: its shortest literal (longer is rarer). */
static size_t strength(const clause *c)
{
    size_t m = (size_t)-1;
    for (size_t i = 0; i < c->cnt; i++)
        if (c->len[i] < m)
            m = c->len[i];
    return c->cnt ? m : 0;
}

static const clause *best_clause(const cnf *f)
{
    const clause *b = NULL;
    for (size_t i = 0; i < f->n; i++)
        if (!b || strength(&f->c[i]) > strength(b))
            b = &f->c[i];
    return b;
}

/* Add a clause to a CNF; when full, keep the strongest. */
static void cnf_add(cnf *f, const clause *c)
{
    if (f->n < PF_MAX_CLAUSES) {
        clause_set(&f->c[f->n++], c);
        return;
    }
    size_t weakest = 0;
    for (size_t i = 1; i < f->n; i++)
        if (strength(&f->c[i]) < strength(&f->c[weakest]))
            weakest = i;
    if (strength(c) > strength(&f->c[weakest]))
        clause_set(&f->c[weakest], c);
}

static bool item_clause(const aw_ruleset *rs, const aw_item *it, clause *out)
{
    if (it->negate || it->n == 0)
        return false;
    clause *best = out, gs;
    bool have = false;
    best->cnt = 0;
    /* OR of groups: every alternative of every group needs a literal.
     * Under `all`, any single group's alternatives suffice. */
    for (size_t g = 0; g < it->n; g++) {
        bool ok = true;
        gs.cnt = 0;
        for (size_t a = 0; a < it->groups[g].n && ok; a++) {
            uint32_t id = it->groups[g].alts[a].lit_id;
            ok = id && add(&gs, id - 1, rs->litn[id - 1]);
        }
        if (it->all) {
            if (ok && (!have || strength(&gs) > strength(best))) {
                clause_set(best, &gs);
                have = true;
            }
        } else {
            if (!ok || !merge(best, &gs))
                return false;
            have = true;
        }
    }
    return have;
}

static void conj_cnf(const aw_ruleset *rs, const aw_conj *cj, cnf *out)
{
    out->n = 0;
    for (size_t i = 0; i < cj->n; i++) {
        clause c;
        if (item_clause(rs, &cj->items[i], &c))
            cnf_add(out, &c);
    }
}

/* OR of branches, distributed: every clause that takes one clause of
 * each branch (the OR of CNFs B1..Bn is the AND of those unions), when
 * there are at most PF_MAX_CLAUSES of them. A rule whose branches need
 * different things ("Image has \Windows\ and the command line has
 * \..\, or the command line has .exe\..\") keeps each need gated. */
static bool or_product(const cnf *branches, size_t n, cnf *out)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        if (!branches[i].n || (total *= branches[i].n) > PF_MAX_CLAUSES)
            return false;
    clause *acc = aw_xmalloc(sizeof *acc);
    out->n = 0;
    for (size_t k = 0; k < total; k++) {
        bool ok = true;
        acc->cnt = 0;
        for (size_t i = 0, r = k; i < n && ok; r /= branches[i].n, i++)
            ok = merge(acc, &branches[i].c[r % branches[i].n]);
        if (ok)
            cnf_add(out, acc);
    }
    free(acc);
    return out->n > 0;
}

/* OR of branches: the distributed clauses, or else one clause, the
 * union of each branch's best. */
static bool or_clause(const cnf *branches, size_t n, cnf *out)
{
    if (or_product(branches, n, out))
        return true;
    clause *acc = &out->c[0];
    out->n = 0;
    acc->cnt = 0;
    for (size_t i = 0; i < n; i++) {
        const clause *b = best_clause(&branches[i]);
        if (!b || !merge(acc, b))
            return false;
    }
    out->n = 1;
    return true;
}

static bool search_cnf(const aw_ruleset *rs, const aw_search *s, cnf *out)
{
    if (s->n == 1) {
        conj_cnf(rs, &s->alts[0], out);
        return out->n > 0;
    }
    cnf *br = aw_xmalloc(s->n * sizeof *br);  /* conj_cnf starts each */
    for (size_t a = 0; a < s->n; a++)
        conj_cnf(rs, &s->alts[a], &br[a]);
    bool ok = or_clause(br, s->n, out);
    free(br);
    return ok;
}

static bool cond_cnf(const aw_ruleset *rs, const aw_rule *r, const aw_cnode *c, cnf *out)
{
    out->n = 0;
    switch (c->t) {
    case CN_REF:
        return search_cnf(rs, &r->searches[c->ref], out);
    case CN_AND: {
        cnf *k = aw_xmalloc(sizeof *k);
        for (size_t i = 0; i < c->n; i++)
            if (cond_cnf(rs, r, c->kids[i], k))
                for (size_t j = 0; j < k->n; j++)
                    cnf_add(out, &k->c[j]);
        free(k);
        return out->n > 0;
    }
    case CN_OR: {
        cnf *br = aw_xmalloc(c->n * sizeof *br);  /* cond_cnf starts each */
        bool ok = true;
        for (size_t i = 0; i < c->n && ok; i++)
            ok = cond_cnf(rs, r, c->kids[i], &br[i]);
        ok = ok && or_clause(br, c->n, out);
        free(br);
        return ok;
    }
    case CN_NOT:
        return false;
    }
    return false;
}

/* One field's database: compiled by whichever thread takes it. */
typedef struct cjob {
    size_t f, from;                 /* pf->db[f], from lits[from] */
    unsigned n;
    hs_database_t *db;
    char *err;                      /* why it failed (owned), or NULL */
} cjob;

typedef struct cpool {
    cjob *jobs;
    size_t njobs;
    atomic_size_t next;
    const char **lits;
    const size_t *lens;
    const unsigned *flags, *ids;
} cpool;

static void *compile_jobs(void *arg)
{
    cpool *cp = arg;
    for (size_t i; (i = atomic_fetch_add(&cp->next, 1)) < cp->njobs;) {
        cjob *j = &cp->jobs[i];
        hs_compile_error_t *err = NULL;
        /* not HS_FLAG_SINGLEMATCH: on_match keeps each literal once
         * anyway, and Hyperscan's bookkeeping of exhausted literals cost
         * more than the repeated reports (Windows events: -5 % time) */
        if (hs_compile_lit_multi(cp->lits + j->from, cp->flags + j->from, cp->ids + j->from, cp->lens + j->from, j->n,
                                 HS_MODE_BLOCK, NULL, &j->db, &err) != HS_SUCCESS) {
            j->db = NULL;
            j->err = aw_xstrdup(err && err->message ? err->message : "unknown error");
        }
        hs_free_compile_error(err);     /* NULL-safe */
    }
    return NULL;
}

static int by_size_desc(const void *a, const void *b)
{
    const cjob *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : (x->f > y->f) - (x->f < y->f);
}

static int by_field(const void *a, const void *b)
{
    const cjob *x = a, *y = b;
    return (x->f > y->f) - (x->f < y->f);
}

/* Compile the jobs on up to `threads` threads (this one among them). */
static void compile_all(cpool *cp, int threads)
{
    pthread_t tid[64];
    size_t nt = 0;
    qsort(cp->jobs, cp->njobs, sizeof *cp->jobs, by_size_desc);
    size_t want = threads > 1 ? (size_t)threads - 1 : 0;
    if (want > cp->njobs)
        want = cp->njobs;
    if (want > sizeof tid / sizeof *tid)
        want = sizeof tid / sizeof *tid;
    for (; nt < want; nt++) {
        if (pthread_create(&tid[nt], NULL, compile_jobs, cp) != 0)
            break;                      /* fewer threads, same result */
        (void)pthread_setname_np(tid[nt], "aw-compile");   /* cosmetic: top -H, perf */
    }
    compile_jobs(cp);
    for (size_t t = 0; t < nt; t++)
        pthread_join(tid[t], NULL);
    qsort(cp->jobs, cp->njobs, sizeof *cp->jobs, by_field);
}

/* One database per field with scanned literals (ids: the rule set's),
 * the literals grouped by field in one pass, compiled on
 * compile_threads threads. 0 ok; on failure, diag says
 * which field's literals Hyperscan rejected and why. */
static int compile_dbs(const aw_plan *p, aw_prefilter *pf, aw_diag_fn diag, void *ud)
{
    const aw_ruleset *rs = p->rs;
    pf->ndb = p->nfields + 1;
    pf->db = aw_xcalloc(pf->ndb, sizeof *pf->db);
    size_t *start = aw_xcalloc(pf->ndb + 1, sizeof *start);   /* CSR by field + 1 */
    for (size_t i = 0; i < pf->nlits; i++)
        start[rs->litfield[i] + 2] += scanned(pf, (uint32_t)i);
    for (size_t f = 0; f < pf->ndb; f++)
        start[f + 1] += start[f];
    const char **lits = aw_xcalloc(pf->nlits, sizeof *lits);
    size_t *lens = aw_xcalloc(pf->nlits, sizeof *lens);
    unsigned *flags = aw_xcalloc(pf->nlits, sizeof *flags);
    unsigned *ids = aw_xcalloc(pf->nlits, sizeof *ids);
    for (size_t i = 0; i < pf->nlits; i++) {
        if (!scanned(pf, (uint32_t)i))
            continue;
        size_t k = start[rs->litfield[i] + 1]++;
        lits[k] = rs->lits[i];
        lens[k] = rs->litn[i];
        flags[k] = HS_FLAG_CASELESS;
        ids[k] = (unsigned)i;
    }
    cpool cp = {.jobs = aw_xcalloc(pf->ndb, sizeof *cp.jobs), .lits = lits, .lens = lens, .flags = flags,
                .ids = ids};
    atomic_init(&cp.next, 0);
    for (size_t f = 0, from = 0; f < pf->ndb; from = start[f++]) {
        unsigned n = (unsigned)(start[f] - from);   /* filled: start[f] ends group f (field f - 1) */
        if (n)
            cp.jobs[cp.njobs++] = (cjob){.f = f, .from = from, .n = n};
    }
    compile_all(&cp, p->compile_threads);
    int rc = 0;
    for (size_t i = 0; i < cp.njobs; i++) {
        const cjob *j = &cp.jobs[i];
        pf->db[j->f] = j->db;           /* aw_prefilter_free frees them, failed or not */
        if (j->err && rc == 0) {        /* the first failure, in field order */
            char msg[512];
            snprintf(msg, sizeof msg, "Hyperscan could not compile the %u literals of %s%s%s: %s; every rule "
                     "is evaluated without the literal prefilter (same alerts, slower)", j->n,
                     j->f ? "field '" : "keywords", j->f ? rs->fields[j->f - 1] : "", j->f ? "'" : "", j->err);
            if (diag)
                diag(ud, NULL, 0, "prefilter-unavailable", msg);
            rc = -1;
        }
        free(j->err);
    }
    free(cp.jobs);
    free(start);
    free(lits);
    free(lens);
    free(flags);
    free(ids);
    return rc;
}

static void mark_field(const aw_item *it, void *mark)
{
    ((uint8_t *)mark)[it->field + 1] = 1;
}

/* Dense id of (field, resolution): the sources that read one field
 * through the same paths share it, so an event scans those values once. */
static uint32_t pfkey(uint64_t *keys, uint32_t *ids, size_t cap, size_t *n, uint64_t k)
{
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1)) {
        if (keys[i] == k + 1)
            return ids[i];
        if (!keys[i]) {
            keys[i] = k + 1;
            return ids[i] = (uint32_t)(*n)++;
        }
    }
}

/* Per source: the fields whose values its rules test and that have
 * literals (each is scanned for them), and whether keyword literals
 * are wanted. */
static void source_fields(aw_plan *p, const aw_prefilter *pf)
{
    uint8_t *mark = aw_xcalloc(pf->ndb, 1);
    size_t cap = 16, ndbs = 0;
    for (size_t f = 1; f < pf->ndb; f++)
        ndbs += pf->db[f] != NULL;
    while (cap < 2 * p->nsrc * ndbs)
        cap <<= 1;
    uint64_t *keys = aw_xcalloc(cap, sizeof *keys);
    uint32_t *ids = aw_xcalloc(cap, sizeof *ids);
    for (size_t s = 0; s < p->nsrc; s++) {
        aw_psrc *ps = &p->srcs[s];
        memset(mark, 0, pf->ndb);
        for (size_t i = 0; i < ps->nrules; i++) {
            aw_rule_items_each(ps->rules[i]->rule, mark_field, mark);
            for (size_t f = 0; f < ps->rules[i]->nfilters; f++)
                aw_rule_items_each(ps->rules[i]->filters[f], mark_field, mark);
        }
        ps->pfkw = mark[0] && pf->db[0];
        ps->pffields = aw_xcalloc(pf->ndb, sizeof *ps->pffields);
        ps->pfkeys = aw_xcalloc(pf->ndb, sizeof *ps->pfkeys);
        for (size_t f = 1; f < pf->ndb; f++)
            if (mark[f] && pf->db[f]) {
                ps->pfkeys[ps->npffields] = pfkey(keys, ids, cap, &p->npfkeys, (uint64_t)(f - 1) << 32 | ps->res[f - 1]);
                ps->pffields[ps->npffields++] = (int)f - 1;
            }
    }
    free(mark);
    free(keys);
    free(ids);
}

/* The clause a rule is reached through (postings): its fewest literals. */
static size_t post_clause(const aw_prule *pr)
{
    size_t best = 0, bn = (size_t)-1;
    for (size_t c = 0; c < pr->nclauses; c++) {
        size_t n = pr->clause_end[c] - (c ? pr->clause_end[c - 1] : 0);
        if (n < bn) {
            bn = n;
            best = c;
        }
    }
    return best;
}

static void mark_scanned(aw_prefilter *pf, const aw_prule *pr, size_t c)
{
    for (size_t k = c ? pr->clause_end[c - 1] : 0; k < pr->clause_end[c]; k++)
        pf->unscanned[pr->lits[k] >> 6] &= ~(1ull << (pr->lits[k] & 63));
}

/* Besides clause `skip`, the clause least likely to be met: the one
 * whose shortest literal is longest (strength(), on a rule's compiled
 * clauses); `skip` if it is the only one. */
static size_t strongest_other(const aw_ruleset *rs, const aw_prule *pr, size_t skip)
{
    size_t best = skip, bs = 0;
    for (size_t c = 0; c < pr->nclauses; c++) {
        if (c == skip)
            continue;
        size_t m = (size_t)-1;
        for (size_t k = c ? pr->clause_end[c - 1] : 0; k < pr->clause_end[c]; k++)
            if (rs->litn[pr->lits[k]] < m)
                m = rs->litn[pr->lits[k]];
        if (m > bs) {
            bs = m;
            best = c;
        }
    }
    return best;
}

/* Which literals are scanned for. Scanning costs on every event; a
 * literal only pays when it keeps rules from being evaluated. Each rule
 * keeps two clauses: the one it is reached through (postings) and its
 * most selective; their literals go into the databases (in the SigmaHQ
 * set, three quarters of CommandLine's and a fifth of Hashes': the
 * Hyperscan time halves). The
 * rule's other clauses are dropped (they would always pass), and the
 * matcher treats an unscanned literal as present (match_int.h). */
static void choose_scanned(aw_plan *p, aw_prefilter *pf)
{
    size_t nw = (pf->nlits + 63) / 64;
    pf->unscanned = aw_xmalloc((nw ? nw : 1) * sizeof *pf->unscanned);
    memset(pf->unscanned, 0xff, nw * sizeof *pf->unscanned);
    for (size_t i = 0; i < p->rs->nrules; i++) {
        const aw_prule *pr = &p->prules[i];
        if (!pr->lits)
            continue;
        size_t c = post_clause(pr);
        mark_scanned(pf, pr, c);
        mark_scanned(pf, pr, strongest_other(p->rs, pr, c));
    }
    for (size_t i = 0; i < p->rs->nrules; i++) {
        aw_prule *pr = &p->prules[i];
        size_t out = 0, nc = 0;
        for (size_t c = 0, k = 0; c < pr->nclauses; c++) {
            size_t from = out;
            bool all = true;
            for (; k < pr->clause_end[c]; k++) {
                all = all && scanned(pf, pr->lits[k]);
                pr->lits[out++] = pr->lits[k];
            }
            if (all)
                pr->clause_end[nc++] = (uint32_t)out;
            else
                out = from;
        }
        pr->nlits = out;
        pr->nclauses = nc;
    }
}

aw_prefilter *aw_prefilter_build(aw_plan *p, aw_diag_fn diag, void *ud)
{
    const aw_ruleset *rs = p->rs;
    size_t with = 0;
    if (rs->nlits == 0)
        return NULL;
    pthread_once(&pf_scan_once, pf_scan_init);
    if (!pf_scan) {
        if (diag) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s%s: every rule is evaluated without the literal prefilter (same "
                     "alerts, slower)", pf_scan_setup[0] ? "the start-up test of Hyperscan's scan " :
                     "this Hyperscan library misses literals on this CPU (it was tested at start-up)",
                     pf_scan_setup);
            diag(ud, NULL, 0, "prefilter-unavailable", msg);
        }
        return NULL;
    }
    aw_prefilter *pf = aw_xcalloc(1, sizeof *pf);
    pf->nlits = rs->nlits;
    cnf *f = aw_xmalloc(sizeof *f);
    for (size_t i = 0; i < rs->nrules; i++) {
        aw_prule *pr = &p->prules[i];
        if (!pr->active || !cond_cnf(rs, pr->rule, pr->rule->cond, f))
            continue;
        size_t total = 0;
        for (size_t c = 0; c < f->n; c++)
            total += f->c[c].cnt;
        pr->lits = aw_xcalloc(total, sizeof *pr->lits);
        pr->clause_end = aw_xcalloc(f->n, sizeof *pr->clause_end);
        for (size_t c = 0; c < f->n; c++) {
            for (size_t k = 0; k < f->c[c].cnt; k++)
                pr->lits[pr->nlits++] = f->c[c].id[k];
            pr->clause_end[pr->nclauses++] = (uint32_t)pr->nlits;
        }
        with++;
    }
    free(f);
    choose_scanned(p, pf);
    if (compile_dbs(p, pf, diag, ud) != 0) {
        /* never fatal: without a prefilter every rule is evaluated */
        for (size_t i = 0; i < rs->nrules; i++) {
            free(p->prules[i].lits);
            free(p->prules[i].clause_end);
            p->prules[i].lits = NULL;
            p->prules[i].clause_end = NULL;
            p->prules[i].nlits = p->prules[i].nclauses = 0;
        }
        aw_prefilter_free(pf);
        return NULL;
    }
    source_fields(p, pf);
    if (getenv("AUPWATCH_DEBUG_PREFILTER"))
        fprintf(stderr, "prefilter: %zu literals, %zu of %zu rules prefiltered\n", pf->nlits, with, p->nactive);
    return pf;
}

void aw_prefilter_free(aw_prefilter *pf)
{
    if (!pf)
        return;
    for (size_t f = 0; f < pf->ndb; f++)
        if (pf->db[f])
            hs_free_database(pf->db[f]);
    free(pf->db);
    free(pf->unscanned);
    free(pf);
}

size_t aw_prefilter_count(const aw_prefilter *pf)
{
    return pf ? pf->nlits : 0;
}

const uint64_t *aw_prefilter_unscanned(const aw_prefilter *pf)
{
    return pf->unscanned;
}

aw_status aw_prefilter_scratch(const aw_prefilter *pf, hs_scratch_t **scratch)
{
    for (size_t f = 0; f < pf->ndb; f++)        /* one scratch fits them all */
        if (pf->db[f] && hs_alloc_scratch(pf->db[f], scratch) != HS_SUCCESS)
            return AW_ENOMEM;
    return AW_OK;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    aw_pfhits *h = ctx;
    uint64_t bit = 1ull << (id & 63);
    if (!(h->bits[id >> 6] & bit)) {
        h->bits[id >> 6] |= bit;
        h->found[h->nfound++] = id;
    }
    (void)from, (void)to, (void)flags;
    return 0;
}

void aw_prefilter_scan(const aw_prefilter *pf, hs_scratch_t *scratch, int field, const char *s, size_t n,
                       aw_pfhits *hits)
{
    const hs_database_t *db = pf->db[field + 1];
    if (db && n)
        pf_scan(db, s, (unsigned)n, 0, scratch, on_match, hits);
}

void aw_prefilter_hit(aw_pfhits *h, uint32_t id)
{
    on_match(id, 0, 0, 0, h);
}

typedef struct vhits {
    aw_pfhits *h;
    uint32_t *ids;
    size_t cap, n;              /* n > cap: more than cap were found */
} vhits;

static int on_value_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    vhits *v = ctx;
    size_t k = 0, m = v->n < v->cap ? v->n : v->cap;
    while (k < m && v->ids[k] != id)
        k++;
    if (k == m) {                               /* new in this value */
        if (v->n < v->cap)
            v->ids[v->n] = id;
        v->n++;
    }
    return on_match(id, from, to, flags, v->h);
}

size_t aw_prefilter_scan_ids(const aw_prefilter *pf, hs_scratch_t *scratch, int field, const char *s, size_t n,
                             aw_pfhits *hits, uint32_t *ids, size_t cap)
{
    const hs_database_t *db = pf->db[field + 1];
    vhits v = {hits, ids, cap, 0};
    if (db && n)
        pf_scan(db, s, (unsigned)n, 0, scratch, on_value_match, &v);
    return v.n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The rules' source bitsets are only for building the postings. */
static void free_alw(aw_plan *p)
{
    for (size_t i = 0; i < p->rs->nrules; i++) {
        free(p->prules[i].alw);
        p->prules[i].alw = NULL;
    }
}

/* Per source with `always` rules that have clauses: the fields of their
 * literals (aw_psrc.lite_*). With few such rules the prefilter is off,
 * and scanning every field the source's dispatched rules read would cost
 * more than it saves (+19 % instructions on CloudTrail); these fields
 * alone let the `always` rules be skipped (one SigmaHQ CloudTrail rule,
 * a regular expression on userIdentity.arn, ran on every record). */
static void lite_fields(aw_plan *p)
{
    const aw_prefilter *pf = p->pf;
    size_t nw = (pf->nlits + 63) / 64;
    uint8_t *mark = aw_xcalloc(pf->ndb, 1);
    for (size_t s = 0; s < p->nsrc; s++) {
        aw_psrc *ps = &p->srcs[s];
        bool any = false;
        memset(mark, 0, pf->ndb);
        for (size_t i = 0; i < ps->nalways; i++) {
            const aw_prule *pr = ps->always[i];
            for (size_t k = 0; k < pr->nlits; k++) {     /* scanned ones only (choose_scanned) */
                int f = p->rs->litfield[pr->lits[k]];
                if (f >= 0 && pf->db[f + 1])
                    mark[f + 1] = any = true;
            }
        }
        if (!any)
            continue;
        ps->lite_fields = aw_xcalloc(pf->ndb, sizeof *ps->lite_fields);
        for (size_t f = 1; f < pf->ndb; f++)
            if (mark[f])
                ps->lite_fields[ps->nlite++] = (int)f - 1;
        ps->lite_base = aw_xmalloc((nw ? nw : 1) * sizeof *ps->lite_base);
        memset(ps->lite_base, 0xff, nw * sizeof *ps->lite_base);
        for (uint32_t id = 0; id < pf->nlits; id++) {
            int f = p->rs->litfield[id];
            if (f >= 0 && mark[f + 1] && scanned(pf, id))
                ps->lite_base[id >> 6] &= ~(1ull << (id & 63));
        }
    }
    free(mark);
}

/* A rule passes the prefilter only if every clause has a literal found,
 * so it is enough to post it under the literals of its smallest clause. */
void aw_prefilter_postings(aw_plan *p)
{
    size_t nl = p->pf ? p->pf->nlits : 0, nr = p->rs->nrules;
    p->nsrc_words = (p->nsrc + 63) / 64;
    for (size_t s = 0; s < p->nsrc; s++) {
        aw_psrc *ps = &p->srcs[s];
        ps->nopf = aw_xcalloc(ps->nalways ? ps->nalways : 1, sizeof *ps->nopf);
        for (size_t i = 0; i < ps->nalways; i++) {
            aw_prule *pr = ps->always[i];
            if (!pr->lits) {
                ps->nopf[ps->nnopf++] = pr;
                continue;
            }
            if (!pr->alw)
                pr->alw = aw_xcalloc(p->nsrc_words, sizeof *pr->alw);
            pr->alw[s >> 6] |= 1ull << (s & 63);
        }
    }
    if (!nl) {
        free_alw(p);
        return;
    }
    /* each rule's clauses in one pool, found by rule index, as the words
     * of the found-literal bitmap they test: nclauses, then per clause
     * its number of words and (word, mask) pairs. The check of a
     * candidate loads one run of the pool, not the rule, and tests a
     * clause of 200 literals in a few words. */
    size_t psize = 1, maxl = 0;
    for (size_t i = 0; i < nr; i++)
        if (p->prules[i].lits) {
            psize += 1 + p->prules[i].nclauses + 2 * p->prules[i].nlits;
            if (p->prules[i].nlits > maxl)
                maxl = p->prules[i].nlits;
        }
    uint32_t *ids = aw_xcalloc(maxl ? maxl : 1, sizeof *ids);
    p->pfc_off = aw_xcalloc(nr ? nr : 1, sizeof *p->pfc_off);
    p->pfc = aw_xcalloc(psize, sizeof *p->pfc);
    for (size_t i = 0, at = 1; i < nr; i++) {
        const aw_prule *pr = &p->prules[i];
        if (!pr->lits)
            continue;
        p->pfc_off[i] = (uint32_t)at;
        p->pfc[at++] = pr->nclauses;
        for (size_t c = 0, k = 0; c < pr->nclauses; c++) {
            size_t n = 0, count = at++;
            for (; k < pr->clause_end[c]; k++)
                ids[n++] = pr->lits[k];
            qsort(ids, n, sizeof *ids, cmp_u32);
            for (size_t j = 0; j < n; j++) {
                if (j == 0 || ids[j] >> 6 != ids[j - 1] >> 6) {
                    p->pfc[at++] = ids[j] >> 6;
                    p->pfc[at++] = 0;
                    p->pfc[count]++;
                }
                p->pfc[at - 1] |= 1ull << (ids[j] & 63);
            }
        }
    }
    free(ids);
    /* an entry per (literal, source, rule): source << 32 | rule index, so
     * an event walks its literals' lists without loading the rules */
    p->post_start = aw_xcalloc(nl + 1, sizeof *p->post_start);
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *fill = pass ? aw_xcalloc(nl, sizeof *fill) : NULL;
        for (size_t i = 0; i < nr; i++) {
            aw_prule *pr = &p->prules[i];
            if (!pr->alw)
                continue;
            size_t best = post_clause(pr), start = best ? pr->clause_end[best - 1] : 0;
            for (size_t k = start; k < pr->clause_end[best]; k++) {
                uint32_t id = pr->lits[k];
                for (size_t w = 0; w < p->nsrc_words; w++)
                    for (uint64_t b = pr->alw[w]; b; b &= b - 1) {
                        uint64_t src = w * 64 + (uint64_t)__builtin_ctzll(b);
                        if (pass == 0)
                            p->post_start[id + 1]++;
                        else
                            p->post[p->post_start[id] + fill[id]++] = src << 32 | i;
                    }
            }
        }
        if (pass == 0) {
            for (size_t l = 0; l < nl; l++)
                p->post_start[l + 1] += p->post_start[l];
            p->post = aw_xcalloc(p->post_start[nl] ? p->post_start[nl] : 1, sizeof *p->post);
        }
        free(fill);
    }
    free_alw(p);
    lite_fields(p);
}
