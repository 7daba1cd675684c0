/* path.c - lookups in a parsed aw_doc: members, dotted paths with array
 * fan-out, dropping fields, and leaf iteration.
 *
 * Path semantics (see aw_json.h): at an object, a member whose name is
 * the whole remaining path wins; otherwise the path is split at each '.'
 * in turn, left to right, and every split whose head names a member is
 * followed (so "a.b.c" may match {"a.b":{"c":1}} and {"a":{"b.c":1}}).
 * Arrays on the way are descended element by element; an array at the
 * end of the path is expanded into its elements, recursively. Dropped
 * nodes are invisible. Recursion depth is bounded by the document depth
 * (AW_JSON_MAX_DEPTH) plus nothing: each level consumes a node. */
#include <stdlib.h>

#include "json/json_int.h"

/* Index the root's members (first occurrence of a key wins, as in the
 * linear scan); objects with more members than half the table stay
 * linear. The document is logically const: the index is a cache. */
static void ridx_build(aw_doc *d)
{
    uint32_t count = 0, i;
    d->ridx_state = -1;
    for (i = d->nodes[0].child; i; i = d->nodes[i].next)
        if (++count > AWJ_RIDX / 2)
            return;
    memset(d->ridx, 0, sizeof d->ridx);
    d->ridx_n = count;
    d->rmask = d->rdmask = 0;
    for (i = d->nodes[0].child; i; i = d->nodes[i].next) {
        const aw_jnode *m = &d->nodes[i];
        awj_ridx_add(d, i, m->key, m->klen);
        if (d->nodes[0].dotted && memchr(m->key, '.', m->klen))
            d->rdmask |= 1ull << (awj_ridx_hash(m->key, m->klen) & 63);
    }
    d->ridx_state = 1;
}

static const aw_jnode *linear_member(const aw_doc *d, const aw_jnode *obj, const char *key, size_t klen)
{
    for (uint32_t i = obj->child; i; i = d->nodes[i].next) {
        const aw_jnode *m = &d->nodes[i];
        if (m->klen == klen && !m->dropped && memcmp(m->key, key, klen) == 0)
            return m;
    }
    return NULL;
}

uint32_t aw_json_key_hash(const char *key, size_t klen)
{
    return awj_ridx_hash(key, klen);
}

uint32_t aw_json_name_hash(const char *key, size_t klen)
{
    return (uint32_t)(awj_name_hash(key, klen) >> 32);
}

/* Member `key` (hash h) of the root object d->nodes[0]. */
static inline const aw_jnode *root_member(const aw_doc *d, const char *key, size_t klen, uint32_t h)
{
    if (d->ridx_state == 0)
        ridx_build((aw_doc *)d);
    if (d->ridx_state == 1) {
        if (!(d->rmask & 1ull << (h & 63)))
            return NULL;
        for (;; h = (h + 1) & (AWJ_RIDX - 1)) {
            uint32_t j = d->ridx[h];
            if (!j)
                return NULL;
            const aw_jnode *m = &d->nodes[j - 1];
            if (m->klen == klen && memcmp(m->key, key, klen) == 0) {
                if (!m->dropped)
                    return m;
                break;                      /* dropped: a later duplicate may stand */
            }
        }
    }
    return linear_member(d, d->nodes, key, klen);
}

/* Whether the root may have a dotted member name of hash h: with the
 * index built, only if h's bit is in rdmask (the derived "aw.*" names
 * leave most heads of "userIdentity.sessionContext.x" out at a test). */
static inline int may_be_dotted(const aw_doc *d, uint32_t h)
{
    return d->ridx_state != 1 || (d->rdmask >> (h & 63) & 1);
}

const aw_jnode *aw_json_root_member(const aw_doc *d, const char *key, size_t klen, uint32_t h)
{
    if (!d || !d->n || d->nodes[0].type != AW_JOBJ)
        return NULL;
    return root_member(d, key, klen, h);
}

uint64_t aw_json_root_bloom(const aw_doc *d)
{
    if (!d || !d->n || d->nodes[0].type != AW_JOBJ)
        return ~0ull;
    if (d->ridx_state == 0)
        ridx_build((aw_doc *)d);
    return d->ridx_state == 1 ? d->rmask : ~0ull;
}

const aw_jnode *aw_json_member(const aw_doc *d, const aw_jnode *obj,
                               const char *key, size_t klen)
{
    if (!d || !obj || obj->type != AW_JOBJ)
        return NULL;
    if (obj == d->nodes)
        return aw_json_root_member(d, key, klen, awj_ridx_hash(key, klen));
    return linear_member(d, obj, key, klen);
}

typedef struct walk {
    const aw_doc *d;
    aw_json_visit_fn fn;
    void *ud;
    int expand_end;
} walk;

static int visit_end(const walk *w, const aw_jnode *n)
{
    uint32_t i;
    if (n->dropped)
        return 0;
    if (n->type != AW_JARR || !w->expand_end)
        return w->fn(w->d, n, w->ud);
    for (i = n->child; i; i = w->d->nodes[i].next) {
        int r = visit_end(w, &w->d->nodes[i]);
        if (r)
            return r;
    }
    return 0;
}

static int walk_path(const walk *w, const aw_jnode *n, const char *path,
                     size_t plen)
{
    const aw_doc *d = w->d;
    uint32_t i;
    int r;
    if (n->dropped)
        return 0;
    if (n->type == AW_JARR) {
        for (i = n->child; i; i = d->nodes[i].next)
            if ((r = walk_path(w, &d->nodes[i], path, plen)))
                return r;
        return 0;
    }
    if (n->type != AW_JOBJ)
        return 0;
    {
        /* A head holding a '.' can only name a member of an object with
         * dotted names (n->dotted): in most records that leaves one try,
         * the head before the first '.'. */
        const char *dot = memchr(path, '.', plen);
        const aw_jnode *m;
        if (!dot || n->dotted) {
            m = aw_json_member(d, n, path, plen);
            if (m)
                return visit_end(w, m);
        }
        while (dot) {
            size_t k = (size_t)(dot - path);
            m = aw_json_member(d, n, path, k);
            if (m && (r = walk_path(w, m, path + k + 1, plen - k - 1)))
                return r;
            if (!n->dotted)
                break;
            dot = memchr(path + k + 1, '.', plen - k - 1);
        }
    }
    return 0;
}

static int run(const aw_doc *d, const aw_jnode *from, const char *path,
               size_t plen, aw_json_visit_fn fn, void *ud, int expand_end)
{
    walk w = { d, fn, ud, expand_end };
    if (!d || !d->n)
        return 0;
    if (!from)
        from = &d->nodes[0];
    if (plen == 0)
        return visit_end(&w, from);
    return walk_path(&w, from, path, plen);
}

int aw_json_path_each(const aw_doc *d, const aw_jnode *from,
                      const char *path, size_t plen,
                      aw_json_visit_fn fn, void *ud)
{
    return run(d, from, path, plen, fn, ud, 1);
}

static int first_fn(const aw_doc *d, const aw_jnode *n, void *ud)
{
    (void)d;
    *(const aw_jnode **)ud = n;
    return 1;
}

const aw_jnode *aw_json_path_first(const aw_doc *d, const aw_jnode *from,
                                   const char *path, size_t plen)
{
    const aw_jnode *found = NULL;
    run(d, from, path, plen, first_fn, &found, 0);
    return found;
}

/* ---- compiled paths ------------------------------------------------ */

typedef struct jseg {
    const char *s;
    uint32_t n;
    uint32_t h;         /* awj_ridx_hash(path, end of this segment) */
} jseg;

struct aw_jpath {
    char *path;
    size_t plen;
    uint32_t nseg;
    jseg seg[];         /* split at every '.'; seg[i].h hashes the head
                           path[0 .. end of seg i], for the root */
};

aw_jpath *aw_jpath_new(const char *path, size_t plen)
{
    uint32_t nseg = 1;
    for (size_t i = 0; i < plen; i++)
        nseg += path[i] == '.';
    aw_jpath *p = malloc(sizeof *p + nseg * sizeof p->seg[0]);
    if (!p)
        return NULL;
    p->path = malloc(plen + 1);
    if (!p->path) {
        free(p);
        return NULL;
    }
    memcpy(p->path, path, plen);
    p->path[plen] = '\0';
    p->plen = plen;
    p->nseg = nseg;
    size_t start = 0;
    for (uint32_t k = 0; k < nseg; k++) {
        const char *dot = memchr(p->path + start, '.', plen - start);
        size_t end = dot ? (size_t)(dot - p->path) : plen;
        p->seg[k] = (jseg){p->path + start, (uint32_t)(end - start), awj_ridx_hash(p->path, end)};
        start = end + 1;
    }
    return p;
}

void aw_jpath_free(aw_jpath *p)
{
    if (!p)
        return;
    free(p->path);
    free(p);
}

/* Follow p from the root member by member: 1 and *out at its end, 0
 * if it plainly reaches nothing, -1 where only walk_path can tell (an
 * array on the way, an object with dotted names below the root; at a
 * dotted root, one of the path's longer heads named there, or with
 * `strict` any dotted root). At a root whose dotted names are none of
 * the path's longer heads (the derived "aw.*" members against
 * "userIdentity.type"), the walk is walk_path's, so it stays member by
 * member. */
static inline __attribute__((always_inline)) int descend(const aw_doc *d, const aw_jpath *p, int strict, const aw_jnode **out)
{
    const aw_jnode *n = d->nodes;
    for (uint32_t i = 0; i < p->nseg; i++) {
        const jseg *sg = &p->seg[i];
        if (n->dropped)
            return 0;
        if (n->type != AW_JOBJ)
            return n->type == AW_JARR ? -1 : 0;
        if (n->dotted) {
            if (i > 0 || strict)
                return -1;
            for (uint32_t k = 1; k < p->nseg; k++)
                if (may_be_dotted(d, p->seg[k].h) &&
                    root_member(d, p->path, (size_t)(p->seg[k].s - p->path) + p->seg[k].n, p->seg[k].h))
                    return -1;
        }
        n = i == 0 ? root_member(d, sg->s, sg->n, sg->h) : linear_member(d, n, sg->s, sg->n);
        if (!n)
            return 0;
    }
    *out = n;
    return 1;
}

static int jpath_run(const aw_doc *d, const aw_jpath *p, aw_json_visit_fn fn, void *ud, int expand_end)
{
    walk w = { d, fn, ud, expand_end };
    if (!d || !d->n)
        return 0;
    const aw_jnode *n = d->nodes;
    if (p->plen == 0)
        return visit_end(&w, n);
    int r = descend(d, p, 0, &n);
    if (r < 0)
        return walk_path(&w, d->nodes, p->path, p->plen);
    return r ? visit_end(&w, n) : 0;
}

/* strict: p.name's longer heads, which a dotted root may name, are not
 * p's own */
int aw_jpath_plain_object(const aw_doc *d, const aw_jpath *p, const aw_jnode **obj)
{
    const aw_jnode *n;
    *obj = NULL;
    if (!d || !d->n || p->plen == 0)
        return -1;
    int r = descend(d, p, 1, &n);
    if (r <= 0)
        return r;
    if (n->dropped || (n->type != AW_JOBJ && n->type != AW_JARR))
        return 0;
    if (n->type == AW_JARR || n->dotted)
        return -1;
    *obj = n;
    return 1;
}

int aw_json_each_value(const aw_doc *d, const aw_jnode *n, aw_json_visit_fn fn, void *ud)
{
    walk w = { d, fn, ud, 1 };
    return visit_end(&w, n);
}

static int drop_fn(const aw_doc *cd, const aw_jnode *n, void *ud);
typedef struct drop_ctx drop_ctx;

int aw_jpath_each(const aw_doc *d, const aw_jpath *p, aw_json_visit_fn fn, void *ud)
{
    return jpath_run(d, p, fn, ud, 1);
}

const aw_jnode *aw_jpath_first(const aw_doc *d, const aw_jpath *p)
{
    const aw_jnode *found = NULL;
    jpath_run(d, p, first_fn, &found, 0);
    return found;
}

/* Nodes are stored in preorder, so n's subtree is the index range
 * [idx, end) where end is the first later node that is not below n. */
static uint32_t subtree_end(const aw_doc *d, uint32_t idx)
{
    while (idx != 0) {
        if (d->nodes[idx].next)
            return d->nodes[idx].next;
        idx = d->nodes[idx].parent;
    }
    return d->n;
}

struct drop_ctx {
    aw_doc *d;
    size_t count;
};

static int drop_fn(const aw_doc *cd, const aw_jnode *n, void *ud)
{
    drop_ctx *c = ud;
    uint32_t i = aw_doc_index(cd, n), end = subtree_end(cd, i);
    for (; i < end; i++) {
        if (!c->d->nodes[i].dropped) {
            c->d->nodes[i].dropped = 1;
            c->count++;
        }
    }
    return 0;
}

size_t aw_json_drop(aw_doc *d, const char *path, size_t plen)
{
    drop_ctx c = { d, 0 };
    if (!d || !d->n || plen == 0)
        return 0;
    run(d, NULL, path, plen, drop_fn, &c, 0);
    return c.count;
}

size_t aw_jpath_drop(aw_doc *d, const aw_jpath *p)
{
    drop_ctx c = { d, 0 };
    if (!d || !d->n || p->plen == 0)
        return 0;
    jpath_run(d, p, drop_fn, &c, 0);
    return c.count;
}

int aw_json_leaves_each(const aw_doc *d, aw_json_visit_fn fn, void *ud)
{
    uint32_t i;
    if (!d)
        return 0;
    for (i = 0; i < d->n; i++) {
        const aw_jnode *n = &d->nodes[i];
        int r;
        if (n->dropped || n->type == AW_JNULL || n->type == AW_JARR ||
            n->type == AW_JOBJ)
            continue;
        if ((r = fn(d, n, ud)))
            return r;
    }
    return 0;
}

aw_status aw_json_append_member(aw_doc *d, const char *key, aw_jtype type, const char *val, double num)
{
    if (!d || !d->n || d->nodes[0].type != AW_JOBJ)
        return AW_ERR;
    size_t klen = strlen(key);
    if (aw_json_member(d, &d->nodes[0], key, klen))
        return AW_ERR;                              /* already there */
    if (d->n >= d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 256;
        aw_jnode *nn = realloc(d->nodes, ncap * sizeof *nn);
        if (!nn)
            return AW_ENOMEM;
        d->nodes = nn;
        d->cap = ncap;
    }
    uint32_t idx = d->n++, last = d->rtail ? d->rtail : d->nodes[0].child;
    aw_jnode *n = &d->nodes[idx];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)type;
    n->key = key;
    n->klen = (uint32_t)klen;
    n->val = val;
    n->vlen = (uint32_t)strlen(val);
    n->num = num;
    if (memchr(key, '.', klen))
        d->nodes[0].dotted = 1;
    if (!last) {
        d->nodes[0].child = idx;
    } else {
        while (d->nodes[last].next)
            last = d->nodes[last].next;
        d->nodes[last].next = idx;
    }
    d->rtail = idx;
    if (d->ridx_state == 1 && ++d->ridx_n <= AWJ_RIDX / 2) {
        /* the key is new (looked up above): extend the index in place */
        uint32_t h = awj_ridx_hash(key, klen);
        d->rmask |= 1ull << (h & 63);
        if (memchr(key, '.', klen))
            d->rdmask |= 1ull << (h & 63);
        while (d->ridx[h])
            h = (h + 1) & (AWJ_RIDX - 1);
        d->ridx[h] = idx + 1;
    } else {
        d->ridx_state = 0;                          /* re-index on next lookup */
    }
    return AW_OK;
}

aw_status aw_json_set_string(aw_doc *d, uint32_t idx, const char *val)
{
    if (!d || idx == 0 || idx >= d->n || d->nodes[idx].type != AW_JSTR)
        return AW_ERR;
    d->nodes[idx].val = val;
    d->nodes[idx].vlen = (uint32_t)strlen(val);
    return AW_OK;
}
