/* framer.c - cutting the decoded byte stream into records.
 *
 * Layouts (may be mixed in one stream, decided at each top-level value):
 *   {...}{...} / one object per line  -> each object is a record
 *   [ v, v, ... ]                     -> each element is a record
 *   {"Records": [ v, ... ] ...}       -> each element is a record (an
 *       object whose first member is "Records" with an array value;
 *       members after the array are skipped)
 * The framer only tracks structure: strings (skipped with a word-at-a-
 * time search for '"', '\\' and newline), escapes, and a bracket stack
 * so '{' must close with '}' and '[' with ']'. It counts lines.
 *
 * Malformed input and resynchronisation (also in docs/input.md):
 *   - a line that starts with '{' while a record is still open means the
 *     record was cut short: it is reported and framing restarts at that
 *     '{' (pretty-printers indent nested values, so a '{' in column 0
 *     starts a record);
 *   - a mismatched bracket, a raw newline inside a string, nesting over
 *     AW_FR_MAX_DEPTH, or a stray byte between records / elements is
 *     reported, and framing resumes at the next line starting with '{'
 *     (in an array: as the next element; an envelope start opens a new
 *     envelope);
 *   - a record over max_record is skipped by structure, byte-exactly,
 *     without being buffered, so the following element or record is not
 *     lost, and reported when its end is found, as a kept record would
 *     be (AW_ELIMIT with its size; cut short, the problem that cut it;
 *     at end of input, AW_ELIMIT): where the reads cut the input
 *     changes no report;
 *   - end of input inside a record or an array is reported once.
 * Every report consumes a record number. Each step consumes input, so
 * the framer cannot loop forever.
 *
 * A caller that parses every record anyway may frame one-record-per-line
 * input by parsing it (aw_reader_set_line_fn): at a top-level '{' that
 * starts no envelope, the rest of the line is offered to its parser
 * first, and framed as above only if the parser does not take it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "input/input_int.h"

enum { SC_NEED, SC_DONE, SC_NEWREC, SC_MISMATCH, SC_NLSTR, SC_DEPTH };

#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FR_REP(b) (0x0101010101010101ULL * (uint64_t)(b))
#define FR_HASZERO(w) (((w) - FR_REP(1)) & ~(w) & FR_REP(0x80))
#endif

/* First '"', '\\' or '\n' in [p, e), or e. */
static inline const unsigned char *str_stop(const unsigned char *p,
                                            const unsigned char *e)
{
#ifdef FR_REP
    while (e - p >= 8) {
        uint64_t w, t;
        memcpy(&w, p, 8);
        t = FR_HASZERO(w ^ FR_REP('"')) | FR_HASZERO(w ^ FR_REP('\\')) |
            FR_HASZERO(w ^ FR_REP('\n'));
        if (t)
            return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
#endif
    while (p < e && *p != '"' && *p != '\\' && *p != '\n')
        p++;
    return p;
}

/* A bracket, newline or stray backslash outside strings at q: the
 * transitions of scan() and scan_blocks(). Returns an SC_ code to stop
 * with, or -1. */
static inline int outside(aw_reader *r, const unsigned char *q, const unsigned char *e,
                          const unsigned char *b)
{
    unsigned c = *q;
    switch (c) {
    case '{':
    case '[':
        if (r->depth >= AW_FR_MAX_DEPTH) {
            r->pos = (size_t)(q + 1 - b);
            return SC_DEPTH;
        }
        if (c == '[')
            r->stk[r->depth >> 6] |= 1ULL << (r->depth & 63);
        else
            r->stk[r->depth >> 6] &= ~(1ULL << (r->depth & 63));
        r->depth++;
        return -1;
    case '}':
    case ']':
        if (r->depth == 0 ||
            (int)((r->stk[(r->depth - 1) >> 6] >> ((r->depth - 1) & 63)) & 1) != (c == ']')) {
            r->pos = (size_t)(q + 1 - b);
            return SC_MISMATCH;
        }
        if (--r->depth == 0) {
            r->pos = (size_t)(q + 1 - b);
            return SC_DONE;
        }
        return -1;
    case '\n':
        r->line++;
        if (q + 1 == e) {
            r->nl_pending = 1;
            r->pos = r->end;
            return SC_NEED;
        }
        if (q[1] == '{') {
            r->pos = (size_t)(q + 1 - b);
            return SC_NEWREC;
        }
        return -1;
    default:                                /* a backslash outside strings */
        return -1;
    }
}

#ifdef __SSE2__
#include <emmintrin.h>

/* Bit masks of one 64-byte block (p[0..64) readable). */
typedef struct blockm {
    uint64_t quote, bslash, nl, bracket;
} blockm;

static inline blockm classify64(const unsigned char *p)
{
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), nl = _mm_set1_epi8('\n');
    const __m128i sp = _mm_set1_epi8(0x20), ob = _mm_set1_epi8('{'), cb = _mm_set1_epi8('}');
    blockm m = {0, 0, 0, 0};
#pragma GCC unroll 4        /* constant shifts, no loop: ~2x faster framing */
    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        __m128i f = _mm_or_si128(v, sp);            /* '[' -> '{', ']' -> '}' */
        m.quote |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, q)) << (16 * i);
        m.bslash |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bs)) << (16 * i);
        m.nl |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) << (16 * i);
        m.bracket |= (uint64_t)(uint16_t)_mm_movemask_epi8(
                         _mm_or_si128(_mm_cmpeq_epi8(f, ob), _mm_cmpeq_epi8(f, cb))) << (16 * i);
    }
    return m;
}

/* Bit i: an odd number of quotes in bits 0..i. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* The state machine of scan() over whole 64-byte blocks, visiting only
 * the bytes interesting64() marks; the same transitions, byte for byte.
 * Returns an SC_ code, or -1 with *pp at the first byte left for the
 * byte-wise loop (fewer than 64 remain). */
static int scan_blocks(aw_reader *r, const unsigned char **pp, const unsigned char *e)
{
    const unsigned char *b = (const unsigned char *)r->buf, *base = *pp;
    for (; e - base >= 64; base += 64) {
        blockm k = classify64(base);
        uint64_t m;
        if (!k.bslash && !r->esc && r->depth > 0) {
            /* No escapes: the quotes alone say which bytes are in a
             * string, so only brackets and newlines outside strings and
             * newlines inside them (an error) are visited. */
            uint64_t inside = prefix_xor(k.quote) ^ (r->in_str ? ~0ULL : 0);
            m = ((k.bracket | k.nl) & ~inside) | (k.nl & inside);
            r->in_str = (int)(inside >> 63);
            if (m)
                r->in_str = 0;              /* every visited byte is outside or ends the string */
            while (m) {
                unsigned i = (unsigned)__builtin_ctzll(m);
                const unsigned char *q = base + i;
                m &= m - 1;
                if (*q == '\n' && ((inside >> i) & 1)) {  /* raw newline inside a string */
                    r->line++;
                    r->pos = (size_t)(q + 1 - b);
                    return SC_NLSTR;
                }
                int rc = outside(r, q, e, b);
                if (rc >= 0)
                    return rc;
            }
            r->in_str = (int)(inside >> 63);
            continue;
        }
        m = k.quote | k.bslash | k.nl | k.bracket;
        if (r->esc) {                       /* a backslash ended the last block */
            r->esc = 0;
            if (base[0] != '\n')
                m &= ~1ULL;                 /* the escaped byte */
        }
        while (m) {
            unsigned i = (unsigned)__builtin_ctzll(m);
            const unsigned char *q = base + i;
            m &= m - 1;
            unsigned c = *q;
            if (r->in_str) {
                if (c == '\\') {
                    if (i == 63)
                        r->esc = 1;
                    else if (q[1] != '\n')
                        m &= ~(1ULL << (i + 1));
                } else if (c == '"') {
                    r->in_str = 0;
                    if (r->depth == 0) {
                        r->pos = (size_t)(q + 1 - b);
                        return SC_DONE;
                    }
                } else if (c == '\n') {    /* raw newline inside a string */
                    r->in_str = 0;
                    r->line++;
                    r->pos = (size_t)(q + 1 - b);
                    return SC_NLSTR;
                }
                continue;
            }
            if (c == '"') {
                r->in_str = 1;
                continue;
            }
            int rc = outside(r, q, e, b);
            if (rc >= 0)
                return rc;
        }
    }
    *pp = base;
    return -1;
}
#endif

/* Continue scanning the current container record or string scalar. */
static int scan(aw_reader *r)
{
    const unsigned char *b = (const unsigned char *)r->buf;
    const unsigned char *p = b + r->pos, *e = b + r->end;
    if (r->nl_pending) {
        if (p == e)
            return SC_NEED;
        r->nl_pending = 0;
        if (*p == '{' && r->depth > 0) {
            r->pos = (size_t)(p - b);
            return SC_NEWREC;
        }
    }
#ifdef __SSE2__
    int rc = scan_blocks(r, &p, e);
    if (rc >= 0)
        return rc;
#endif
    if (r->in_str)
        goto string;
    while (p < e) {
        unsigned c = *p++;
        switch (c) {
        case '"':
            r->in_str = 1;
        string:
            for (;;) {
                if (r->esc) {
                    if (p == e)
                        goto need;
                    r->esc = 0;
                    if (*p != '\n') {
                        p++;
                        continue;
                    }
                } else {
                    p = str_stop(p, e);
                    if (p == e)
                        goto need;
                    if (*p == '"') {
                        p++;
                        r->in_str = 0;
                        break;
                    }
                    if (*p == '\\') {
                        p++;
                        r->esc = 1;
                        continue;
                    }
                }
                /* raw newline inside a string: the record is broken */
                r->in_str = 0;
                r->line++;
                r->pos = (size_t)(p + 1 - b);
                return SC_NLSTR;
            }
            if (r->depth == 0) {
                r->pos = (size_t)(p - b);
                return SC_DONE;
            }
            break;
        case '{':
        case '[':
        case '}':
        case ']':
        case '\n': {
            int st = outside(r, p - 1, e, b);
            if (st >= 0)
                return st;
            break;
        }
        default:
            break;
        }
    }
need:
    r->pos = r->end;
    return SC_NEED;
}

/* A number / true / false / null element: up to a delimiter. */
static int scan_scalar(aw_reader *r)
{
    const char *b = r->buf;
    size_t p = r->pos;
    while (p < r->end) {
        unsigned char c = (unsigned char)b[p];
        if (c == ',' || c == ']' || c == '}' || IS_WS(c)) {
            r->pos = p;
            return SC_DONE;
        }
        p++;
    }
    r->pos = p;
    return r->eof ? SC_DONE : SC_NEED;
}

static aw_status report(aw_reader *r, aw_record *rec, aw_status st,
                        uint64_t line, aw_errbuf *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static aw_status report(aw_reader *r, aw_record *rec, aw_status st,
                        uint64_t line, aw_errbuf *err, const char *fmt, ...)
{
    va_list ap;
    r->recno++;
    rec->data = NULL;
    rec->len = 0;
    rec->recno = r->recno;
    rec->line = line;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

/* Describe byte c for a message: 'x' or byte 0xNN. */
static const char *byte_desc(unsigned char c, char *out, size_t cap)
{
    if (c >= 0x20 && c < 0x7F)
        snprintf(out, cap, "'%c'", c);
    else
        snprintf(out, cap, "byte 0x%02X", c);
    return out;
}

/* (input_int.h) */
int aw_fr_skip_ws(aw_reader *r, aw_errbuf *err)
{
    for (;;) {
        while (r->pos < r->end) {
            unsigned char c = (unsigned char)r->buf[r->pos];
            if (c == '\n') {
                r->line++;
                r->bol = 1;
            } else if (IS_WS(c)) {
                r->bol = 0;
            } else {
                return 1;
            }
            r->pos++;
        }
        if (r->eof)
            return 0;
        if (aw_reader_fill(r, r->pos, err) != AW_OK)
            return -1;
    }
}

static size_t ws_span(const unsigned char *p, const unsigned char *e,
                      uint64_t *nl)
{
    const unsigned char *s = p;
    while (p < e && IS_WS(*p)) {
        if (*p == '\n')
            ++*nl;
        p++;
    }
    return (size_t)(p - s);
}

/* (input_int.h) */
int aw_fr_envelope_in(const char *from, const char *to, int eof, size_t *len, uint64_t *nl)
{
    static const char lit[] = "\"Records\"";
    const unsigned char *b = (const unsigned char *)from, *e = (const unsigned char *)to;
    const unsigned char *p = b + 1;
    size_t i;
    *nl = 0;
    p += ws_span(p, e, nl);
    for (i = 0; i < sizeof lit - 1; i++, p++) {
        if (p == e)
            goto more;
        if (*p != (unsigned char)lit[i])
            return 0;
    }
    p += ws_span(p, e, nl);
    if (p == e)
        goto more;
    if (*p++ != ':')
        return 0;
    p += ws_span(p, e, nl);
    if (p == e)
        goto more;
    if (*p != '[')
        return 0;
    *len = (size_t)(p + 1 - b);
    return 1;
more:
    return eof || (size_t)(e - b) > AW_FR_ENVELOPE_LOOK ? 0 : 2;
}

/* (input_int.h) */
aw_status aw_fr_skip_bom(aw_reader *r, aw_errbuf *err)
{
    while (r->end - r->pos < 3 && !r->eof)
        if (aw_reader_fill(r, r->pos, err) != AW_OK)
            return AW_EIO;
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0)
        r->pos += 3;
    r->bom_done = 1;
    return AW_OK;
}

/* (input_int.h) */
int aw_fr_envelope_at(aw_reader *r, size_t *len, uint64_t *nl, aw_errbuf *err)
{
    int k;
    while ((k = aw_fr_envelope_in(r->buf + r->pos, r->buf + r->end, r->eof, len, nl)) == 2)
        if (aw_reader_fill(r, r->pos, err) != AW_OK)
            return -1;
    return k;
}

static void rec_begin(aw_reader *r, int scalar)
{
    r->rec_start = r->pos;
    r->rec_abs = r->dropped + r->pos;
    r->oversized = 0;
    r->rec_line = r->line;
    r->depth = 0;
    r->in_str = r->esc = r->nl_pending = 0;
    r->scalar = scalar;
    r->after_st = r->in_array ? AW_FR_AFTER_ELEM : AW_FR_TOP;
    r->st = AW_FR_REC;
    r->resynced = 0;
}

static void array_end(aw_reader *r)
{
    r->pos++;
    r->st = r->in_array == 2 ? AW_FR_ENV_TAIL : AW_FR_TOP;
    r->in_array = 0;
}

/* Start an envelope at pos if there is one: 1 yes, 0 no, -1 error. */
static int try_envelope(aw_reader *r, aw_errbuf *err)
{
    size_t len;
    uint64_t nl;
    int env = aw_fr_envelope_at(r, &len, &nl, err);
    if (env == 1) {
        r->arr_line = r->line;
        r->pos += len;
        r->line += nl;
        r->in_array = 2;
        r->st = AW_FR_ELEM;
        r->resynced = 0;
    }
    return env;
}

static const char *array_name(const aw_reader *r)
{
    return r->in_array == 2 ? "Records array" : "array";
}

static aw_status next_record(aw_reader *r, aw_record *rec, aw_errbuf *err);

/* A chunk reader (chunk.c) at its stop, between records: its part of
 * the input is framed; the state stays for aw_reader_chunk_end. */
static aw_status at_stop(aw_record *rec)
{
    rec->data = NULL;
    rec->len = 0;
    return AW_EOF;
}

void aw_reader_set_line_fn(aw_reader *r, aw_line_fn fn, void *ud)
{
    r->line_fn = fn;
    r->line_ud = ud;
}

void aw_reader_set_move_fn(aw_reader *r, aw_move_fn fn, void *ud)
{
    r->move_fn = fn;
    r->move_ud = ud;
}

/* The record at pos (a top-level '{'), if the line function takes the
 * line: 1 and rec filled, else 0. A line is offered once: a line the
 * function refuses (several objects on it, say) is framed byte by byte
 * to its end, and a buffer holding no newline is not searched again,
 * so the work stays linear in the input. */
static int take_line(aw_reader *r, aw_record *rec)
{
    if (r->pos < r->line_next)
        return 0;
    const char *p = r->buf + r->pos;
    size_t avail = r->end - r->pos;
    const char *nl = memchr(p, '\n', avail);
    size_t n = nl ? (size_t)(nl - p) : avail, len;
    r->line_next = r->pos + n + 1;
    if ((!nl && !r->eof) || n > r->max_record)
        return 0;                       /* the line is not all here, or too long */
    if ((len = r->line_fn(r->line_ud, p, n)) == 0 || len > n)
        return 0;
    r->recno++;
    rec->data = p;
    rec->len = len;
    rec->recno = r->recno;
    rec->line = r->line;
    rec->taken = 1;
    r->pos += len;
    r->resynced = 0;                    /* as rec_begin */
    return 1;
}

/* A read error is final: later calls repeat it. */
aw_status aw_reader_next(aw_reader *r, aw_record *rec, aw_errbuf *err)
{
    aw_errbuf tmp;
    aw_status st;
    if (!err)
        err = &tmp;
    rec->taken = 0;
    if (r->io_failed) {
        rec->data = NULL;
        rec->len = 0;
        aw_errbuf_set(err, "%s: reading stopped after an earlier error",
                      r->path);
        return AW_EIO;
    }
    st = next_record(r, rec, err);
    if (st == AW_EIO) {
        r->io_failed = 1;
        rec->data = NULL;
        rec->len = 0;
        rec->recno = r->recno + 1;
        rec->line = r->line;
    }
    return st;
}

static aw_status next_record(aw_reader *r, aw_record *rec, aw_errbuf *err)
{
    char bd[16];
    rec->taken = 0;
    for (;;) {
        int k;
        unsigned char c;
        switch (r->st) {
        case AW_FR_END:
            rec->data = NULL;
            rec->len = 0;
            return AW_EOF;

        case AW_FR_TOP:
            if (!r->bom_done && aw_fr_skip_bom(r, err) != AW_OK)
                return AW_EIO;
            if ((k = aw_fr_skip_ws(r, err)) < 0)
                return AW_EIO;
            if (k == 0) {
                r->st = AW_FR_END;
                continue;
            }
            if (r->pos >= r->stop)
                return at_stop(rec);
            c = (unsigned char)r->buf[r->pos];
            if (c == '{') {
                if ((k = try_envelope(r, err)) < 0)
                    return AW_EIO;
                if (k == 0 && r->line_fn && take_line(r, rec))
                    return AW_OK;
                if (k == 0)
                    rec_begin(r, 0);
                continue;
            }
            if (c == '[') {
                r->arr_line = r->line;
                r->pos++;
                r->in_array = 1;
                r->st = AW_FR_ELEM;
                continue;
            }
            r->pos++;
            r->bol = 0;
            r->st = AW_FR_RESYNC;
            return report(r, rec, AW_EPARSE, r->line, err,
                          "line %llu: unexpected %s between records; "
                          "skipping to the next line starting with '{'",
                          (unsigned long long)r->line,
                          byte_desc(c, bd, sizeof bd));

        case AW_FR_ELEM:
        case AW_FR_AFTER_ELEM:
            if ((k = aw_fr_skip_ws(r, err)) < 0)
                return AW_EIO;
            if (k == 0) {
                r->st = AW_FR_END;
                return report(r, rec, AW_EPARSE, r->arr_line, err,
                              "unexpected end of input: %s starting at "
                              "line %llu is not closed", array_name(r),
                              (unsigned long long)r->arr_line);
            }
            if (r->pos >= r->stop)
                return at_stop(rec);
            c = (unsigned char)r->buf[r->pos];
            if (c == ']') {
                array_end(r);
                continue;
            }
            if (r->st == AW_FR_AFTER_ELEM) {
                if (c == ',') {
                    r->pos++;
                    r->st = AW_FR_ELEM;
                    continue;
                }
                if (c == '{' || c == '[') {
                    r->st = AW_FR_ELEM;
                    return report(r, rec, AW_EPARSE, r->line, err,
                                  "line %llu: missing ',' between %s "
                                  "elements", (unsigned long long)r->line,
                                  array_name(r));
                }
            } else if (c == '{' || c == '[' || c == '"') {
                if (c == '{' && r->resynced) {
                    if ((k = try_envelope(r, err)) < 0)
                        return AW_EIO;
                    if (k)
                        continue;
                }
                rec_begin(r, 0);
                continue;
            } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' ||
                       c == 'f' || c == 'n') {
                rec_begin(r, 1);
                continue;
            }
            r->pos++;
            r->bol = 0;
            k = r->st == AW_FR_AFTER_ELEM;
            r->st = AW_FR_RESYNC;
            return report(r, rec, AW_EPARSE, r->line, err,
                          "line %llu: unexpected %s %s; skipping to the "
                          "next line starting with '{'",
                          (unsigned long long)r->line,
                          byte_desc(c, bd, sizeof bd),
                          k ? "after an array element" : "in an array");

        case AW_FR_ENV_TAIL:
            if ((k = aw_fr_skip_ws(r, err)) < 0)
                return AW_EIO;
            if (k == 0) {
                r->st = AW_FR_END;
                return report(r, rec, AW_EPARSE, r->arr_line, err,
                              "unexpected end of input: Records envelope "
                              "starting at line %llu is not closed",
                              (unsigned long long)r->arr_line);
            }
            if (r->pos >= r->stop)
                return at_stop(rec);
            c = (unsigned char)r->buf[r->pos];
            if (c == '}') {
                r->pos++;
                r->st = AW_FR_TOP;
                continue;
            }
            if (c == ',') {
                /* skip the envelope's other members, by structure */
                r->pos++;
                rec_begin(r, 0);
                r->depth = 1;
                r->stk[0] &= ~1ULL;
                r->st = AW_FR_SKIP;
                continue;
            }
            r->pos++;
            r->bol = 0;
            r->st = AW_FR_RESYNC;
            return report(r, rec, AW_EPARSE, r->line, err,
                          "line %llu: unexpected %s after the Records "
                          "array; skipping to the next line starting "
                          "with '{'", (unsigned long long)r->line,
                          byte_desc(c, bd, sizeof bd));

        case AW_FR_REC:
        case AW_FR_SKIP: {
            /* keep: the record's bytes are kept; tell: its fate is
             * reported (kept, or skipped for its size: reported when
             * its end is found, as if it had been kept, so the report
             * does not depend on where reads cut the input) */
            int keep = r->st == AW_FR_REC, tell = keep || r->oversized;
            int sc = r->scalar ? scan_scalar(r) : scan(r);
            switch (sc) {
            case SC_DONE:
                r->st = r->after_st;
                if (tell) {
                    size_t len = (size_t)(r->dropped + r->pos - r->rec_abs);
                    r->oversized = 0;
                    if (len > r->max_record)
                        return report(r, rec, AW_ELIMIT, r->rec_line, err,
                                      "line %llu: record of %zu bytes "
                                      "exceeds the limit of %zu bytes; "
                                      "skipped",
                                      (unsigned long long)r->rec_line, len,
                                      r->max_record);
                    r->recno++;
                    rec->data = r->buf + r->rec_start;
                    rec->len = len;
                    rec->recno = r->recno;
                    rec->line = r->rec_line;
                    return AW_OK;
                }
                continue;
            case SC_NEED:
                if (keep && r->pos - r->rec_start > r->max_record) {
                    r->st = AW_FR_SKIP;         /* no longer buffered */
                    r->oversized = 1;
                    continue;
                }
                if (r->eof) {
                    r->st = AW_FR_END;
                    if (!tell)
                        continue;
                    if (r->oversized) {
                        r->oversized = 0;
                        return report(r, rec, AW_ELIMIT, r->rec_line, err,
                                      "line %llu: record exceeds the limit of "
                                      "%zu bytes; skipped",
                                      (unsigned long long)r->rec_line,
                                      r->max_record);
                    }
                    return report(r, rec, AW_EPARSE, r->rec_line, err,
                                  "line %llu: unexpected end of input "
                                  "inside the record starting at line %llu"
                                  " (%s)", (unsigned long long)r->line,
                                  (unsigned long long)r->rec_line,
                                  r->in_str ? "in a string"
                                            : "unclosed object or array");
                }
                if (aw_reader_fill(r, keep ? r->rec_start : r->pos, err) !=
                    AW_OK)
                    return AW_EIO;
                continue;
            case SC_NEWREC:
                r->st = r->in_array ? AW_FR_ELEM : AW_FR_TOP;
                r->resynced = 1;
                r->oversized = 0;
                if (!tell)
                    continue;
                return report(r, rec, AW_EPARSE, r->rec_line, err,
                              "line %llu: record starting at line %llu is "
                              "not closed before this line, which starts "
                              "a new record", (unsigned long long)r->line,
                              (unsigned long long)r->rec_line);
            default:
                r->st = AW_FR_RESYNC;
                r->bol = sc == SC_NLSTR;
                r->oversized = 0;
                if (!tell)
                    continue;
                return report(r, rec, AW_EPARSE, r->rec_line, err,
                              "line %llu: %s in the record starting at "
                              "line %llu; skipping to the next line "
                              "starting with '{'",
                              (unsigned long long)(sc == SC_NLSTR
                                                   ? r->line - 1 : r->line),
                              sc == SC_NLSTR ? "unterminated string "
                                               "(raw newline)"
                              : sc == SC_DEPTH ? "nesting too deep"
                                               : "mismatched bracket",
                              (unsigned long long)r->rec_line);
            }
        }

        case AW_FR_RESYNC:
            for (;;) {
                const char *q;
                if (r->bol && r->pos < r->end && r->buf[r->pos] == '{') {
                    r->st = r->in_array ? AW_FR_ELEM : AW_FR_TOP;
                    r->resynced = 1;
                    break;
                }
                if (r->pos == r->end) {
                    if (r->eof) {
                        r->st = AW_FR_END;
                        break;
                    }
                    if (aw_reader_fill(r, r->pos, err) != AW_OK)
                        return AW_EIO;
                    continue;
                }
                q = memchr(r->buf + r->pos, '\n', r->end - r->pos);
                if (!q) {
                    r->pos = r->end;
                    r->bol = 0;
                    continue;
                }
                r->line++;
                r->pos = (size_t)(q + 1 - r->buf);
                r->bol = 1;
            }
            continue;

        default:
            r->st = AW_FR_END;
            continue;
        }
    }
}
