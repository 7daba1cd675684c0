/* sstring.c - Sigma strings: escapes, wildcards, placeholders, and the
 * glob matcher that tests an event value against them.
 *
 * Escaping follows the spec's table (identical to pySigma): a backslash
 * escapes only '*', '?' and '\'; before any other character, and at the
 * end of the value, it is literal. Matching is over bytes with ASCII
 * case folding; '?' consumes one UTF-8 character. */
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sigma/sigma_int.h"

/* glibc's memmem (two-way) sets up tables on every call: ~350
 * instructions to search a 100-byte command line. Here 16 positions are
 * tested at a time for the needle's first and last byte, and only
 * positions with both are compared. */
const char *aw_memfind(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn == 0)
        return h;
    if (nn > hn)
        return NULL;
    if (nn == 1)
        return memchr(h, n[0], hn);
    size_t i = 0, last = hn - nn;       /* candidate starts: [0, last] */
#ifdef __SSE2__
    const __m128i f = _mm_set1_epi8(n[0]), l = _mm_set1_epi8(n[nn - 1]);
    for (; i + 16 <= last + 1; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(h + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(h + i + nn - 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
        for (; m; m &= m - 1) {
            size_t k = i + (size_t)__builtin_ctz(m);
            if (memcmp(h + k + 1, n + 1, nn - 2) == 0)
                return h + k;
        }
    }
#endif
    for (; i <= last; i++)
        if (h[i] == n[0] && h[i + nn - 1] == n[nn - 1] && memcmp(h + i + 1, n + 1, nn - 2) == 0)
            return h + i;
    return NULL;
}

/* (sigma_int.h) */
void aw_fold_ascii(char *dst, const char *src, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    /* 'A'..'Z' are the signed bytes above '@' and below '[' */
    const __m128i at = _mm_set1_epi8('A' - 1), zb = _mm_set1_epi8('Z' + 1), x20 = _mm_set1_epi8(0x20);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        __m128i up = _mm_and_si128(_mm_cmpgt_epi8(v, at), _mm_cmplt_epi8(v, zb));
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_add_epi8(v, _mm_and_si128(up, x20)));
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
}

typedef struct tokbuf {
    aw_tok *t;
    size_t n, cap;
    char *lit;          /* pending literal */
    size_t litn, litcap;
} tokbuf;

static void lit_push(tokbuf *b, char c)
{
    aw_grow((void **)&b->lit, &b->litcap, b->litn, 1);
    b->lit[b->litn++] = c;
}

static void tok_push(tokbuf *b, aw_arena *a, aw_tktype t, const char *s, size_t n)
{
    aw_grow((void **)&b->t, &b->cap, b->n, sizeof *b->t);
    b->t[b->n].t = t;
    b->t[b->n].s = s ? aw_arena_strndup(a, s, n) : NULL;
    b->t[b->n].n = n;
    b->n++;
}

static void lit_flush(tokbuf *b, aw_arena *a)
{
    if (b->litn) {
        tok_push(b, a, TK_LIT, b->lit, b->litn);
        b->litn = 0;
    }
}

static aw_sstr tok_finish(tokbuf *b, aw_arena *a)
{
    aw_sstr s;
    lit_flush(b, a);
    s.n = b->n;
    s.toks = aw_arena_alloc(a, (b->n ? b->n : 1) * sizeof *s.toks);
    if (b->n)
        memcpy(s.toks, b->t, b->n * sizeof *s.toks);
    free(b->t);
    free(b->lit);
    return s;
}

aw_sstr aw_sstr_parse(aw_arena *a, const char *s, size_t n, bool placeholders)
{
    tokbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n &&
            (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\' ||
             (placeholders && s[i + 1] == '%'))) {
            lit_push(&b, s[++i]);
        } else if (c == '*' || c == '?') {
            lit_flush(&b, a);
            tok_push(&b, a, c == '*' ? TK_STAR : TK_QMARK, NULL, 0);
        } else if (c == '%' && placeholders) {
            const char *end = memchr(s + i + 1, '%', n - i - 1);
            if (end && end > s + i + 1) {
                lit_flush(&b, a);
                tok_push(&b, a, TK_PH, s + i + 1, (size_t)(end - s - i - 1));
                i = (size_t)(end - s);
            } else {
                lit_push(&b, c);
            }
        } else {
            lit_push(&b, c);
        }
    }
    return tok_finish(&b, a);
}

aw_sstr aw_sstr_literal(aw_arena *a, const char *s, size_t n)
{
    tokbuf b = {0};
    if (n)
        tok_push(&b, a, TK_LIT, s, n);
    return tok_finish(&b, a);
}

bool aw_sstr_has_wildcards(const aw_sstr *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->toks[i].t == TK_STAR || s->toks[i].t == TK_QMARK)
            return true;
    return false;
}

char *aw_sstr_render(aw_arena *a, const aw_sstr *s)
{
    size_t cap = 1;
    for (size_t i = 0; i < s->n; i++)
        cap += 2 * s->toks[i].n + 3;
    char *out = aw_arena_alloc(a, cap), *p = out;
    for (size_t i = 0; i < s->n; i++) {
        const aw_tok *t = &s->toks[i];
        if (t->t == TK_STAR)
            *p++ = '*';
        else if (t->t == TK_QMARK)
            *p++ = '?';
        else if (t->t == TK_PH) {
            *p++ = '%';
            memcpy(p, t->s, t->n);
            p += t->n;
            *p++ = '%';
        } else {
            for (size_t j = 0; j < t->n; j++) {
                if (t->s[j] == '*' || t->s[j] == '?' || t->s[j] == '\\')
                    *p++ = '\\';
                *p++ = t->s[j];
            }
        }
    }
    *p = 0;
    return out;
}

/* ---- matching ------------------------------------------------------------ */

static inline unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool eq_fold(const char *h, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fold((unsigned char)h[i]) != (unsigned char)lit[i])
            return false;
    return true;
}

static inline bool lit_eq(const char *h, const char *lit, size_t n, bool cased)
{
    return cased ? memcmp(h, lit, n) == 0 : eq_fold(h, lit, n);
}

static bool contains(const char *h, size_t hn, const char *lit, size_t n, bool cased)
{
    if (n == 0)
        return true;
    if (n > hn)
        return false;
    if (cased)
        return aw_memfind(h, hn, lit, n) != NULL;
    unsigned char c0 = (unsigned char)lit[0];
    unsigned char c1 = (c0 >= 'a' && c0 <= 'z') ? (unsigned char)(c0 - 32) : c0;
    const char *end = h + hn - n;
    for (const char *p = h; p <= end; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c == c0 || c == c1) && eq_fold(p + 1, lit + 1, n - 1))
            return true;
    }
    return false;
}

static size_t utf8_step(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return k <= n ? k : n;
}

static bool glob_general(const aw_tok *t, size_t nt, const char *s, size_t n, bool cased)
{
    size_t ti = 0, si = 0, star_ti = (size_t)-1, star_si = 0;
    for (;;) {
        if (ti < nt) {
            const aw_tok *k = &t[ti];
            if (k->t == TK_STAR) {
                star_ti = ti++;
                star_si = si;
                continue;
            }
            if (k->t == TK_QMARK && si < n) {
                si += utf8_step(s + si, n - si);
                ti++;
                continue;
            }
            if (k->t == TK_LIT && si + k->n <= n && lit_eq(s + si, k->s, k->n, cased)) {
                si += k->n;
                ti++;
                continue;
            }
        } else if (si == n) {
            return true;
        }
        if (star_ti == (size_t)-1 || star_si >= n)
            return false;
        star_si++;
        si = star_si;
        ti = star_ti + 1;
    }
}

bool aw_glob_match(const aw_leaf *l, const char *s, size_t n)
{
    switch (l->shape) {
    case GS_ANY:
        return true;
    case GS_EXACT:
        return n == l->litn && lit_eq(s, l->lit, n, l->cased);
    case GS_PREFIX:
        return n >= l->litn && lit_eq(s, l->lit, l->litn, l->cased);
    case GS_SUFFIX:
        return n >= l->litn && lit_eq(s + n - l->litn, l->lit, l->litn, l->cased);
    case GS_CONTAINS:
        return contains(s, n, l->lit, l->litn, l->cased);
    case GS_GENERAL:
        return glob_general(l->pat.toks, l->pat.n, s, n, l->cased);
    }
    return false;
}

/* Fold literals, merge adjacent literals and stars, pick a fast shape. */
void aw_glob_prepare(aw_arena *a, aw_leaf *l, const aw_sstr *s)
{
    aw_tok *t = aw_arena_alloc(a, (s->n ? s->n : 1) * sizeof *t);
    size_t nt = 0;
    for (size_t i = 0; i < s->n; i++) {
        aw_tok k = s->toks[i];
        if (k.t == TK_LIT && k.n == 0)
            continue;
        if (k.t == TK_STAR && nt && t[nt - 1].t == TK_STAR)
            continue;
        if (k.t == TK_LIT && nt && t[nt - 1].t == TK_LIT) {
            char *m = aw_arena_alloc(a, t[nt - 1].n + k.n + 1);
            memcpy(m, t[nt - 1].s, t[nt - 1].n);
            memcpy(m + t[nt - 1].n, k.s, k.n);
            t[nt - 1].s = m;
            t[nt - 1].n += k.n;
            continue;
        }
        t[nt++] = k;
    }
    for (size_t i = 0; i < nt; i++) {
        if (t[i].t != TK_LIT || l->cased)
            continue;
        char *f = aw_arena_strndup(a, t[i].s, t[i].n);
        for (size_t j = 0; j < t[i].n; j++)
            f[j] = (char)fold((unsigned char)f[j]);
        t[i].s = f;
    }
    l->kind = LM_GLOB;
    l->pat.toks = t;
    l->pat.n = nt;
    l->lit = "";
    l->litn = 0;
#define IS(i, k) (t[i].t == (k))
    if (nt == 0) {
        l->shape = GS_EXACT;
    } else if (nt == 1 && IS(0, TK_STAR)) {
        l->shape = GS_ANY;
    } else if (nt == 1 && IS(0, TK_LIT)) {
        l->shape = GS_EXACT, l->lit = t[0].s, l->litn = t[0].n;
    } else if (nt == 2 && IS(0, TK_LIT) && IS(1, TK_STAR)) {
        l->shape = GS_PREFIX, l->lit = t[0].s, l->litn = t[0].n;
    } else if (nt == 2 && IS(0, TK_STAR) && IS(1, TK_LIT)) {
        l->shape = GS_SUFFIX, l->lit = t[1].s, l->litn = t[1].n;
    } else if (nt == 3 && IS(0, TK_STAR) && IS(1, TK_LIT) && IS(2, TK_STAR)) {
        l->shape = GS_CONTAINS, l->lit = t[1].s, l->litn = t[1].n;
    } else {
        l->shape = GS_GENERAL;
    }
#undef IS
}

/* Same as aw_glob_match, given also the value folded to lower case
 * (ASCII): the folded copy is made once per value and shared by every
 * rule, and lets the common shapes use memcmp/memmem. */
bool aw_glob_match_fold(const aw_leaf *l, const char *s, const char *folded, size_t n)
{
    if (l->cased)
        return aw_glob_match(l, s, n);
    switch (l->shape) {
    case GS_ANY:
        return true;
    case GS_EXACT:
        return n == l->litn && memcmp(folded, l->lit, n) == 0;
    case GS_PREFIX:
        return n >= l->litn && memcmp(folded, l->lit, l->litn) == 0;
    case GS_SUFFIX:
        return n >= l->litn && memcmp(folded + n - l->litn, l->lit, l->litn) == 0;
    case GS_CONTAINS:
        return l->litn == 0 || aw_memfind(folded, n, l->lit, l->litn) != NULL;
    case GS_GENERAL:
        return glob_general(l->pat.toks, l->pat.n, folded, n, true);
    }
    return false;
}
