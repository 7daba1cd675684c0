/* pack.c - a compiled rule's evaluation structures moved into one
 * contiguous block, in the order an evaluation reads them.
 *
 * Compilation meets a rule's searches, conjunctions, items, gates,
 * groups and leaves interleaved with the strings and token arrays they
 * point to, and the condition's nodes last; spread like that, an event
 * that reaches the rule misses the cache on nearly every piece (with
 * the full SigmaHQ set, 3,057 rules, a rule's structures are cold when
 * an event needs them). So they are compiled in a scratch arena
 * (aw_rctx.tmp, freed after each rule) and copied here into one run of
 * the rule set's arena: the condition, then each search with its
 * conjunctions, and each item with its gates, groups and leaves. The
 * strings and tokens the leaves point to are in the rule set's arena
 * already and stay where they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigma/sigma_int.h"

typedef struct pbuf {
    char *p, *end;
} pbuf;

static size_t r8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Copy n bytes from src to the block; returns the copy. */
static void *put(pbuf *b, const void *src, size_t n)
{
    void *d = b->p;
    if ((size_t)(b->end - b->p) < r8(n)) {     /* sized by aw_rule_pack: a bug */
        fprintf(stderr, "aupwatch: internal error: a rule's packed block is %zu bytes short\n",
                r8(n) - (size_t)(b->end - b->p));
        abort();
    }
    memcpy(d, src, n);
    b->p += r8(n);
    return d;
}

static size_t cond_size(const aw_cnode *c)
{
    size_t s = r8(sizeof *c) + r8(c->n * sizeof *c->kids);
    for (size_t i = 0; i < c->n; i++)
        s += cond_size(c->kids[i]);
    return s;
}

static aw_cnode *cond_put(pbuf *b, const aw_cnode *c)
{
    aw_cnode *d = put(b, c, sizeof *c);
    if (c->n) {
        d->kids = put(b, c->kids, c->n * sizeof *c->kids);
        for (size_t i = 0; i < c->n; i++)
            d->kids[i] = cond_put(b, c->kids[i]);
    }
    return d;
}

static size_t item_size(const aw_item *it)
{
    size_t s = r8(it->n * sizeof *it->glit) + r8(it->n * sizeof *it->groups);
    for (size_t g = 0; g < it->n; g++)
        s += r8(it->groups[g].n * sizeof *it->groups[g].alts);
    return s;
}

/* n elements of `size` at p copied to the block, or NULL for none (so
 * no pointer is left into the scratch arena). */
static void *put_n(pbuf *b, const void *p, size_t n, size_t size)
{
    return n ? put(b, p, n * size) : NULL;
}

/* it is already in the block: move what it points to after it. */
static void item_put(pbuf *b, aw_item *it)
{
    it->glit = put_n(b, it->glit, it->n, sizeof *it->glit);
    it->groups = put_n(b, it->groups, it->n, sizeof *it->groups);
    for (size_t g = 0; g < it->n; g++)
        it->groups[g].alts = put_n(b, it->groups[g].alts, it->groups[g].n, sizeof *it->groups[g].alts);
}

void aw_rule_pack(aw_arena *a, aw_rule *r)
{
    size_t n = (r->cond ? cond_size(r->cond) : 0) + r8(r->nsearch * sizeof *r->searches);
    for (size_t s = 0; s < r->nsearch; s++) {
        const aw_search *se = &r->searches[s];
        n += r8(se->n * sizeof *se->alts);
        for (size_t c = 0; c < se->n; c++) {
            n += r8(se->alts[c].n * sizeof *se->alts[c].items);
            for (size_t i = 0; i < se->alts[c].n; i++)
                n += item_size(&se->alts[c].items[i]);
        }
    }
    pbuf b = {aw_arena_alloc(a, n), NULL};
    b.end = b.p + n;
    if (r->cond)
        r->cond = cond_put(&b, r->cond);
    r->searches = put_n(&b, r->searches, r->nsearch, sizeof *r->searches);
    for (size_t s = 0; s < r->nsearch; s++) {
        aw_search *se = &r->searches[s];
        se->alts = put_n(&b, se->alts, se->n, sizeof *se->alts);
        for (size_t c = 0; c < se->n; c++) {
            aw_conj *cj = &se->alts[c];
            cj->items = put_n(&b, cj->items, cj->n, sizeof *cj->items);
            for (size_t i = 0; i < cj->n; i++)
                item_put(&b, &cj->items[i]);
        }
    }
}
