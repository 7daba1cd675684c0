/* ytree.c - YAML event stream to aw_ynode trees (see ytree.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/ytree.h"

#define YT_MAX_DEPTH 64

typedef struct anchor {
    const char *name;
    aw_ynode *node;
} anchor;

typedef struct frame {
    aw_ynode *node;
    aw_ynode **kids;
    size_t n, cap;
} frame;

typedef struct ytb {
    aw_arena *a;
    frame stack[YT_MAX_DEPTH];
    int depth;
    anchor *anchors;
    size_t nanchors, capanchors;
    aw_ynode *root;
} ytb;

static aw_ynode *mk(ytb *b, aw_ytype t, const yaml_mark_t *m)
{
    aw_ynode *n = aw_arena_alloc(b->a, sizeof *n);
    n->type = t;
    n->line = (unsigned)m->line + 1;
    n->col = (unsigned)m->column + 1;
    return n;
}

static void add_anchor(ytb *b, const unsigned char *name, aw_ynode *n)
{
    if (!name)
        return;
    aw_grow((void **)&b->anchors, &b->capanchors, b->nanchors, sizeof *b->anchors);
    b->anchors[b->nanchors].name = aw_arena_strdup(b->a, (const char *)name);
    b->anchors[b->nanchors++].node = n;
}

static int scalar_eq(const aw_ynode *x, const aw_ynode *y)
{
    return x->type == AW_Y_SCALAR && y->type == AW_Y_SCALAR &&
           x->len == y->len && memcmp(x->text, y->text, x->len) == 0;
}

/* Attach child to the open collection; checks duplicate keys. */
static int attach(ytb *b, aw_ynode *n, aw_errbuf *err, unsigned *eline)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->type == AW_Y_MAP && f->n % 2 == 0) {
        for (size_t i = 0; i < f->n; i += 2) {
            if (scalar_eq(f->kids[i], n)) {
                aw_errbuf_set(err, "duplicate key '%s' (first at line %u)",
                              n->text, f->kids[i]->line);
                *eline = n->line;
                return -1;
            }
        }
    }
    aw_grow((void **)&f->kids, &f->cap, f->n, sizeof *f->kids);
    f->kids[f->n++] = n;
    return 0;
}

static int open_coll(ytb *b, aw_ynode *n, aw_errbuf *err, unsigned *eline)
{
    if (attach(b, n, err, eline))
        return -1;
    if (b->depth >= YT_MAX_DEPTH) {
        aw_errbuf_set(err, "nesting deeper than %d levels", YT_MAX_DEPTH);
        *eline = n->line;
        return -1;
    }
    frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    return 0;
}

static void close_coll(ytb *b)
{
    frame *f = &b->stack[--b->depth];
    aw_ynode *n = f->node;
    n->kids = aw_arena_alloc(b->a, (f->n ? f->n : 1) * sizeof *n->kids);
    if (f->n)
        memcpy(n->kids, f->kids, f->n * sizeof *n->kids);
    n->n = n->type == AW_Y_MAP ? f->n / 2 : f->n;
    free(f->kids);
}

static void reset_doc(ytb *b)
{
    while (b->depth > 0)
        free(b->stack[--b->depth].kids);
    b->nanchors = 0;
    b->root = NULL;
}

aw_status aw_ytree_parse(aw_arena *a, const char *buf, size_t len,
                         aw_ydoc_fn fn, void *ud, unsigned *err_line,
                         aw_errbuf *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    ytb b;
    aw_status rc = AW_OK;
    unsigned doc_index = 0;

    memset(&b, 0, sizeof b);
    b.a = a;
    *err_line = 0;
    if (!yaml_parser_initialize(&p)) {
        aw_errbuf_set(err, "cannot initialise YAML parser");
        return AW_ENOMEM;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            aw_errbuf_set(err, "YAML syntax error: %s%s%s",
                          p.problem ? p.problem : "unknown",
                          p.context ? " " : "", p.context ? p.context : "");
            *err_line = (unsigned)(p.problem_mark.line + 1);
            rc = AW_EPARSE;
            break;
        }
        int stop = 0;
        aw_ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            stop = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            reset_doc(&b);
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (fn(ud, b.root, doc_index++))
                stop = 1;
            reset_doc(&b);
            break;
        case YAML_SCALAR_EVENT:
            n = mk(&b, AW_Y_SCALAR, &ev.start_mark);
            n->text = aw_arena_strndup(a, (const char *)ev.data.scalar.value,
                                       ev.data.scalar.length);
            n->len = ev.data.scalar.length;
            switch (ev.data.scalar.style) {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: n->style = AW_YS_SINGLE; break;
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = AW_YS_DOUBLE; break;
            case YAML_LITERAL_SCALAR_STYLE:
            case YAML_FOLDED_SCALAR_STYLE: n->style = AW_YS_BLOCK; break;
            default: n->style = AW_YS_PLAIN; break;
            }
            /* An explicit tag (!!str) makes a plain scalar a string. */
            if (ev.data.scalar.tag && n->style == AW_YS_PLAIN &&
                strcmp((const char *)ev.data.scalar.tag, YAML_STR_TAG) == 0)
                n->style = AW_YS_SINGLE;
            add_anchor(&b, ev.data.scalar.anchor, n);
            if (attach(&b, n, err, err_line))
                rc = AW_EPARSE;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            n = mk(&b, ev.type == YAML_SEQUENCE_START_EVENT ? AW_Y_SEQ : AW_Y_MAP,
                   &ev.start_mark);
            add_anchor(&b, ev.type == YAML_SEQUENCE_START_EVENT
                               ? ev.data.sequence_start.anchor
                               : ev.data.mapping_start.anchor, n);
            if (open_coll(&b, n, err, err_line))
                rc = AW_EPARSE;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            close_coll(&b);
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            aw_ynode *target = NULL;
            for (size_t i = b.nanchors; i-- > 0;)
                if (strcmp(b.anchors[i].name, name) == 0) {
                    target = b.anchors[i].node;
                    break;
                }
            if (!target) {
                aw_errbuf_set(err, "unknown alias '*%s'", name);
                *err_line = (unsigned)ev.start_mark.line + 1;
                rc = AW_EPARSE;
            } else if (attach(&b, target, err, err_line)) {
                rc = AW_EPARSE;
            }
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (stop || rc != AW_OK)
            break;
    }
    reset_doc(&b);
    free(b.anchors);
    yaml_parser_delete(&p);
    return rc;
}

aw_ynode *aw_ymap_get(const aw_ynode *map, const char *key)
{
    if (!map || map->type != AW_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        aw_ynode *k = aw_ymap_key(map, i);
        if (k->type == AW_Y_SCALAR && strcmp(k->text, key) == 0)
            return aw_ymap_val(map, i);
    }
    return NULL;
}

static int any_of(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return 1;
    return 0;
}

/* Integer per YAML 1.1: [-+]?(0b[01_]+|0[0-7_]+|0x[0-9a-fA-F_]+|
 * [1-9][0-9_]*|0). Sexagesimal forms are not accepted. */
static int parse_int(const char *s, long long *out)
{
    char buf[80];
    size_t j = 0;
    int neg = 0, base = 10;
    const char *p = s;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!*p)
        return 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
        base = 8, p += 2;
    else if (p[0] == '0' && p[1])
        base = 8, p += 1;
    if (!*p)
        return 0;
    for (; *p; p++) {
        if (*p == '_')
            continue;
        int ok = base == 16 ? isxdigit((unsigned char)*p)
               : base == 10 ? isdigit((unsigned char)*p)
               : base == 8 ? (*p >= '0' && *p <= '7')
                           : (*p == '0' || *p == '1');
        if (!ok || j + 1 >= sizeof buf)
            return 0;
        buf[j++] = *p;
    }
    buf[j] = 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, base);
    if (errno || *end || v > (unsigned long long)LLONG_MAX)
        return 0;
    *out = neg ? -(long long)v : (long long)v;
    return 1;
}

/* Float per YAML 1.1: [-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?,
 * plus .inf/.nan. A float needs a dot. */
static int parse_float(const char *s, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nan_[] = {".nan", ".NaN", ".NAN", NULL};
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (any_of(p, inf)) {
        *out = neg ? -__builtin_inf() : __builtin_inf();
        return 1;
    }
    if (p == s && any_of(p, nan_)) {
        *out = __builtin_nan("");
        return 1;
    }
    char buf[80];
    size_t j = 0;
    int dot = 0, digits = 0;
    for (; *p; p++) {
        if (*p == '_')
            continue;
        if (j + 1 >= sizeof buf)
            return 0;
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p == '.')
            dot++;
        else if (*p == 'e' || *p == 'E') {
            if (!dot || !(p[1] == '-' || p[1] == '+') || !isdigit((unsigned char)p[2]))
                return 0;
            buf[j++] = *p++;
            buf[j++] = *p;
            continue;
        } else
            return 0;
        buf[j++] = *p;
    }
    buf[j] = 0;
    if (dot != 1 || !digits)
        return 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return 0;
    *out = neg ? -v : v;
    return 1;
}

aw_yval aw_yscalar_resolve(const aw_ynode *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"yes", "Yes", "YES", "true", "True",
                                        "TRUE", "on", "On", "ON", NULL};
    static const char *const falses[] = {"no", "No", "NO", "false", "False",
                                         "FALSE", "off", "Off", "OFF", NULL};
    aw_yval v = {AW_YV_STR, 0, 0, 0};
    if (!n || n->type != AW_Y_SCALAR) {
        v.type = AW_YV_NULL;
        return v;
    }
    if (n->style != AW_YS_PLAIN)
        return v;
    if (any_of(n->text, nulls))
        v.type = AW_YV_NULL;
    else if (any_of(n->text, trues))
        v.type = AW_YV_BOOL, v.b = 1;
    else if (any_of(n->text, falses))
        v.type = AW_YV_BOOL, v.b = 0;
    else if (parse_int(n->text, &v.i))
        v.type = AW_YV_INT, v.f = (double)v.i;
    else if (parse_float(n->text, &v.f))
        v.type = AW_YV_FLOAT;
    return v;
}
