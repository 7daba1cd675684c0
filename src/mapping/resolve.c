/* resolve.c - rule field names to event paths, and path walking with
 * "*" segments.
 *
 * Resolution order for a rule field (docs/mappings.md):
 *   1. an exact entry under `fields:` (ordered fallback paths);
 *   2. the longest wildcard entry "a.b.*" that prefixes the field:
 *      "a.b.rest" -> each target prefix + "rest";
 *   3. the source's `prefixes:`, in order ("" = the field itself);
 *   4. the field itself, as a dotted path.
 * Answers for 2-4 are built once, interned per source under the
 * mapping's lock and valid while the mapping lives; resolution happens
 * when rules are compiled, not per event.
 *
 * "*" as a whole path segment matches every member of an object (and
 * every element of an array), so `Event.UserData.*.` reaches the one
 * element that Windows puts under UserData whatever its name. */
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping_int.h"

/* ------------------------------------------------------------------ */
/* walking                                                             */

typedef struct star_ctx {
    const char *tail;           /* path after the "*" segment, or NULL */
    size_t tlen;
    aw_json_visit_fn fn;
    void *ud;
} star_ctx;

static int each_child(const aw_doc *d, const aw_jnode *n, const star_ctx *c);

/* A node reached by "*": continue with the tail, or hand it out
 * (arrays expanded, as at the end of any path). */
static int star_step(const aw_doc *d, const aw_jnode *n, const star_ctx *c)
{
    if (c->tail)
        return mp_path_each(d, n, c->tail, c->tlen, c->fn, c->ud);
    if (n->type == AW_JARR)
        return each_child(d, n, c);
    return c->fn(d, n, c->ud);
}

static int each_child(const aw_doc *d, const aw_jnode *n, const star_ctx *c)
{
    uint32_t i = n->child;
    while (i) {
        const aw_jnode *k = aw_doc_node(d, i);
        int r;
        if (!k)
            break;
        if (!k->dropped && (r = star_step(d, k, c)))
            return r;
        i = k->next;
    }
    return 0;
}

static int star_visit(const aw_doc *d, const aw_jnode *n, void *ud)
{
    if (n->type != AW_JOBJ && n->type != AW_JARR)
        return 0;
    return each_child(d, n, ud);
}

int mp_path_each(const aw_doc *d, const aw_jnode *from, const char *path,
                 size_t plen, aw_json_visit_fn fn, void *ud)
{
    size_t i = plen;
    star_ctx c;
    for (const char *st = memchr(path, '*', plen); st; st = memchr(st + 1, '*', (size_t)(path + plen - st - 1))) {
        i = (size_t)(st - path);
        if ((i == 0 || path[i - 1] == '.') && (i + 1 == plen || path[i + 1] == '.'))
            break;                                  /* a "*" segment */
        i = plen;
    }
    if (i == plen)
        return aw_json_path_each(d, from, path, plen, fn, ud);
    c.fn = fn;
    c.ud = ud;
    c.tail = i + 1 < plen ? path + i + 2 : NULL;
    c.tlen = i + 1 < plen ? plen - i - 2 : 0;
    if (c.tail && c.tlen == 0)
        return 0;
    if (i == 0) {
        const aw_jnode *n = from ? from : aw_doc_root(d);
        return n ? star_visit(d, n, &c) : 0;
    }
    return aw_json_path_each(d, from, path, i - 1, star_visit, &c);
}

static int take_first(const aw_doc *d, const aw_jnode *n, void *ud)
{
    (void)d;
    *(const aw_jnode **)ud = n;
    return 1;
}

const aw_jnode *mp_path_first(const aw_doc *d, const char *path, size_t plen)
{
    const aw_jnode *n = NULL;
    if (!memchr(path, '*', plen))
        return aw_json_path_first(d, NULL, path, plen);
    mp_path_each(d, NULL, path, plen, take_first, &n);
    return n;
}

aw_jpath *mp_jpath(aw_mapping *m, const char *path)
{
    if (strchr(path, '*'))
        return NULL;
    aw_jpath *p = aw_jpath_new(path, strlen(path));
    if (p) {
        aw_grow((void **)&m->jps, &m->capjps, m->njps, sizeof *m->jps);
        m->jps[m->njps++] = p;
    }
    return p;
}

static aw_jpath *const *jpaths(aw_mapping *m, const char *const *paths, size_t n)
{
    aw_jpath **j = aw_arena_alloc(&m->arena, (n ? n : 1) * sizeof *j);
    for (size_t i = 0; i < n; i++)
        j[i] = mp_jpath(m, paths[i]);
    return j;
}

/* A derivation's paths, interned among the source's derivations (five
 * read requestParameters.key): one string and one compiled path each,
 * so derive.c's per-record memo compares pointers. */
#define DERIVE_INTERN 64
typedef struct dintern {
    const char *s[DERIVE_INTERN];
    aw_jpath *j[DERIVE_INTERN];
    size_t n;
} dintern;

static aw_jpath *const *derive_paths(aw_mapping *m, dintern *t, const char *const *cp, size_t n)
{
    const char **p = (const char **)(uintptr_t)cp;     /* arena-owned, loading */
    aw_jpath **j = aw_arena_alloc(&m->arena, (n ? n : 1) * sizeof *j);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < t->n && strcmp(t->s[k], p[i]) != 0)
            k++;
        if (k < t->n) {
            p[i] = t->s[k];
            j[i] = t->j[k];
            continue;
        }
        j[i] = mp_jpath(m, p[i]);
        if (t->n < DERIVE_INTERN) {
            t->s[t->n] = p[i];
            t->j[t->n++] = j[i];
        }
    }
    return j;
}

void mp_compile_paths(aw_mapping *m, aw_source *s)
{
    s->time_jp = jpaths(m, s->time, s->ntime);
    s->drop_jp = jpaths(m, s->drop, s->ndrop);
    for (size_t i = 0; i < s->ntenant; i++)
        ((mp_tenant *)&s->tenant[i])->jp = mp_jpath(m, s->tenant[i].path);
    dintern t;
    t.n = 0;
    for (size_t i = 0; i < s->nderive; i++) {
        mp_derive *x = (mp_derive *)&s->derive[i];
        x->from_jp = derive_paths(m, &t, x->from, x->nfrom);
        x->key_jp = derive_paths(m, &t, x->key, x->nkey);
    }
}

const aw_jnode *mp_first(const aw_doc *d, const aw_jpath *jp, const char *path)
{
    return jp ? aw_jpath_first(d, jp) : mp_path_first(d, path, strlen(path));
}

int aw_mapping_path_each(const aw_doc *d, const char *path, size_t plen,
                         aw_json_visit_fn fn, void *ud)
{
    return mp_path_each(d, NULL, path, plen, fn, ud);
}

/* ------------------------------------------------------------------ */
/* resolution                                                          */

static char *cat(aw_arena *a, const char *x, const char *y)
{
    size_t lx = strlen(x), ly = strlen(y);
    char *s = aw_arena_alloc(a, lx + ly + 1);
    memcpy(s, x, lx);
    memcpy(s + lx, y, ly + 1);
    return s;
}

static mp_resolved *build(aw_source *s, aw_arena *a, const char *field)
{
    mp_resolved *r = aw_arena_alloc(a, sizeof *r);
    const mp_field *best = NULL;
    const char **p;
    size_t fl = strlen(field);

    r->field = aw_arena_strdup(a, field);
    for (size_t i = 0; i < s->nfields; i++) {
        const mp_field *f = &s->fields[i];
        size_t pl = strlen(f->field);
        if (f->wildcard && fl > pl && strncmp(field, f->field, pl) == 0 &&
            (!best || pl > strlen(best->field)))
            best = f;
    }
    if (best) {
        const char *rest = field + strlen(best->field);
        p = aw_arena_alloc(a, best->npaths * sizeof *p);
        for (size_t j = 0; j < best->npaths; j++)
            p[j] = cat(a, best->paths[j], rest);
        r->n = best->npaths;
    } else if (s->nprefixes) {
        p = aw_arena_alloc(a, s->nprefixes * sizeof *p);
        for (size_t j = 0; j < s->nprefixes; j++)
            p[j] = cat(a, s->prefixes[j], field);
        r->n = s->nprefixes;
    } else {
        p = aw_arena_alloc(a, sizeof *p);
        p[0] = r->field;
        r->n = 1;
    }
    r->paths = p;
    return r;
}

static size_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32));
}

/* Slot of field in t: its entry, or the empty slot where it would go.
 * Entries are only ever added (under the mapping's lock, release) and a
 * table, once published, is never freed (it lives in the arena), so a
 * reader without the lock sees a subset of the entries: at worst it
 * misses one being added and takes the lock. */
static size_t cache_slot(mp_rtab *t, const char *field)
{
    size_t i = name_hash(field) & (t->cap - 1);
    mp_resolved *r;
    while ((r = atomic_load_explicit(&t->slot[i], memory_order_acquire)) && strcmp(r->field, field) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static mp_resolved *cache_peek(aw_source *s, const char *field)
{
    mp_rtab *t = atomic_load_explicit(&s->rtab, memory_order_acquire);
    return t ? atomic_load_explicit(&t->slot[cache_slot(t, field)], memory_order_acquire) : NULL;
}

/* The interned resolution of field in s, built on first use (the
 * mapping's lock held). A table outgrown stays in the arena: at most as
 * much again. */
static mp_resolved *cache_get(aw_source *s, aw_arena *a, const char *field)
{
    mp_resolved *r = cache_peek(s, field);
    if (r)
        return r;
    mp_rtab *t = atomic_load_explicit(&s->rtab, memory_order_relaxed);
    if (!t || 2 * (s->ncache + 1) > t->cap) {
        size_t cap = t ? 2 * t->cap : 16;
        mp_rtab *nt = aw_arena_alloc(a, sizeof *nt + cap * sizeof nt->slot[0]);    /* zeroed */
        nt->cap = cap;
        for (size_t k = 0; t && k < t->cap; k++) {
            mp_resolved *e = atomic_load_explicit(&t->slot[k], memory_order_relaxed);
            if (e)
                atomic_store_explicit(&nt->slot[cache_slot(nt, e->field)], e, memory_order_relaxed);
        }
        atomic_store_explicit(&s->rtab, nt, memory_order_release);
        t = nt;
    }
    r = build(s, a, field);
    atomic_store_explicit(&t->slot[cache_slot(t, field)], r, memory_order_release);
    s->ncache++;
    return r;
}

size_t aw_source_resolve(const aw_source *s, const char *field, const char *const **paths)
{
    aw_mapping *m;
    aw_source *ms;
    mp_resolved *r;
    size_t n;

    if (!s || !field || !*field) {
        if (paths)
            *paths = NULL;
        return 0;
    }
    for (size_t i = 0; i < s->nfields; i++) {
        if (!s->fields[i].wildcard && strcmp(s->fields[i].field, field) == 0) {
            *paths = s->fields[i].paths;
            return s->fields[i].npaths;
        }
    }
    /* The interning cache is the only mutable part of a loaded mapping:
     * read without the lock, filled under it. */
    ms = (aw_source *)s;
    if ((r = cache_peek(ms, field)) != NULL) {
        *paths = r->paths;
        return r->n;
    }
    m = (aw_mapping *)s->owner;
    pthread_mutex_lock(&m->lock);
    r = cache_get(ms, &m->arena, field);
    *paths = r->paths;
    n = r->n;
    pthread_mutex_unlock(&m->lock);
    return n;
}
