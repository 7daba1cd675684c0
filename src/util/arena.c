/* arena.c - bump allocator and checked heap helpers (see arena.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

struct aw_arena_blk {
    aw_arena_blk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

static void oom(size_t n)
{
    fprintf(stderr, "aupwatch: out of memory allocating %zu bytes\n", n);
    abort();
}

void *aw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *aw_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        oom(n * sz);
    return p;
}

void *aw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *aw_xstrndup(const char *s, size_t n)
{
    char *p = aw_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *aw_xstrdup(const char *s)
{
    return aw_xstrndup(s, strlen(s));
}

void aw_grow_slow(void **pp, size_t *cap, size_t need, size_t sz)
{
    if (need < *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap <= need)
        ncap *= 2;
    *pp = aw_xrealloc(*pp, ncap * sz);
    memset((char *)*pp + *cap * sz, 0, (ncap - *cap) * sz);
    *cap = ncap;
}

void aw_arena_init(aw_arena *a)
{
    a->head = NULL;
    a->used_total = 0;
}

void aw_arena_reset(aw_arena *a)
{
    aw_arena_blk *b = a->head;
    while (b) {
        aw_arena_blk *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
}

void *aw_arena_alloc(aw_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    aw_arena_blk *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        b = aw_xmalloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    memset(p, 0, n);
    return p;
}

char *aw_arena_strndup(aw_arena *a, const char *s, size_t n)
{
    char *p = aw_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *aw_arena_strdup(aw_arena *a, const char *s)
{
    return aw_arena_strndup(a, s, strlen(s));
}
