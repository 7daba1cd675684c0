/* dispatch.c - find, for each rule, a field whose value the rule
 * requires to be one of a few literals, and index the rules of a log
 * source by that field's value.
 *
 * Most cloud rules test eventName/eventSource, most Windows rules
 * EventID or Image: an event then needs to be evaluated only against
 * the rules indexed under its own value, plus the rules that have no
 * such requirement. The analysis is conservative: a requirement is
 * derived only from positive, exact, case-insensitive string equality
 * reached through AND/OR (never through NOT), so skipping a rule can
 * never lose an alert. A number in a rule (EventID: 27, compared by
 * value) takes part when written as a canonical integer: an event's
 * number is then looked up under its integer value too (match.c). `AUPWATCH_NO_DISPATCH=1` turns it off (the
 * differential test compares both paths). */
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

static uint64_t hash_folded(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c += 32;
        h = (h ^ c) * 1099511628211ull;
    }
    return h;
}

uint64_t aw_dispatch_hash(const char *s, size_t n)
{
    return hash_folded(s, n);
}

/* Build the index of one source: choose the field most rules require,
 * bucket those rules by literal, keep the rest in `always`. Rules stay
 * in rule-set order inside every list. */
void aw_dispatch_build(aw_psrc *ps, size_t nfields)
{
    size_t *votes = aw_xcalloc(nfields ? nfields : 1, sizeof *votes);
    req *reqs = aw_xcalloc(ps->nrules ? ps->nrules : 1, sizeof *reqs);
    for (size_t i = 0; i < ps->nrules; i++) {
        reqs[i].field = -1;
        const aw_rule *r = ps->rules[i]->rule;
        if (cond_req(r, r->cond, -1, &reqs[i]))
            votes[reqs[i].field]++;
        else
            reqs[i].field = -1;
    }
    int best = -1;
    for (size_t f = 0; f < nfields; f++)
        if (votes[f] >= 2 && (best < 0 || votes[f] > votes[best]))
            best = (int)f;
    ps->dfield = best;
    if (best >= 0) {
        /* Re-derive requirements on the chosen field where possible. */
        for (size_t i = 0; i < ps->nrules; i++) {
            const aw_rule *r = ps->rules[i]->rule;
            req q;
            if (reqs[i].field != best && cond_req(r, r->cond, best, &q) && q.field == best)
                reqs[i] = q;
        }
        size_t nb = 64;
        while (nb < 4 * votes[best])
            nb *= 2;
        ps->nbuckets = nb;
        ps->buckets = aw_xcalloc(nb, sizeof *ps->buckets);
    }
    ps->always = aw_xcalloc(ps->nrules ? ps->nrules : 1, sizeof *ps->always);
    for (size_t i = 0; i < ps->nrules; i++) {
        if (best < 0 || reqs[i].field != best) {
            ps->always[ps->nalways++] = ps->rules[i];
            continue;
        }
        for (size_t k = 0; k < reqs[i].n; k++) {
            const aw_leaf *l = reqs[i].lits[k];
            uint64_t h = hash_folded(l->lit, l->litn);
            aw_dbucket *b = &ps->buckets[h & (ps->nbuckets - 1)];
            /* one entry per (literal, rule); literals sharing a slot are
             * told apart at lookup by comparing the text */
            b->e = aw_xrealloc(b->e, (b->n + 1) * sizeof *b->e);
            b->e[b->n].lit = l->lit;
            b->e[b->n].litn = l->litn;
            b->e[b->n].rule = ps->rules[i];
            b->n++;
        }
    }
    free(votes);
    free(reqs);
}

void aw_dispatch_free(aw_psrc *ps)
{
    for (size_t i = 0; i < ps->nbuckets; i++)
        free(ps->buckets[i].e);
    free(ps->buckets);
    free(ps->always);
}
