/* dispatch.c - find, for each rule, a field whose value the rule
 * requires to be one of a few literals, and index the rules of a log
 * source by that field's value (up to AW_DISPATCH_FIELDS fields per
 * source, each rule under one).
 *
 * Most cloud rules test eventName/eventSource, some only
 * userIdentity.type; most Windows rules EventID: an event then needs
 * to be evaluated only against the rules indexed under its own values,
 * plus the rules that have no such requirement. The analysis is
 * conservative: a requirement is derived only from positive, exact,
 * case-insensitive string equality reached through AND/OR (never
 * through NOT), so skipping a rule can never lose an alert. A number in
 * a rule (EventID: 27, compared by value) takes part when written as a
 * canonical integer: an event's number is then looked up under its
 * integer value too (match.c). `AUPWATCH_NO_DISPATCH=1` turns it off
 * (the differential test compares both paths). */
#include <string.h>

#include "sigma/plan_int.h"

#define REQ_MAX 64

typedef struct req {
    int field;                  /* -1: none */
    const aw_leaf *lits[REQ_MAX];
    size_t n;
} req;

/* The leaf's number is written as the integer it is: "27", "-3", not
 * "027", "27.0" or "2.7e1" (so its text is the event's lookup key). */
static bool canonical_int(const aw_leaf *l)
{
    const char *s = l->lit;
    size_t n = l->litn, i = n && s[0] == '-';
    if (n - i == 0 || n - i > 15 || (s[i] == '0' && n - i > 1))
        return false;
    long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    return (double)(s[0] == '-' ? -v : v) == l->num;
}

/* Every alternative of the item is an exact folded literal. */
static bool item_exact(const aw_item *it)
{
    if (it->field < 0 || it->negate || it->n == 0 || (it->all && it->n > 1))
        return false;
    for (size_t g = 0; g < it->n; g++)
        for (size_t a = 0; a < it->groups[g].n; a++) {
            const aw_leaf *l = &it->groups[g].alts[a];
            if (l->kind != LM_GLOB || l->shape != GS_EXACT || l->cased || (l->is_num && !canonical_int(l)))
                return false;
        }
    return true;
}

static bool add_item(req *r, const aw_item *it)
{
    for (size_t g = 0; g < it->n; g++)
        for (size_t a = 0; a < it->groups[g].n; a++) {
            if (r->n == REQ_MAX)
                return false;
            r->lits[r->n++] = &it->groups[g].alts[a];
        }
    return true;
}

/* Requirement of one search on field f (or on any field if f < 0). */
static bool search_req(const aw_search *s, int f, req *out)
{
    req r = {f, {0}, 0};
    for (size_t i = 0; i < s->n; i++) {
        const aw_conj *cj = &s->alts[i];
        const aw_item *pick = NULL;
        for (size_t k = 0; k < cj->n && !pick; k++)
            if (item_exact(&cj->items[k]) && (r.field < 0 || cj->items[k].field == r.field))
                pick = &cj->items[k];
        if (!pick)
            return false;
        r.field = pick->field;
        if (!add_item(&r, pick))
            return false;
    }
    *out = r;
    return r.field >= 0;
}

static bool cond_req(const aw_rule *ru, const aw_cnode *c, int f, req *out)
{
    switch (c->t) {
    case CN_REF:
        return search_req(&ru->searches[c->ref], f, out);
    case CN_AND:
        for (size_t i = 0; i < c->n; i++)
            if (cond_req(ru, c->kids[i], f, out))
                return true;
        return false;
    case CN_OR: {
        req acc = {f, {0}, 0};
        for (size_t i = 0; i < c->n; i++) {
            req k;
            if (!cond_req(ru, c->kids[i], acc.field, &k) || acc.n + k.n > REQ_MAX)
                return false;
            acc.field = k.field;
            memcpy(acc.lits + acc.n, k.lits, k.n * sizeof *k.lits);
            acc.n += k.n;
        }
        *out = acc;
        return acc.field >= 0;
    }
    case CN_NOT:
        return false;
    }
    return false;
}

/* Eight bytes with 'A'..'Z' lower-cased (other bytes, non-ASCII too,
 * unchanged): a letter's high bit is clear, its 7-bit value reaches
 * 0x80 when 0x3F is added and stays below when 0x25 is. */
static inline uint64_t fold8(uint64_t w)
{
    uint64_t low = w & 0x7F7F7F7F7F7F7F7Full;
    uint64_t ge_a = low + 0x3F3F3F3F3F3F3F3Full, gt_z = low + 0x2525252525252525ull;
    uint64_t upper = ge_a & ~gt_z & ~w & 0x8080808080808080ull;
    return w | upper >> 2;
}

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    return h ^ h >> 32;
}

/* A hash of s[0..n) lower-cased (ASCII), eight bytes at a time. */
static uint64_t hash_folded(const char *s, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = mix(h, fold8(w));
    }
    if (n) {
        w = 0;
        memcpy(&w, s, n);
        h = mix(h, fold8(w));
    }
    return mix(h, 0x94D049BB133111EBull);
}

uint64_t aw_dispatch_hash(const char *s, size_t n)
{
    return hash_folded(s, n);
}

/* The fields of the rule's exact items (those it may require), each
 * once, at most FIELDS_MAX. */
#define FIELDS_MAX 16
typedef struct fieldset {
    int f[FIELDS_MAX];
    size_t n;
} fieldset;

static void add_exact_field(const aw_item *it, void *ud)
{
    fieldset *fs = ud;
    if (!item_exact(it))
        return;
    size_t k = 0;
    while (k < fs->n && fs->f[k] != it->field)
        k++;
    if (k == fs->n && fs->n < FIELDS_MAX)
        fs->f[fs->n++] = it->field;
}

static void bucket_rule(aw_dindex *x, const req *q, aw_prule *pr)
{
    for (size_t k = 0; k < q->n; k++) {
        const aw_leaf *l = q->lits[k];
        if (l->litn < x->minlen)
            x->minlen = l->litn;
        if (l->litn > x->maxlen)
            x->maxlen = l->litn;
        aw_dbucket *b = &x->buckets[hash_folded(l->lit, l->litn) & (x->nbuckets - 1)];
        /* one entry per (literal, rule); literals sharing a slot are
         * told apart at lookup by comparing the text */
        b->e = aw_xrealloc(b->e, (b->n + 1) * sizeof *b->e);
        b->e[b->n].lit = l->lit;
        b->e[b->n].litn = l->litn;
        b->e[b->n].rule = pr;
        b->n++;
    }
}

/* Build the indexes of one source, greedily: the field that the most
 * rules require (ties: the one with more literals, more selective)
 * takes them; then the same among the rules left, up to
 * AW_DISPATCH_FIELDS fields. A field one rule requires still gets an
 * index: the lookup costs about what failing the rule's first item
 * does, and the rule's other items are then never read (CloudTrail's
 * `userAgent: TruffleHog`, `eventSource: lambda...` with a `contains`
 * ran on every event). The rest go to `always`. Rules stay in rule-set
 * order inside every list. */
void aw_dispatch_build(aw_psrc *ps, size_t nfields)
{
    size_t *votes = aw_xcalloc(nfields ? nfields : 1, sizeof *votes);
    size_t *nlits = aw_xcalloc(nfields ? nfields : 1, sizeof *nlits);
    bool *placed = aw_xcalloc(ps->nrules ? ps->nrules : 1, sizeof *placed);
    req *q = aw_xmalloc(sizeof *q);
    while (ps->ndidx < AW_DISPATCH_FIELDS) {
        memset(votes, 0, nfields * sizeof *votes);
        memset(nlits, 0, nfields * sizeof *nlits);
        for (size_t i = 0; i < ps->nrules; i++) {
            const aw_rule *r = ps->rules[i]->rule;
            fieldset fs = {.n = 0};
            if (!placed[i])
                aw_rule_items_each(r, add_exact_field, &fs);
            for (size_t k = 0; k < fs.n; k++)
                if (cond_req(r, r->cond, fs.f[k], q) && q->field == fs.f[k]) {
                    votes[fs.f[k]]++;
                    nlits[fs.f[k]] += q->n;
                }
        }
        int best = -1;
        for (size_t f = 0; f < nfields; f++)
            if (votes[f] > 0 && (best < 0 || votes[f] > votes[best] ||
                                  (votes[f] == votes[best] && nlits[f] > nlits[best])))
                best = (int)f;
        if (best < 0)
            break;
        aw_dindex *x = &ps->didx[ps->ndidx++];
        x->field = best;
        x->nbuckets = 64;
        while (x->nbuckets < 4 * nlits[best])
            x->nbuckets *= 2;
        x->buckets = aw_xcalloc(x->nbuckets, sizeof *x->buckets);
        x->minlen = (size_t)-1;
        x->maxlen = 0;
        for (size_t i = 0; i < ps->nrules; i++) {
            const aw_rule *r = ps->rules[i]->rule;
            if (!placed[i] && cond_req(r, r->cond, best, q) && q->field == best) {
                bucket_rule(x, q, ps->rules[i]);
                placed[i] = true;
            }
        }
    }
    ps->always = aw_xcalloc(ps->nrules ? ps->nrules : 1, sizeof *ps->always);
    for (size_t i = 0; i < ps->nrules; i++)
        if (!placed[i])
            ps->always[ps->nalways++] = ps->rules[i];
    free(votes);
    free(nlits);
    free(placed);
    free(q);
}

void aw_dispatch_free(aw_psrc *ps)
{
    for (size_t x = 0; x < ps->ndidx; x++) {
        for (size_t i = 0; i < ps->didx[x].nbuckets; i++)
            free(ps->didx[x].buckets[i].e);
        free(ps->didx[x].buckets);
    }
    free(ps->always);
}
