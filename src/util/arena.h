/* arena.h - bump allocator for data that lives and dies together
 * (a parsed YAML document, a compiled rule). Allocation aborts on
 * out-of-memory, as the rest of the engine's setup code does: a rule
 * set that cannot be held in memory is not recoverable. */
#ifndef AW_ARENA_H
#define AW_ARENA_H

#include <stddef.h>

typedef struct aw_arena_blk aw_arena_blk;
typedef struct aw_arena {
    aw_arena_blk *head;
    size_t used_total;
} aw_arena;

void aw_arena_init(aw_arena *a);
void aw_arena_reset(aw_arena *a);       /* frees every block */
void *aw_arena_alloc(aw_arena *a, size_t n);    /* zeroed, 16-aligned */
char *aw_arena_strndup(aw_arena *a, const char *s, size_t n);
char *aw_arena_strdup(aw_arena *a, const char *s);

/* Checked heap helpers: abort with a message on out-of-memory. */
void *aw_xmalloc(size_t n);
void *aw_xcalloc(size_t n, size_t sz);
void *aw_xrealloc(void *p, size_t n);
char *aw_xstrdup(const char *s);
char *aw_xstrndup(const char *s, size_t n);

/* Grow *pp (element size sz) so that index `need` fits; *cap updated.
 * Inline, as the hot loops call it once per element: only a full
 * array calls out (aw_grow_slow doubles it, zeroing the new part). */
void aw_grow_slow(void **pp, size_t *cap, size_t need, size_t sz);
static inline void aw_grow(void **pp, size_t *cap, size_t need, size_t sz)
{
    if (need >= *cap)
        aw_grow_slow(pp, cap, need, sz);
}

#endif
