/* compact.c - serialising parsed nodes back to compact JSON, quoting
 * strings, and UTF-8 validation.
 *
 * Output follows the snprintf contract: the return value is the full
 * length needed; at most cap - 1 bytes plus a NUL are written. Strings
 * are re-escaped minimally: '"', '\\' and control characters only
 * (\b \f \n \r \t or \u00XX); valid UTF-8 is copied as is. Bytes that are
 * not valid UTF-8 (only possible in aw_json_quote input) are written as
 * \u00XX, i.e. read as Latin-1, so the output is always valid JSON. */
#include "json/json_int.h"

typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const void *s, size_t n)
{
    if (o->len < o->cap) {
        size_t room = o->cap - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void putc1(out *o, char c)
{
    if (o->len < o->cap)
        o->buf[o->len] = c;
    o->len++;
}

static void finish(out *o)
{
    if (o->cap)
        o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

static void put_quoted(out *o, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)str, *e = p + n, *seg;
    putc1(o, '"');
    seg = p;
    for (;;) {
        unsigned c;
        char esc[6];
        p = awj_find_special(p, e);
        if (p >= e)
            break;
        c = *p;
        if (c >= 0x80) {
            size_t k = awj_utf8_seq(p, e);
            if (k) {
                p += k;
                continue;
            }
        }
        put(o, seg, (size_t)(p - seg));
        esc[0] = '\\';
        switch (c) {
        case '"':  esc[1] = '"'; put(o, esc, 2); break;
        case '\\': esc[1] = '\\'; put(o, esc, 2); break;
        case '\b': esc[1] = 'b'; put(o, esc, 2); break;
        case '\f': esc[1] = 'f'; put(o, esc, 2); break;
        case '\n': esc[1] = 'n'; put(o, esc, 2); break;
        case '\r': esc[1] = 'r'; put(o, esc, 2); break;
        case '\t': esc[1] = 't'; put(o, esc, 2); break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            put(o, esc, 6);
        }
        p++;
        seg = p;
    }
    put(o, seg, (size_t)(p - seg));
    putc1(o, '"');
}

size_t aw_json_quote(const char *s, size_t n, char *buf, size_t cap)
{
    out o = { buf, cap, 0 };
    put_quoted(&o, s, n);
    finish(&o);
    return o.len;
}

static void emit(const aw_doc *d, const aw_jnode *n, out *o)
{
    uint32_t i;
    int first = 1;
    switch (n->type) {
    case AW_JSTR:
        put_quoted(o, n->val, n->vlen);
        return;
    case AW_JOBJ:
    case AW_JARR:
        putc1(o, n->type == AW_JOBJ ? '{' : '[');
        for (i = n->child; i; i = d->nodes[i].next) {
            const aw_jnode *c = &d->nodes[i];
            if (c->dropped)
                continue;
            if (!first)
                putc1(o, ',');
            first = 0;
            if (n->type == AW_JOBJ) {
                put_quoted(o, c->key, c->klen);
                putc1(o, ':');
            }
            emit(d, c, o);
        }
        putc1(o, n->type == AW_JOBJ ? '}' : ']');
        return;
    default:
        put(o, n->val, n->vlen);
    }
}

size_t aw_json_compact(const aw_doc *d, const aw_jnode *n, char *buf,
                       size_t cap)
{
    out o = { buf, cap, 0 };
    if (!n)
        n = aw_doc_root(d);
    if (n)
        emit(d, n, &o);
    finish(&o);
    return o.len;
}

int aw_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
#if AWJ_SWAR
        while (e - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & AWJ_REP(0x80))
                break;
            p += 8;
        }
        if (p >= e)
            break;
#endif
        if (*p < 0x80) {
            p++;
        } else {
            size_t k = awj_utf8_seq(p, e);
            if (!k)
                return 0;
            p += k;
        }
    }
    return 1;
}
