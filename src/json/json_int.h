/* json_int.h - private to src/json: the aw_doc layout and the byte-level
 * helpers (SWAR scanning, UTF-8 sequence checks) shared by the parser,
 * the path functions and the serialiser. */
#ifndef AW_JSON_INT_H
#define AW_JSON_INT_H

#include <stdint.h>
#include <string.h>

#include "aupwatch/aw_json.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define AWJ_RIDX 128    /* slots of the root-member index (power of 2) */

struct aw_doc {
    aw_jnode *nodes;    /* preorder: a subtree is a contiguous index range */
    uint32_t n;
    uint32_t nparsed;   /* nodes [0, nparsed) came from the record's text;
                           later ones were appended (derived fields) */
    size_t cap;
    char *arena;        /* the record's copy (strings decoded in place),
                           then number copies */
    size_t acap;
    /* Root-member index, built on the first lookup in the root object
     * (most lookups start there): 1 + node index, 0 = empty. */
    int ridx_state;     /* 0 not built, 1 built, -1 too many members */
    uint32_t ridx[AWJ_RIDX];
    uint32_t ridx_n;    /* members indexed (bound on occupancy) */
    uint64_t rmask;     /* bit (hash & 63) of every indexed member: most
                           lookups of absent keys stop at it */
    uint64_t rdmask;    /* the same, of the indexed names holding a '.'
                           (all ones after a parse whose root has one) */
    uint32_t rtail;     /* last member of the root (appends), 0: unknown */
    int had_u;          /* the text held a \u escape */
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define AWJ_SWAR 1
#else
#define AWJ_SWAR 0
#endif

#define AWJ_REP(b) (0x0101010101010101ULL * (uint64_t)(b))
/* High bit set in each byte of w that is zero / below n (n <= 128). Borrows
 * can only produce false positives above a true hit, so the lowest flagged
 * byte is always exact. */
#define AWJ_HASZERO(w) (((w) - AWJ_REP(1)) & ~(w) & AWJ_REP(0x80))
#define AWJ_HASLESS(w, n) (((w) - AWJ_REP(n)) & ~(w) & AWJ_REP(0x80))

/* 1 for bytes that end a plain run inside a JSON string: '"', '\\',
 * control characters and non-ASCII bytes. */
extern const uint8_t awj_str_special[256];

/* First byte in [p, e) that is awj_str_special, or that is '.' when
 * `dot` is set (member names: the parser notes dotted ones), or e.
 * Callers pass a constant `dot`, so each inlined copy has one loop. */
static inline const unsigned char *awj_find_special_or(const unsigned char *p,
                                                       const unsigned char *e, int dot)
{
#ifdef __SSE2__
    /* signed compare: bytes >= 0x80 are negative, so "< 0x20" also
     * catches non-ASCII */
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), lo = _mm_set1_epi8(0x20),
                  dt = _mm_set1_epi8(dot ? '.' : '"');
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i s = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)), _mm_cmplt_epi8(v, lo));
        if (dot)
            s = _mm_or_si128(s, _mm_cmpeq_epi8(v, dt));
        unsigned m = (unsigned)_mm_movemask_epi8(s);
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
#if AWJ_SWAR
    while (e - p >= 8) {
        uint64_t w, t;
        memcpy(&w, p, 8);
        t = AWJ_HASZERO(w ^ AWJ_REP('"')) | AWJ_HASZERO(w ^ AWJ_REP('\\')) |
            AWJ_HASLESS(w, 0x20) | (w & AWJ_REP(0x80));
        if (dot)
            t |= AWJ_HASZERO(w ^ AWJ_REP('.'));
        if (t)
            return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
#endif
    while (p < e && !awj_str_special[*p] && !(dot && *p == '.'))
        p++;
    return p;
}

/* First byte in [p, e) that is awj_str_special, or e. */
static inline const unsigned char *awj_find_special(const unsigned char *p,
                                                    const unsigned char *e)
{
    return awj_find_special_or(p, e, 0);
}

/* Length (2..4) of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 if
 * it is invalid: stray continuation, overlong, surrogate, > U+10FFFF or
 * truncated by e. */
static inline size_t awj_utf8_seq(const unsigned char *p,
                                  const unsigned char *e)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n, i;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        n = 2;
    else if (c < 0xF0) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if ((size_t)(e - p) < n)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A member name's hash (aw_json_name_hash; the root index's,
 * aw_json_key_hash, is its top bits): its first and last 8 bytes (4, or
 * three bytes, when shorter) and its length, multiplied. Names that
 * share their ends and length collide, which CloudTrail's do not
 * ("eventTime", "eventName" and "eventType" did under a hash of the
 * first, middle and last byte). */
static inline uint64_t awj_name_hash(const char *k, size_t n)
{
    uint64_t a, b;
    if (n >= 8) {
        memcpy(&a, k, 8);
        memcpy(&b, k + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, k, 4);
        memcpy(&y, k + n - 4, 4);
        a = x;
        b = y;
    } else {
        a = n ? (uint64_t)(unsigned char)k[0] | (uint64_t)(unsigned char)k[n / 2] << 8 |
                    (uint64_t)(unsigned char)k[n - 1] << 16
              : 0;
        b = 0;
    }
    return (a ^ (b * 0x9E3779B97F4A7C15ull) ^ n) * 0xC2B2AE3D27D4EB4Full;
}

static inline uint32_t awj_ridx_hash(const char *k, size_t n)
{
    return (uint32_t)(awj_name_hash(k, n) >> 40) & (AWJ_RIDX - 1);
}

/* Enter root member node idx, named key[0..klen), in the root index
 * (the first of duplicate names stays). */
static inline void awj_ridx_add(aw_doc *d, uint32_t idx, const char *key, size_t klen)
{
    uint32_t h = awj_ridx_hash(key, klen);
    d->rmask |= 1ull << (h & 63);
    for (;; h = (h + 1) & (AWJ_RIDX - 1)) {
        uint32_t j = d->ridx[h];
        if (!j) {
            d->ridx[h] = idx + 1;
            return;
        }
        if (d->nodes[j - 1].klen == klen && memcmp(d->nodes[j - 1].key, key, klen) == 0)
            return;
    }
}

#endif
