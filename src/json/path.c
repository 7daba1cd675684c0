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
#include "json/json_int.h"

const aw_jnode *aw_json_member(const aw_doc *d, const aw_jnode *obj,
                               const char *key, size_t klen)
{
    uint32_t i;
    if (!d || !obj || obj->type != AW_JOBJ)
        return NULL;
    for (i = obj->child; i; i = d->nodes[i].next) {
        const aw_jnode *m = &d->nodes[i];
        if (m->klen == klen && !m->dropped && memcmp(m->key, key, klen) == 0)
            return m;
    }
    return NULL;
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
        const aw_jnode *m = aw_json_member(d, n, path, plen);
        size_t k;
        if (m)
            return visit_end(w, m);
        for (k = 0; k < plen; k++) {
            const char *dot = memchr(path + k, '.', plen - k);
            if (!dot)
                break;
            k = (size_t)(dot - path);
            m = aw_json_member(d, n, path, k);
            if (m && (r = walk_path(w, m, path + k + 1, plen - k - 1)))
                return r;
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

typedef struct drop_ctx {
    aw_doc *d;
    size_t count;
} drop_ctx;

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
