/* tenant.c - which customer an event belongs to.
 *
 * A source lists tenant candidates in order (docs/mappings.md): a path,
 * optionally with a PCRE2 regex whose single capture group is the
 * tenant (Azure subscription from resourceId, GCP project from
 * logName). The first candidate that yields a non-empty value wins.
 *
 * This runs per event and must not allocate: the regex is compiled once
 * at load (JIT when available), and the match data PCRE2 needs per call
 * is carved out of a stack buffer through a custom general context, so
 * pcre2_match never reaches the heap. With JIT no backtracking frames
 * are needed; the interpreter needs at least 20 KiB of frames, so that
 * path gets a larger stack buffer. If the buffer is too small the match
 * fails (PCRE2_ERROR_NOMEMORY) and the next candidate is tried. */
#include <string.h>

#include "mapping/mapping_int.h"

typedef struct stack_heap {
    unsigned char *buf;
    size_t cap, used;
} stack_heap;

static void *sh_malloc(size_t n, void *ud)
{
    stack_heap *h = ud;
    size_t at = (h->used + 15) & ~(size_t)15;
    if (at > h->cap || n > h->cap - at)
        return NULL;
    h->used = at + n;
    return h->buf + at;
}

static void sh_free(void *p, void *ud)
{
    (void)p;
    (void)ud;
}

/* Group 1 of re on subject: *off, *len. Returns 1 on a match. */
static int match_in(const mp_tenant *t, const char *subj, size_t n,
                    unsigned char *buf, size_t cap, size_t *off, size_t *len)
{
    stack_heap h = {buf, cap, 0};
    pcre2_general_context *gc = pcre2_general_context_create(sh_malloc, sh_free, &h);
    pcre2_match_data *md;
    int rc, ok = 0;
    if (!gc)
        return 0;
    md = pcre2_match_data_create(2, gc);
    if (md) {
        rc = pcre2_match(t->re, (PCRE2_SPTR)subj, n, 0, 0, md, NULL);
        if (rc >= 2) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[2] != PCRE2_UNSET && ov[3] >= ov[2]) {
                *off = ov[2];
                *len = ov[3] - ov[2];
                ok = 1;
            }
        }
        pcre2_match_data_free(md);
    }
    pcre2_general_context_free(gc);
    return ok;
}

__attribute__((noinline))
static int match_jit(const mp_tenant *t, const char *s, size_t n, size_t *off, size_t *len)
{
    _Alignas(16) unsigned char buf[2048];
    return match_in(t, s, n, buf, sizeof buf, off, len);
}

__attribute__((noinline))
static int match_interp(const mp_tenant *t, const char *s, size_t n, size_t *off, size_t *len)
{
    _Alignas(16) unsigned char buf[28 * 1024];
    return match_in(t, s, n, buf, sizeof buf, off, len);
}

size_t mp_copy(char *out, size_t cap, const char *s, size_t n)
{
    if (cap == 0)
        return 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

size_t aw_source_tenant(const aw_source *s, const aw_doc *d, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!s || !d || !out || cap == 0)
        return 0;
    for (size_t i = 0; i < s->ntenant; i++) {
        const mp_tenant *t = &s->tenant[i];
        const aw_jnode *n = mp_first(d, t->jp, t->path);
        size_t vlen, off = 0, len;
        const char *v = mp_scalar(n, &vlen);
        if (!v || n->type == AW_JNULL || vlen == 0)
            continue;
        len = vlen;
        if (t->re && !(t->jit ? match_jit(t, v, vlen, &off, &len)
                              : match_interp(t, v, vlen, &off, &len)))
            continue;
        if (len == 0)
            continue;
        if (s->pseudo_tenant)
            return mp_pseudonym(s->owner, v + off, len, out, cap);
        return mp_copy(out, cap, v + off, len);
    }
    return 0;
}
