/* parse.c - strict RFC 8259 parser for one record into an aw_doc.
 *
 * Single pass, iterative (explicit stack, depth <= AW_JSON_MAX_DEPTH).
 * Nodes go into a growable array in document order (preorder), strings
 * are unescaped into an arena sized up front to len + 1 bytes, which is
 * always enough: an escaped string never grows when unescaped (quotes
 * pay for the NUL) and a number copy needs one byte more than its text,
 * paid for by the delimiter after it or by the +1. Because the arena is
 * never reallocated during a parse, node pointers into it are stable.
 * Both buffers are reused across parses, so warm parses do not allocate.
 * The input is not NUL-terminated; nothing reads past buf + len. */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "json/json_int.h"

const uint8_t awj_str_special[256] = {
    ['"'] = 1, ['\\'] = 1,
    [0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x90] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xA0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xB0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xC0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xD0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xE0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0xF0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

typedef struct pstate {
    aw_doc *d;
    const unsigned char *s, *p, *e;     /* the record's copy (in the arena) */
    const unsigned char *orig;          /* the caller's bytes */
    char *a;                /* arena write position (numbers) */
    aw_errbuf *err;
    size_t err_off;
} pstate;

aw_doc *aw_doc_new(void)
{
    return calloc(1, sizeof(aw_doc));
}

void aw_doc_free(aw_doc *d)
{
    if (!d)
        return;
    free(d->nodes);
    free(d->arena);
    free(d);
}

size_t aw_doc_count(const aw_doc *d)
{
    return d ? d->n : 0;
}

size_t aw_doc_parsed_count(const aw_doc *d)
{
    return d ? d->nparsed : 0;
}

int aw_doc_had_u_escape(const aw_doc *d)
{
    return d && d->had_u;
}

const aw_jnode *aw_doc_root(const aw_doc *d)
{
    return d && d->n ? &d->nodes[0] : NULL;
}

const aw_jnode *aw_doc_node(const aw_doc *d, uint32_t idx)
{
    return d && idx < d->n ? &d->nodes[idx] : NULL;
}

uint32_t aw_doc_index(const aw_doc *d, const aw_jnode *n)
{
    return (uint32_t)(n - d->nodes);
}

/* Record an error at offset `at` and return AW_EPARSE. */
static aw_status perr(pstate *ps, const unsigned char *at, const char *what)
{
    ps->err_off = (size_t)(at - ps->s);
    aw_errbuf_set(ps->err, "%s at offset %zu", what, ps->err_off);
    return AW_EPARSE;
}

static aw_status perr_byte(pstate *ps, const unsigned char *at,
                           const char *what)
{
    ps->err_off = (size_t)(at - ps->s);
    aw_errbuf_set(ps->err, "%s 0x%02X at offset %zu", what, *at,
                  ps->err_off);
    return AW_EPARSE;
}

static const char *ctx_name(unsigned c)
{
    switch (c) {
    case '{': return "'{'";
    case '[': return "'['";
    default:  return "value";
    }
}

/* Double the node array (the parser appends inline); 0 when out of
 * memory or at the node limit. */
static int nodes_grow(aw_doc *d)
{
    size_t ncap = d->cap ? d->cap * 2 : 256;
    aw_jnode *nn;
    if (ncap > UINT32_MAX - 1)
        ncap = UINT32_MAX - 1;
    if (d->n >= ncap)
        return 0;
    nn = realloc(d->nodes, ncap * sizeof *nn);
    if (!nn)
        return 0;
    d->nodes = nn;
    d->cap = ncap;
    return 1;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* Four hex digits at p (p + 4 <= e checked by caller); -1 if not hex. */
static long hex4(const unsigned char *p)
{
    int a = hexval(p[0]), b = hexval(p[1]), c = hexval(p[2]),
        d = hexval(p[3]);
    if ((a | b | c | d) < 0)
        return -1;
    return (long)((a << 12) | (b << 8) | (c << 4) | d);
}

static char *put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Move n bytes (w <= n <= 2w, w a constant) from src down to o < src:
 * the first and last w bytes, both loaded before either is stored. */
static inline void move_pair(char *o, const unsigned char *src, size_t n, size_t w)
{
    uint64_t a = 0, b = 0;
    memcpy(&a, src, w);
    memcpy(&b, src + n - w, w);
    memcpy(o, &a, w);
    memcpy(o + n - w, &b, w);
}

/* memmove(o, src, n) for o < src, as unescaping moves a string's runs
 * towards its front: the runs between a Windows path's backslashes are
 * short, and a call costs more than they do. */
static inline void move_down(char *o, const unsigned char *src, size_t n)
{
    if (n >= 16)
        memmove(o, src, n);
    else if (n >= 8)
        move_pair(o, src, n, 8);
    else if (n >= 4)
        move_pair(o, src, n, 4);
    else
        for (size_t i = 0; i < n; i++)
            o[i] = (char)src[i];
}

/* Parse the string whose opening quote is at ps->p, in place: the record
 * is a private copy, so a string without escapes stays where it is and
 * its closing quote becomes its NUL; escapes are decoded towards the
 * front (an escape never decodes to more bytes than it takes), behind
 * the bytes still to read. On success *out and *olen describe it and
 * ps->p is past the closing quote. For a member name (`name` set: a
 * constant, each caller gets its own copy), `dotted` is its object's
 * flag, set if the name (decoded) contains a '.'. */
static inline __attribute__((always_inline)) aw_status
parse_string(pstate *ps, const char **out, uint32_t *olen, int name, uint8_t *dotted)
{
    const unsigned char *q = ps->p, *p = q + 1, *e = ps->e, *seg = p;
    char *start = (char *)(uintptr_t)p, *o = NULL;     /* o: set at the first escape */
    if (name && *dotted)
        dotted = NULL;                                 /* already known */
    for (;;) {
        unsigned c;
        p = name && dotted ? awj_find_special_or(p, e, 1) : awj_find_special(p, e);
        if (p >= e)
            return perr(ps, q, "unterminated string starting");
        c = *p;
        if (name && c == '.') {                        /* only found for a name */
            *dotted = 1;
            dotted = NULL;
            p++;
            continue;
        }
        if (c == '"') {
            char *end = (char *)(uintptr_t)p;
            if (o) {
                size_t n = (size_t)(p - seg);
                move_down(o, seg, n);
                end = o + n;
                if (name && dotted && memchr(start, '.', (size_t)(end - start)))
                    *dotted = 1;                        /* an escaped '.' (\u002E) */
            }
            *end = '\0';
            *out = start;
            *olen = (uint32_t)(end - start);   /* < the record's length */
            ps->p = p + 1;
            return AW_OK;
        }
        if (c >= 0x80) {
            size_t n = awj_utf8_seq(p, e);
            if (!n)
                return perr_byte(ps, p, "invalid UTF-8 byte");
            p += n;
            continue;
        }
        if (c < 0x20)
            return perr_byte(ps, p, "control character");
        /* backslash */
        if (!o) {
            o = (char *)(uintptr_t)p;
        } else {
            move_down(o, seg, (size_t)(p - seg));
            o += p - seg;
        }
        if (e - p < 2)
            return perr(ps, q, "unterminated string starting");
        switch (p[1]) {
        case '"':  *o++ = '"'; p += 2; break;
        case '\\': *o++ = '\\'; p += 2; break;
        case '/':  *o++ = '/'; p += 2; break;
        case 'b':  *o++ = '\b'; p += 2; break;
        case 'f':  *o++ = '\f'; p += 2; break;
        case 'n':  *o++ = '\n'; p += 2; break;
        case 'r':  *o++ = '\r'; p += 2; break;
        case 't':  *o++ = '\t'; p += 2; break;
        case 'u': {
            long cp, lo;
            ps->d->had_u = 1;
            if (e - p < 6 || (cp = hex4(p + 2)) < 0)
                return perr(ps, p, "invalid \\u escape");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return perr(ps, p, "lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                    (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF)
                    return perr(ps, p, "lone high surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 12;
            } else {
                p += 6;
            }
            o = put_utf8(o, (unsigned long)cp);
            break;
        }
        default:
            if (p[1] >= 0x20 && p[1] < 0x7F) {
                ps->err_off = (size_t)(p - ps->s);
                aw_errbuf_set(ps->err, "invalid escape '\\%c' at offset %zu",
                              p[1], ps->err_off);
                return AW_EPARSE;
            }
            return perr(ps, p, "invalid escape");
        }
        seg = p;
    }
}

/* The common string, taken without parse_string's loop: one that closes
 * within the 32 bytes after its opening quote at p (one 16-byte block,
 * then a second: CloudTrail's ids, times and ARNs run 17-32), with no
 * escape, control or non-ASCII byte before the closing quote. Returns
 * its length, or -1 (parse_string takes it). With `dots`, *dotted is
 * set if it holds a '.'. */
static inline __attribute__((always_inline)) int short_plain(const unsigned char *p, const unsigned char *e,
                                                             int dots, uint8_t *dotted)
{
#ifdef __SSE2__
    if (e - p < 17)
        return -1;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
    unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    unsigned sp = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')), _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
    if (!q) {
        /* 17 to 32 bytes: the same test on the next block */
        if (sp || e - p < 33)
            return -1;
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + 17));
        unsigned q2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, _mm_set1_epi8('"')));
        unsigned sp2 = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8('\\')), _mm_cmplt_epi8(w, _mm_set1_epi8(0x20))));
        if (!q2)
            return -1;
        unsigned i2 = (unsigned)__builtin_ctz(q2), before2 = (1u << i2) - 1;
        if (sp2 & before2)
            return -1;
        if (dots && ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) ||
                     ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, _mm_set1_epi8('.'))) & before2)))
            *dotted = 1;
        return (int)(16 + i2);
    }
    unsigned i = (unsigned)__builtin_ctz(q), before = (1u << i) - 1;
    if (sp & before)
        return -1;
    if (dots && (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & before)
        *dotted = 1;
    return (int)i;
#else
    (void)p, (void)e, (void)dots, (void)dotted;
    return -1;
#endif
}

/* Take the k-byte string short_plain found at p: its closing quote
 * becomes its NUL. Returns the byte after the quote. */
static inline const unsigned char *short_take(const unsigned char *p, int k, const char **out, uint32_t *olen)
{
    char *s = (char *)(uintptr_t)(p + 1);
    s[k] = '\0';
    *out = s;
    *olen = (uint32_t)k;
    return p + k + 2;
}

static aw_status parse_value_string(pstate *ps, const char **out, uint32_t *olen)
{
    return parse_string(ps, out, olen, 0, NULL);
}

static aw_status parse_name(pstate *ps, const char **out, uint32_t *olen, uint8_t *dotted)
{
    return parse_string(ps, out, olen, 1, dotted);
}

static const double pow10_tab[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the C locale regardless of setlocale(). */
static double c_strtod(const char *s)
{
    pthread_once(&c_locale_once, c_locale_init);
    if (c_locale)
        return strtod_l(s, NULL, c_locale);
    return strtod(s, NULL);
}

#define IS_DIGIT(c) ((unsigned)(c) - '0' < 10u)

/* Parse a number at ps->p into node n: validate the grammar, copy the
 * text into the arena, compute the value (exact fast path for up to 15
 * significant digits and |exp10| <= 22, strtod otherwise). */
static aw_status parse_number(pstate *ps, aw_jnode *n)
{
    const unsigned char *start = ps->p, *p = start, *e = ps->e;
    uint64_t mant = 0;
    int sig = 0, frac = 0, neg = 0, slow = 0;
    long ex = 0;
    size_t len;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= e || !IS_DIGIT(*p))
        return perr(ps, p, "invalid number: expected digit");
    if (*p == '0') {
        p++;
        if (p < e && IS_DIGIT(*p))
            return perr(ps, p, "invalid number: leading zero");
    } else {
        while (p < e && IS_DIGIT(*p)) {
            if (sig < 19)
                mant = mant * 10 + (uint64_t)(*p - '0');
            else
                slow = 1;
            sig++;
            p++;
        }
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !IS_DIGIT(*p))
            return perr(ps, p, "invalid number: expected digit after '.'");
        while (p < e && IS_DIGIT(*p)) {
            if (mant == 0 && *p == '0') {
                frac++;         /* leading zeros are not significant */
            } else if (sig < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                sig++;
                frac++;
            } else {
                slow = 1;
            }
            p++;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= e || !IS_DIGIT(*p))
            return perr(ps, p, "invalid number: expected exponent digit");
        while (p < e && IS_DIGIT(*p)) {
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            ex = -ex;
    }
    len = (size_t)(p - start);
#ifdef __SSE2__
    if (len <= 16)      /* the arena has AWJ_ARENA_PAD bytes after both */
        _mm_storeu_si128((__m128i *)(void *)ps->a, _mm_loadu_si128((const __m128i *)(const void *)start));
    else
#endif
        memcpy(ps->a, start, len);
    ps->a[len] = '\0';
    n->val = ps->a;
    n->vlen = (uint32_t)len;
    ps->a += len + 1;
    ps->p = p;
    ex -= frac;
    if (!slow && sig <= 15 && ex >= -22 && ex <= 22) {
        double v = (double)mant;
        v = ex < 0 ? v / pow10_tab[-ex] : v * pow10_tab[ex];
        n->num = neg ? -v : v;
    } else if (mant == 0 && !slow) {
        n->num = neg ? -0.0 : 0.0;
    } else {
        n->num = c_strtod(n->val);
    }
    return AW_OK;
}

/* Past the whitespace at p, in the record's copy: it ends in a NUL
 * (at e), which is not whitespace, so no bound is checked. */
static inline const unsigned char *skip_ws(const unsigned char *p)
{
    if (*p > ' ')
        return p;               /* compact records: no whitespace at all */
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    return p;
}

#define AWJ_ARENA_PAD 16  /* a 16-byte copy from or to the arena's last number stays inside */

#ifndef AWJ_ARENA_MIN
#define AWJ_ARENA_MIN 4096      /* tests build with 1 to check the bound */
#endif

static aw_status ensure_arena(aw_doc *d, size_t need)
{
    char *a;
    if (d->acap >= need)
        return AW_OK;
    if (need < AWJ_ARENA_MIN)
        need = AWJ_ARENA_MIN;
    if (AWJ_ARENA_MIN > 1 && need < d->acap + d->acap / 2)
        need = d->acap + d->acap / 2;
    a = malloc(need);
    if (!a)
        return AW_ENOMEM;
    free(d->arena);
    d->arena = a;
    d->acap = need;
    return AW_OK;
}

aw_status aw_doc_parse(aw_doc *d, const char *buf, size_t len,
                       size_t *err_off, aw_errbuf *err)
{
    uint32_t stk[AW_JSON_MAX_DEPTH], last[AW_JSON_MAX_DEPTH];
    uint8_t isobj[AW_JSON_MAX_DEPTH];   /* stk[i] is an object (not an array) */
    int sp = 0;
    const char *key = NULL;
    uint32_t klen = 0;
    pstate ps;
    aw_status st;
    const unsigned char *p, *e;

    d->n = d->nparsed = 0;
    d->had_u = 0;
    d->ridx_state = 0;
    d->rtail = 0;
    if (len >= UINT32_MAX) {
        aw_errbuf_set(err, "record of %zu bytes is too large", len);
        if (err_off)
            *err_off = 0;
        return AW_ELIMIT;
    }
    /* the record's copy (strings are decoded in it), then room for the
     * numbers' NUL-terminated text: at most 2 bytes per byte of input,
     * and a pad for parse_number's 16-byte copies */
    if (ensure_arena(d, 3 * (size_t)len + 2 + AWJ_ARENA_PAD) != AW_OK) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    memcpy(d->arena, buf, len);
    d->arena[len] = '\0';
    ps.d = d;
    ps.s = (const unsigned char *)d->arena;
    ps.orig = (const unsigned char *)buf;
    ps.e = ps.s + len;
    ps.a = d->arena + len + 1;
    ps.err = err;
    ps.err_off = 0;
    p = skip_ws(ps.s);
    e = ps.e;

value:
    {
        uint32_t parent = sp ? stk[sp - 1] : UINT32_MAX;
        uint32_t idx;
        aw_jnode *n;
        unsigned c;
        if (p >= e) {
            st = perr(&ps, p, sp ? "unexpected end of input, expected a value"
                                 : "empty input, expected a value");
            goto fail;
        }
        c = *p;
        idx = d->n;
        if (idx >= d->cap && !nodes_grow(d)) {
            aw_errbuf_set(err, "out of memory (%u nodes)", d->n);
            st = AW_ENOMEM;
            goto fail;
        }
        d->n = idx + 1;
        n = &d->nodes[idx];
        *n = (aw_jnode){.key = key, .klen = klen};
        if (sp) {               /* the first child links from its parent's next (see below) */
            n->parent = parent;
            d->nodes[last[sp - 1]].next = idx;
            last[sp - 1] = idx;
        }
        key = NULL;
        klen = 0;
        if (c == '"') {
            n->type = AW_JSTR;
            int k = short_plain(p, e, 0, NULL);
            if (k >= 0) {
                p = short_take(p, k, &n->val, &n->vlen);
                goto after;
            }
            ps.p = p;
            if ((st = parse_value_string(&ps, &n->val, &n->vlen)) != AW_OK)
                goto fail;
            p = ps.p;
            goto after;
        }
        switch (c) {
        case '{':
        case '[':
            if (sp == AW_JSON_MAX_DEPTH) {
                st = perr(&ps, p, "nesting deeper than "
                          "AW_JSON_MAX_DEPTH (128)");
                goto fail;
            }
            n->type = c == '{' ? AW_JOBJ : AW_JARR;
            if (sp == 0 && c == '{') {          /* the root index fills as names are read */
                memset(d->ridx, 0, sizeof d->ridx);
                d->ridx_n = 0;
                d->rmask = d->rdmask = 0;
                d->ridx_state = 1;
            }
            n->val = (const char *)(ps.orig + (p - ps.s));    /* raw text: the caller's */
            /* Until it closes, an open container's `next` holds its first
             * child (the link from its last node, without a branch on
             * "is this the first"); at its close it moves to `child`. */
            stk[sp] = idx;
            last[sp] = idx;
            isobj[sp] = c == '{';
            sp++;
            p = skip_ws(p + 1);
            if (p < e && *p == (c == '{' ? '}' : ']')) {
                n->vlen = (uint32_t)(ps.orig + (p + 1 - ps.s) - (const unsigned char *)n->val);
                sp--;
                p++;
                goto after;
            }
            if (c == '{')
                goto member;
            goto value;
        case 't':
            if (e - p < 4 || memcmp(p, "true", 4))
                goto badlit;
            n->type = AW_JTRUE;
            n->val = "true";
            n->vlen = 4;
            p += 4;
            goto after;
        case 'f':
            if (e - p < 5 || memcmp(p, "false", 5))
                goto badlit;
            n->type = AW_JFALSE;
            n->val = "false";
            n->vlen = 5;
            p += 5;
            goto after;
        case 'n':
            if (e - p < 4 || memcmp(p, "null", 4))
                goto badlit;
            n->type = AW_JNULL;
            n->val = "null";
            n->vlen = 4;
            p += 4;
            goto after;
        default:
            if (c == '-' || IS_DIGIT(c)) {
                n->type = AW_JNUM;
                ps.p = p;
                if ((st = parse_number(&ps, n)) != AW_OK)
                    goto fail;
                p = ps.p;
                /* a number must end at a delimiter ("1x", "01" caught) */
                goto after;
            }
        badlit:
            ps.err_off = (size_t)(p - ps.s);
            if (c >= 0x20 && c < 0x7F)
                aw_errbuf_set(err, "unexpected character '%c' at offset %zu,"
                              " expected a value", c, ps.err_off);
            else
                aw_errbuf_set(err, "unexpected byte 0x%02X at offset %zu,"
                              " expected a value", c, ps.err_off);
            st = AW_EPARSE;
            goto fail;
        }
    }

member:
    if (p >= e) {
        st = perr(&ps, p, "unexpected end of input inside object");
        goto fail;
    }
    if (*p != '"') {
        st = perr(&ps, p, "expected a member name string");
        goto fail;
    }
name:                                           /* p at a name's opening quote */
    {
        int k = short_plain(p, e, 1, &d->nodes[stk[sp - 1]].dotted);
        if (k >= 0) {
            ps.p = short_take(p, k, &key, &klen);
        } else {
            ps.p = p;
            if ((st = parse_name(&ps, &key, &klen, &d->nodes[stk[sp - 1]].dotted)) != AW_OK)
                goto fail;
        }
    }
    if (sp == 1 && d->ridx_state == 1) {       /* a root member: node d->n, next */
        if (++d->ridx_n > AWJ_RIDX / 2)
            d->ridx_state = -1;                 /* many members: linear */
        else
            awj_ridx_add(d, d->n, key, klen);
    }
    p = ps.p;
    if (*p != ':') {                            /* at e: the copy's NUL */
        p = skip_ws(p);
        if (p >= e || *p != ':') {
            st = perr(&ps, p, "expected ':' after member name");
            goto fail;
        }
    }
    p = skip_ws(p + 1);
    goto value;

after:
    p = skip_ws(p);
    if (!sp) {
        if (p < e) {
            st = perr(&ps, p, "trailing characters after value");
            goto fail;
        }
        if (err_off)
            *err_off = 0;
        d->nparsed = d->n;
        if (d->nodes[0].type == AW_JOBJ) {
            d->rtail = last[0];                 /* appends link after it; 0: no member */
            if (d->nodes[0].dotted)
                d->rdmask = ~0ull;              /* which names: not tracked while parsing */
        }
        return AW_OK;
    }
    {
        int obj = isobj[sp - 1];
        if (p >= e) {
            st = perr(&ps, p, obj ? "unexpected end of input inside object"
                                  : "unexpected end of input inside array");
            goto fail;
        }
        if (*p == ',') {
            if (obj && p[1] == '"') {               /* compact: the next name (p[1] <= e) */
                p++;
                goto name;
            }
            p = skip_ws(p + 1);
            if (obj)
                goto member;
            goto value;
        }
        if (*p == (obj ? '}' : ']')) {
            aw_jnode *t = &d->nodes[stk[sp - 1]];
            t->child = t->next;
            t->next = 0;
            t->vlen = (uint32_t)(ps.orig + (p + 1 - ps.s) - (const unsigned char *)t->val);
            sp--;
            p++;
            goto after;
        }
        ps.err_off = (size_t)(p - ps.s);
        aw_errbuf_set(err, "expected ',' or '%c' after %s in %s at offset %zu",
                      obj ? '}' : ']', obj ? "member" : "element",
                      ctx_name(obj ? '{' : '['), ps.err_off);
        st = AW_EPARSE;
        goto fail;
    }

fail:
    d->n = 0;
    if (err_off)
        *err_off = ps.err_off;
    return st;
}
