/* index.c - the classification prefilter (mp_index in mapping_int.h).
 *
 * Windows sources are told apart by channel and EventID; testing the
 * channel of each of ~80 sources per event costs more than everything
 * else together. So the path that most sources require to equal one of
 * a few plain strings becomes the "discriminating slot": those sources
 * are filed in an open-addressing hash table under each lower-cased
 * value they accept, and classification evaluates only the sources filed
 * under the event's value, plus those without the discriminator. The
 * index is rebuilt after every load (loading is not concurrent with
 * classification); it also moves the indexed condition to the end of
 * each conjunction, since candidates already passed it. */
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping_int.h"

static uint64_t hash_lower(const char *s, size_t n, char *low)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (low)
            low[i] = c;
        h = (h ^ (unsigned char)c) * 1099511628211ULL;
    }
    return h;
}

static mp_bucket *bucket_find(const mp_index *x, const char *low, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (x->cap - 1);
    for (;; i = (i + 1) & (x->cap - 1)) {
        mp_bucket *b = &x->tab[i];
        if (!b->key || (b->klen == n && memcmp(b->key, low, n) == 0))
            return b;
    }
}

void mp_index_free(mp_index *x)
{
    for (size_t i = 0; i < x->cap; i++) {
        mp_bucket *b = &x->tab[i];
        for (size_t k = 0; k < b->nnums; k++)
            free(b->nums[k].srcs);
        free(b->nums);
        free(b->rest);
        free(b->key);
        free(b->srcs);
    }
    free(x->tab);
    free(x->always);
    free(x->guard);
    memset(x, 0, sizeof *x);
}

/* Bit of root member name s[0..n) among the guard keys (added if new);
 * -1 when the table is full. */
static int gkey_bit(mp_index *x, const char *s, size_t n)
{
    for (size_t i = 0; i < x->ngkeys; i++)
        if (x->gkeys[i].n == n && memcmp(x->gkeys[i].s, s, n) == 0)
            return (int)i;
    if (x->ngkeys == MP_GUARD_KEYS)
        return -1;
    x->gkeys[x->ngkeys] = (mp_gkey){s, n, aw_json_key_hash(s, n)};
    x->gbloom[x->gkeys[x->ngkeys].h & 63] |= 1ULL << x->ngkeys;
    return (int)x->ngkeys++;
}

/* Number of root member names path p can start at: one per '.' plus 1. */
static size_t prefixes(const mp_slot *sl)
{
    size_t k = 1;
    for (size_t i = 0; i < sl->len; i++)
        k += sl->path[i] == '.';
    return k;
}

static uint64_t source_guard(const aw_mapping *m, mp_index *x, const aw_source *s)
{
    uint64_t g = 0;
    if (!s->nwhen)
        return 0;
    for (size_t k = 0; k < s->nwhen; k++) {
        const mp_conj *cj = &s->when[k];
        const mp_slot *best = NULL;
        for (size_t j = 0; j < cj->n; j++) {
            const mp_slot *sl = &m->slots[cj->conds[j].slot];
            if (cj->conds[j].op == MP_ABSENT || sl->star || !sl->len)
                continue;
            if (!best || prefixes(sl) < prefixes(best))
                best = sl;
        }
        if (!best)
            return 0;               /* an alternative that needs no member */
        for (size_t i = 0; i <= best->len; i++)
            if (i == best->len || best->path[i] == '.') {
                int bit = gkey_bit(x, best->path, i);
                if (bit < 0)
                    return 0;
                g |= 1ULL << bit;
            }
    }
    return g;
}

static int plain_strings(const mp_cond *c)
{
    if (c->op != MP_EQ)
        return 0;
    for (size_t i = 0; i < c->nvals; i++)
        if (c->vals[i].isnum || c->vals[i].n >= MP_KEY_MAX)
            return 0;
    return 1;
}

/* The equality condition on `slot` in conjunction cj, or NULL. */
static const mp_cond *eq_on(const mp_conj *cj, uint32_t slot)
{
    for (size_t j = 0; j < cj->n; j++)
        if (cj->conds[j].slot == slot && plain_strings(&cj->conds[j]))
            return &cj->conds[j];
    return NULL;
}

/* A slot every alternative of s tests for equality with plain strings. */
static int discriminator(const aw_mapping *m, const aw_source *s, uint32_t *slot)
{
    if (s->nwhen == 0)
        return 0;
    for (size_t j = 0; j < s->when[0].n; j++) {
        const mp_cond *c = &s->when[0].conds[j];
        size_t k;
        if (!plain_strings(c) || m->slots[c->slot].star)
            continue;
        for (k = 1; k < s->nwhen; k++)
            if (!eq_on(&s->when[k], c->slot))
                break;
        if (k == s->nwhen) {
            *slot = c->slot;
            return 1;
        }
    }
    return 0;
}

static void bucket_add(mp_index *x, const mp_value *v, uint32_t src)
{
    char low[MP_KEY_MAX];
    uint64_t h = hash_lower(v->s, v->n, low);
    mp_bucket *b = bucket_find(x, low, v->n, h);
    if (!b->key) {
        b->key = aw_xstrndup(low, v->n);
        b->klen = v->n;
    }
    if (b->n && b->srcs[b->n - 1] == src)
        return;
    aw_grow((void **)&b->srcs, &b->cap, b->n, sizeof *b->srcs);
    b->srcs[b->n++] = src;
}

/* ---- the number slot ---------------------------------------------- */

static int whole(const mp_value *v)
{
    return v->isnum && mp_whole(v->num);
}

/* The equality condition on `slot` in cj whose values are all whole
 * numbers, or NULL. */
static const mp_cond *num_eq_on(const mp_conj *cj, uint32_t slot)
{
    for (size_t j = 0; j < cj->n; j++) {
        const mp_cond *c = &cj->conds[j];
        size_t v;
        if (c->slot != slot || c->op != MP_EQ || !c->nvals)
            continue;
        for (v = 0; v < c->nvals && whole(&c->vals[v]); v++)
            ;
        if (v == c->nvals)
            return c;
    }
    return NULL;
}

/* Every alternative of s requires `slot` to equal a whole number. */
static int num_bound(const aw_source *s, uint32_t slot)
{
    if (!s->nwhen)
        return 0;
    for (size_t k = 0; k < s->nwhen; k++)
        if (!num_eq_on(&s->when[k], slot))
            return 0;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The sorted union of two sorted source lists. */
static uint32_t *merge(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, size_t *n)
{
    uint32_t *out = aw_xmalloc((na + nb ? na + nb : 1) * sizeof *out);
    size_t i = 0, j = 0, k = 0;
    while (i < na || j < nb) {
        uint32_t v = j == nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
        if (i < na && a[i] == v)
            i++;
        if (j < nb && b[j] == v)
            j++;
        out[k++] = v;
    }
    *n = k;
    return out;
}

static void bucket_narrow(const aw_mapping *m, mp_bucket *b, uint32_t slot)
{
    int64_t *ks = NULL;
    size_t nk = 0, capk = 0, nb = 0;
    uint32_t *bound = aw_xmalloc((b->n ? b->n : 1) * sizeof *bound);
    b->rest = aw_xmalloc((b->n ? b->n : 1) * sizeof *b->rest);
    for (size_t i = 0; i < b->n; i++) {
        const aw_source *s = m->src[b->srcs[i]];
        if (!num_bound(s, slot)) {
            b->rest[b->nrest++] = b->srcs[i];
            continue;
        }
        bound[nb++] = b->srcs[i];
        for (size_t w = 0; w < s->nwhen; w++) {
            const mp_cond *c = num_eq_on(&s->when[w], slot);
            for (size_t v = 0; v < c->nvals; v++) {
                aw_grow((void **)&ks, &capk, nk, sizeof *ks);
                ks[nk++] = (int64_t)c->vals[v].num;
            }
        }
    }
    qsort(ks, nk, sizeof *ks, cmp_i64);
    b->nums = aw_xcalloc(nk ? nk : 1, sizeof *b->nums);
    for (size_t i = 0; i < nk; i++) {
        if (b->nnums && b->nums[b->nnums - 1].k == ks[i])
            continue;
        /* the bound sources accepting ks[i], in source order */
        uint32_t *acc = aw_xmalloc((nb ? nb : 1) * sizeof *acc);
        size_t na = 0;
        for (size_t j = 0; j < nb; j++) {
            const aw_source *s = m->src[bound[j]];
            int yes = 0;
            for (size_t w = 0; w < s->nwhen && !yes; w++) {
                const mp_cond *c = num_eq_on(&s->when[w], slot);
                for (size_t v = 0; v < c->nvals && !yes; v++)
                    yes = (int64_t)c->vals[v].num == ks[i];
            }
            if (yes)
                acc[na++] = bound[j];
        }
        mp_numlist *l = &b->nums[b->nnums++];
        l->k = ks[i];
        l->srcs = merge(b->rest, b->nrest, acc, na, &l->n);
        free(acc);
    }
    free(ks);
    free(bound);
}

/* Choose the number slot: the one that bounds most bucketed sources;
 * narrow the buckets with two or more of them. */
static void index_numbers(const aw_mapping *m, mp_index *x)
{
    size_t *count = aw_xcalloc(m->nslots ? m->nslots : 1, sizeof *count), best = 0;
    for (size_t i = 0; i < x->cap; i++)
        for (size_t j = 0; j < x->tab[i].n; j++) {
            const aw_source *s = m->src[x->tab[i].srcs[j]];
            for (size_t c = 0; s->nwhen && c < s->when[0].n; c++) {
                uint32_t sl = s->when[0].conds[c].slot;
                if (sl != x->slot && !m->slots[sl].star && num_bound(s, sl))
                    count[sl]++;
            }
        }
    for (size_t i = 0; i < m->nslots; i++)
        if (count[i] > best) {
            best = count[i];
            x->nslot = (uint32_t)i;
        }
    free(count);
    if (best < 2)
        return;
    for (size_t i = 0; i < x->cap; i++) {
        mp_bucket *b = &x->tab[i];
        size_t nb = 0;
        for (size_t j = 0; j < b->n; j++)
            nb += num_bound(m->src[b->srcs[j]], x->nslot);
        if (b->key && nb >= 2)
            bucket_narrow(m, b, x->nslot);
    }
}

void mp_index_build(aw_mapping *m)
{
    mp_index *x = &m->index;
    uint32_t *disc = aw_xcalloc(m->nsrc ? m->nsrc : 1, sizeof *disc);
    size_t *count = aw_xcalloc(m->nslots ? m->nslots : 1, sizeof *count);
    size_t best = 0, nvals = 0;
    uint32_t slot = 0;

    mp_index_free(x);
    x->guard = aw_xcalloc(m->nsrc ? m->nsrc : 1, sizeof *x->guard);
    for (size_t i = 0; i < m->nsrc; i++)
        x->guard[i] = source_guard(m, x, m->src[i]);
    for (size_t i = 0; i < m->nsrc; i++) {
        disc[i] = UINT32_MAX;
        if (discriminator(m, m->src[i], &disc[i]))
            count[disc[i]]++;
    }
    for (size_t i = 0; i < m->nslots; i++)
        if (count[i] > best) {
            best = count[i];
            slot = (uint32_t)i;
        }
    if (best >= 2) {
        for (size_t i = 0; i < m->nsrc; i++)
            if (disc[i] == slot)
                for (size_t k = 0; k < m->src[i]->nwhen; k++)
                    nvals += eq_on(&m->src[i]->when[k], slot)->nvals;
        for (x->cap = 16; x->cap < 2 * nvals; x->cap *= 2)
            ;
        x->tab = aw_xcalloc(x->cap, sizeof *x->tab);
        x->always = aw_xcalloc(m->nsrc, sizeof *x->always);
        x->slot = slot;
        for (size_t i = 0; i < m->nsrc; i++) {
            if (disc[i] != slot) {
                x->always[x->nalways++] = (uint32_t)i;
                continue;
            }
            for (size_t k = 0; k < m->src[i]->nwhen; k++) {
                mp_conj *cj = (mp_conj *)&m->src[i]->when[k];
                mp_cond *conds = (mp_cond *)cj->conds, *c = (mp_cond *)eq_on(cj, slot), t;
                for (size_t v = 0; v < c->nvals; v++)
                    bucket_add(x, &c->vals[v], (uint32_t)i);
                /* Candidates passed the index on this condition, so test
                 * it last: the others (EventID) usually decide sooner.
                 * Loading owns the mapping; nothing shares it yet. */
                t = *c;
                *c = conds[cj->n - 1];
                conds[cj->n - 1] = t;
            }
        }
        index_numbers(m, x);
        x->built = 1;
    }
    free(disc);
    free(count);
}

const uint32_t *mp_index_lookup(const mp_index *x, const char *t, size_t len, size_t *n,
                                const mp_bucket **bp)
{
    char low[MP_KEY_MAX];
    const mp_bucket *b;
    *n = 0;
    *bp = NULL;
    if (len >= MP_KEY_MAX)
        return NULL;
    b = bucket_find(x, low, len, hash_lower(t, len, low));
    if (!b->key)
        return NULL;
    *n = b->n;
    *bp = b;
    return b->srcs;
}

const uint32_t *mp_index_narrow(const mp_bucket *b, int has_k, int64_t k, size_t *n)
{
    size_t lo = 0, hi = has_k ? b->nnums : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->nums[mid].k < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (has_k && lo < b->nnums && b->nums[lo].k == k) {
        *n = b->nums[lo].n;
        return b->nums[lo].srcs;
    }
    *n = b->nrest;
    return b->rest;
}
