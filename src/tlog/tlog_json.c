/* tlog_json.c - a small strict JSON reader (DOM of malloc'd nodes). */
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog_json.h"
#include "tlog/tlog_int.h"

typedef struct jp {
    const char *p, *end;
    int depth;
    aw_errbuf *err;
} jp;

static void ws(jp *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static aw_tj *fail(jp *j, const char *why)
{
    aw_errbuf_set(j->err, "json: %s", why);
    return NULL;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    return 0;
}

static char *str(jp *j, size_t *olen)
{
    /* j->p at opening quote */
    j->p++;
    size_t cap = 16, n = 0;
    char *o = malloc(cap);
    while (o) {
        if (j->p >= j->end)
            break;
        unsigned char c = (unsigned char)*j->p++;
        if (n + 5 > cap) {
            char *t = realloc(o, cap *= 2);
            if (!t)
                break;
            o = t;
        }
        if (c == '"') {
            o[n] = 0;
            *olen = n;
            return o;
        }
        if (c < 0x20)
            break;
        if (c != '\\') {
            o[n++] = (char)c;
            continue;
        }
        if (j->p >= j->end)
            break;
        c = (unsigned char)*j->p++;
        unsigned cp;
        switch (c) {
        case '"': case '\\': case '/': o[n++] = (char)c; continue;
        case 'b': o[n++] = '\b'; continue;
        case 'f': o[n++] = '\f'; continue;
        case 'n': o[n++] = '\n'; continue;
        case 'r': o[n++] = '\r'; continue;
        case 't': o[n++] = '\t'; continue;
        case 'u':
            if (j->end - j->p < 4 || hex4(j->p, &cp) != 0)
                goto bad;
            j->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                    hex4(j->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                j->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff)
                goto bad;
            if (cp < 0x80) o[n++] = (char)cp;
            else if (cp < 0x800) {
                o[n++] = (char)(0xc0 | cp >> 6);
                o[n++] = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                o[n++] = (char)(0xe0 | cp >> 12);
                o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[n++] = (char)(0x80 | (cp & 0x3f));
            } else {
                o[n++] = (char)(0xf0 | cp >> 18);
                o[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[n++] = (char)(0x80 | (cp & 0x3f));
            }
            continue;
        default:
            goto bad;
        }
    }
bad:
    free(o);
    return NULL;
}

static aw_tj *value(jp *j);

static int push(aw_tj *a, aw_tj *v, char *key)
{
    if ((a->n & (a->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = a->n ? a->n * 2 : 1;
        aw_tj **nv = realloc(a->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        a->v = nv;
        if (a->type == AW_TJ_OBJ) {
            char **nk = realloc(a->k, cap * sizeof *nk);
            if (!nk)
                return -1;
            a->k = nk;
        }
    }
    a->v[a->n] = v;
    if (a->type == AW_TJ_OBJ)
        a->k[a->n] = key;
    a->n++;
    return 0;
}

static aw_tj *container(jp *j, int type)
{
    char close = type == AW_TJ_OBJ ? '}' : ']';
    aw_tj *a = calloc(1, sizeof *a);
    if (!a)
        return fail(j, "out of memory");
    a->type = type;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return a;
    }
    for (;;) {
        char *key = NULL;
        size_t kl;
        ws(j);
        if (type == AW_TJ_OBJ) {
            if (j->p >= j->end || *j->p != '"' || !(key = str(j, &kl)))
                goto bad;
            ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(key);
                goto bad;
            }
            j->p++;
        }
        aw_tj *v = value(j);
        if (!v || push(a, v, key) != 0) {
            free(key);
            aw_tj_free(v);
            goto bad;
        }
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return a;
        }
        goto bad;
    }
bad:
    aw_tj_free(a);
    return fail(j, "malformed array or object");
}

static aw_tj *value(jp *j)
{
    ws(j);
    if (j->p >= j->end)
        return fail(j, "unexpected end");
    if (++j->depth > 64)
        return fail(j, "nesting too deep");
    aw_tj *v = NULL;
    char c = *j->p;
    if (c == '{' || c == '[') {
        v = container(j, c == '{' ? AW_TJ_OBJ : AW_TJ_ARR);
    } else if (c == '"') {
        v = calloc(1, sizeof *v);
        if (v) {
            v->type = AW_TJ_STR;
            if (!(v->s = str(j, &v->slen))) {
                free(v);
                v = fail(j, "bad string");
            }
        }
    } else if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
        v = calloc(1, sizeof *v);
        j->p += 4;
    } else if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
        if ((v = calloc(1, sizeof *v))) {
            v->type = AW_TJ_BOOL;
            v->b = 1;
        }
        j->p += 4;
    } else if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
        if ((v = calloc(1, sizeof *v)))
            v->type = AW_TJ_BOOL;
        j->p += 5;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        const char *s = j->p;
        while (j->p < j->end && strchr("+-0123456789.eE", *j->p))
            j->p++;
        if ((v = calloc(1, sizeof *v))) {
            v->type = AW_TJ_NUM;
            v->slen = (size_t)(j->p - s);
            if ((v->s = malloc(v->slen + 1))) {
                memcpy(v->s, s, v->slen);
                v->s[v->slen] = 0;
            } else {
                free(v);
                v = NULL;
            }
        }
    } else {
        v = fail(j, "unexpected character");
    }
    j->depth--;
    return v;
}

aw_status aw_tj_parse(const char *buf, size_t len, aw_tj **out,
                      aw_errbuf *err)
{
    jp j = {buf, buf + len, 0, err};
    aw_tj *v = value(&j);
    *out = NULL;
    if (!v)
        return AW_EPARSE;
    ws(&j);
    if (j.p != j.end) {
        aw_tj_free(v);
        aw_errbuf_set(err, "json: trailing data");
        return AW_EPARSE;
    }
    *out = v;
    return AW_OK;
}

void aw_tj_free(aw_tj *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        aw_tj_free(j->v[i]);
        if (j->k)
            free(j->k[i]);
    }
    free(j->v);
    free(j->k);
    free(j->s);
    free(j);
}

const aw_tj *aw_tj_get(const aw_tj *obj, const char *key)
{
    if (!obj || obj->type != AW_TJ_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->k[i], key) == 0)
            return obj->v[i];
    return NULL;
}

int aw_tj_u64(const aw_tj *j, uint64_t *out)
{
    if (!j || j->type != AW_TJ_NUM)
        return -1;
    return aw_tlog_parse_u64(j->s, j->slen, out);
}
