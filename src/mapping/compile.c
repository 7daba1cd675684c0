/* compile.c - one mapping document (format: docs/mappings.md) into the
 * compiled sources of mapping_int.h.
 *
 * Strict because a mapping mistake is silent at run time (a source that
 * classifies nothing, a field that never resolves): unknown keys,
 * duplicate keys, wrong types, malformed paths, bad regexes and
 * duplicate source names are all errors, reported with file, line and a
 * stable kind. A source with errors is not kept; load.c drops the whole
 * file when any error was reported. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/compile.h"
/* ------------------------------------------------------------------ */
/* diagnostics and basic checks                                        */



void mp_fail(mp_loader *l, unsigned line, const char *kind, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->errors++;
    if (l->diag)
        l->diag(l->ud, l->file, line, kind, msg);
}

static const char *type_name(const aw_ynode *n)
{
    return n->type == AW_Y_MAP ? "a mapping" : n->type == AW_Y_SEQ ? "a list" : "a scalar";
}

static int want(mp_loader *l, const aw_ynode *n, aw_ytype t, const char *what)
{
    if (n->type == t)
        return 1;
    mp_fail(l, n->line, "mapping-type", "%s must be %s, not %s", what,
         t == AW_Y_MAP ? "a mapping" : t == AW_Y_SEQ ? "a list" : "a string",
         type_name(n));
    return 0;
}

/* Every key of map n must be one of `keys` (NULL-terminated). */
static int check_keys(mp_loader *l, const aw_ynode *n, const char *const *keys,
                      const char *where)
{
    int ok = 1;
    for (size_t i = 0; i < n->n; i++) {
        const aw_ynode *k = aw_ymap_key(n, i);
        size_t j;
        if (k->type != AW_Y_SCALAR) {
            mp_fail(l, k->line, "mapping-type", "keys of %s must be strings", where);
            ok = 0;
            continue;
        }
        for (j = 0; keys[j]; j++)
            if (strcmp(k->text, keys[j]) == 0)
                break;
        if (!keys[j]) {
            mp_fail(l, k->line, "mapping-unknown-key", "unknown key '%s' in %s",
                 k->text, where);
            ok = 0;
        }
    }
    return ok;
}

static const char *dup(mp_loader *l, const char *s)
{
    return aw_arena_strdup(&l->m->arena, s);
}

/* A path: dot-separated non-empty segments; "*" only as a whole
 * segment, and only where allowed. */
static int check_path(mp_loader *l, const aw_ynode *n, int star_ok, const char *what)
{
    const char *s = n->text;
    size_t len = n->len;
    if (len == 0) {
        mp_fail(l, n->line, "mapping-value", "%s: empty path", what);
        return 0;
    }
    if (s[0] == '.' || s[len - 1] == '.' || strstr(s, "..")) {
        mp_fail(l, n->line, "mapping-value", "%s: malformed path '%s'", what, s);
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '*')
            continue;
        if (!star_ok) {
            mp_fail(l, n->line, "mapping-value", "%s: '*' is not allowed in '%s'", what, s);
            return 0;
        }
        if ((i > 0 && s[i - 1] != '.') || (i + 1 < len && s[i + 1] != '.')) {
            mp_fail(l, n->line, "mapping-value",
                 "%s: '*' must be a whole path segment in '%s'", what, s);
            return 0;
        }
    }
    return 1;
}

/* A string, or a list of strings: collected into an arena array. */
static int str_list(mp_loader *l, const aw_ynode *n, const char *what, int paths,
                    int star_ok, const char *const **out, size_t *nout)
{
    const aw_ynode *const *items = (const aw_ynode *const *)&n;
    size_t cnt = 1;
    const char **v;
    if (n->type == AW_Y_SEQ) {
        items = (const aw_ynode *const *)n->kids;
        cnt = n->n;
        if (cnt == 0) {
            mp_fail(l, n->line, "mapping-value", "%s: empty list", what);
            return 0;
        }
    } else if (n->type != AW_Y_SCALAR) {
        mp_fail(l, n->line, "mapping-type", "%s must be a string or a list of strings", what);
        return 0;
    }
    v = aw_arena_alloc(&l->m->arena, cnt * sizeof *v);
    for (size_t i = 0; i < cnt; i++) {
        if (!want(l, items[i], AW_Y_SCALAR, what))
            return 0;
        if (paths && !check_path(l, items[i], star_ok, what))
            return 0;
        v[i] = dup(l, items[i]->text);
    }
    *out = v;
    *nout = cnt;
    return 1;
}

/* ------------------------------------------------------------------ */
/* predicates                                                          */

static uint32_t intern_slot(aw_mapping *m, const char *path)
{
    for (size_t i = 0; i < m->nslots; i++)
        if (strcmp(m->slots[i].path, path) == 0)
            return (uint32_t)i;
    aw_grow((void **)&m->slots, &m->capslots, m->nslots, sizeof *m->slots);
    m->slots[m->nslots].path = aw_arena_strdup(&m->arena, path);
    m->slots[m->nslots].len = strlen(path);
    m->slots[m->nslots].star = strchr(path, '*') != NULL;
    m->slots[m->nslots].jp = mp_jpath(m, path);
    return (uint32_t)m->nslots++;
}

static void set_value(mp_loader *l, const aw_ynode *n, mp_value *v)
{
    char *end;
    double d;
    v->s = dup(l, n->text);
    v->n = n->len;
    v->isnum = 0;
    if (n->len == 0)
        return;
    errno = 0;
    d = strtod(n->text, &end);
    if (*end == '\0' && errno == 0 && isfinite(d)) {
        v->isnum = 1;
        v->num = d;
    }
}

static int values(mp_loader *l, const aw_ynode *n, const char *what,
                  const mp_value **out, size_t *nout)
{
    const aw_ynode *const *items = (const aw_ynode *const *)&n;
    size_t cnt = 1;
    mp_value *v;
    if (n->type == AW_Y_SEQ) {
        items = (const aw_ynode *const *)n->kids;
        cnt = n->n;
        if (cnt == 0) {
            mp_fail(l, n->line, "mapping-value", "%s: empty list of values", what);
            return 0;
        }
    }
    v = aw_arena_alloc(&l->m->arena, cnt * sizeof *v);
    for (size_t i = 0; i < cnt; i++) {
        if (items[i]->type != AW_Y_SCALAR) {
            mp_fail(l, items[i]->line, "mapping-type", "%s: values must be scalars, not %s",
                 what, type_name(items[i]));
            return 0;
        }
        set_value(l, items[i], &v[i]);
    }
    *out = v;
    *nout = cnt;
    return 1;
}

static int compile_conj(mp_loader *l, const aw_ynode *n, mp_conj *out)
{
    mp_cond *c;
    size_t nc = 0, cap = 0;
    int ok = 1;

    if (!want(l, n, AW_Y_MAP, "when"))
        return 0;
    if (n->n == 0) {
        mp_fail(l, n->line, "mapping-value", "when: empty condition");
        return 0;
    }
    for (size_t i = 0; i < n->n; i++) {
        const aw_ynode *v = aw_ymap_val(n, i);
        cap += v->type == AW_Y_SEQ ? v->n : 1;
    }
    c = aw_arena_alloc(&l->m->arena, cap * sizeof *c);
    for (size_t i = 0; i < n->n && ok; i++) {
        const aw_ynode *k = aw_ymap_key(n, i), *v = aw_ymap_val(n, i);
        if (!want(l, k, AW_Y_SCALAR, "when key"))
            return 0;
        if (strcmp(k->text, "exists") == 0 || strcmp(k->text, "absent") == 0) {
            const char *const *p;
            size_t np;
            if (!str_list(l, v, k->text, 1, 1, &p, &np))
                return 0;
            for (size_t j = 0; j < np; j++) {
                c[nc].slot = intern_slot(l->m, p[j]);
                c[nc].op = k->text[0] == 'e' ? MP_EXISTS : MP_ABSENT;
                nc++;
            }
            continue;
        }
        if (!check_path(l, k, 1, "when"))
            return 0;
        c[nc].slot = intern_slot(l->m, k->text);
        if (v->type == AW_Y_MAP) {
            static const char *const ops[] = {"equals", "startswith", "contains", NULL};
            if (!check_keys(l, v, ops, "a when operator"))
                return 0;
            if (v->n != 1) {
                mp_fail(l, v->line, "mapping-value", "when: '%s' needs exactly one operator",
                     k->text);
                return 0;
            }
            const char *op = aw_ymap_key(v, 0)->text;
            c[nc].op = strcmp(op, "startswith") == 0 ? MP_PREFIX
                     : strcmp(op, "contains") == 0   ? MP_CONTAINS
                                                     : MP_EQ;
            ok = values(l, aw_ymap_val(v, 0), k->text, &c[nc].vals, &c[nc].nvals);
        } else {
            c[nc].op = MP_EQ;
            ok = values(l, v, k->text, &c[nc].vals, &c[nc].nvals);
        }
        nc++;
    }
    out->conds = c;
    out->n = nc;
    return ok;
}

static int compile_when(mp_loader *l, aw_source *s, const aw_ynode *n)
{
    mp_conj *w;
    size_t cnt = n->type == AW_Y_SEQ ? n->n : 1;
    if (n->type == AW_Y_SEQ && n->n == 0) {
        mp_fail(l, n->line, "mapping-value", "when: empty list");
        return 0;
    }
    if (n->type == AW_Y_SCALAR) {
        mp_fail(l, n->line, "mapping-type", "when must be a mapping or a list of mappings");
        return 0;
    }
    w = aw_arena_alloc(&l->m->arena, cnt * sizeof *w);
    for (size_t i = 0; i < cnt; i++)
        if (!compile_conj(l, n->type == AW_Y_SEQ ? n->kids[i] : n, &w[i]))
            return 0;
    s->when = w;
    s->nwhen = cnt;
    return 1;
}

/* ------------------------------------------------------------------ */
/* fields, tenant                                                      */

static int compile_fields(mp_loader *l, aw_source *s, const aw_ynode *n)
{
    mp_field *f;
    if (!want(l, n, AW_Y_MAP, "fields"))
        return 0;
    f = aw_arena_alloc(&l->m->arena, (n->n ? n->n : 1) * sizeof *f);
    for (size_t i = 0; i < n->n; i++) {
        const aw_ynode *k = aw_ymap_key(n, i), *v = aw_ymap_val(n, i);
        const char *const *p;
        size_t np;
        if (!want(l, k, AW_Y_SCALAR, "a field name") || !check_path(l, k, 1, "fields"))
            return 0;
        if (!str_list(l, v, k->text, 1, 1, &p, &np))
            return 0;
        f[i].field = dup(l, k->text);
        f[i].paths = p;
        f[i].npaths = np;
        if (strchr(k->text, '*')) {
            /* "a.b.*": rename a prefix; every target must end in ".*" */
            if (k->len < 3 || strcmp(k->text + k->len - 2, ".*") != 0 ||
                strchr(k->text, '*') != k->text + k->len - 1) {
                mp_fail(l, k->line, "mapping-value",
                     "fields: a wildcard field must end in '.*' and have no other '*': '%s'",
                     k->text);
                return 0;
            }
            for (size_t j = 0; j < np; j++) {
                size_t pl = strlen(p[j]);
                if (pl < 2 || strcmp(p[j] + pl - 2, ".*") != 0) {
                    mp_fail(l, v->line, "mapping-value",
                         "fields: '%s' is a wildcard, so '%s' must end in '.*'", k->text, p[j]);
                    return 0;
                }
                ((char *)p[j])[pl - 1] = '\0';     /* keep "x.y." */
            }
            ((char *)f[i].field)[k->len - 1] = '\0';
            f[i].wildcard = 1;
        }
    }
    s->fields = f;
    s->nfields = n->n;
    return 1;
}

static int compile_regex(mp_loader *l, const aw_ynode *n, mp_tenant *t)
{
    int ec;
    PCRE2_SIZE off;
    uint32_t caps = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)n->text, n->len, 0, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        mp_fail(l, n->line, "mapping-regex", "tenant regex '%s': %s at offset %zu",
             n->text, (const char *)msg, (size_t)off);
        return 0;
    }
    aw_mapping *m = l->m;
    aw_grow((void **)&m->codes, &m->capcodes, m->ncodes, sizeof *m->codes);
    m->codes[m->ncodes++] = re;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &caps);
    if (caps != 1) {
        mp_fail(l, n->line, "mapping-regex",
             "tenant regex '%s' must have exactly one capture group (has %u)", n->text,
             (unsigned)caps);
        return 0;
    }
    t->re = re;
    t->regex = dup(l, n->text);
    t->jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    return 1;
}

static int compile_tenant(mp_loader *l, aw_source *s, const aw_ynode *n)
{
    static const char *const keys[] = {"path", "regex", NULL};
    size_t cnt = n->type == AW_Y_SEQ ? n->n : 1;
    mp_tenant *t;
    if (cnt == 0) {
        mp_fail(l, n->line, "mapping-value", "tenant: empty list");
        return 0;
    }
    t = aw_arena_alloc(&l->m->arena, cnt * sizeof *t);
    for (size_t i = 0; i < cnt; i++) {
        const aw_ynode *e = n->type == AW_Y_SEQ ? n->kids[i] : n;
        const aw_ynode *p = e, *re = NULL;
        if (e->type == AW_Y_SEQ) {
            mp_fail(l, e->line, "mapping-type", "tenant entries must be a path or a mapping");
            return 0;
        }
        if (e->type == AW_Y_MAP) {
            if (!check_keys(l, e, keys, "tenant"))
                return 0;
            p = aw_ymap_get(e, "path");
            re = aw_ymap_get(e, "regex");
            if (!p) {
                mp_fail(l, e->line, "mapping-value", "tenant: 'path' is required");
                return 0;
            }
        }
        if (!want(l, p, AW_Y_SCALAR, "tenant path") || !check_path(l, p, 1, "tenant"))
            return 0;
        t[i].path = dup(l, p->text);
        if (re && (!want(l, re, AW_Y_SCALAR, "tenant regex") || !compile_regex(l, re, &t[i])))
            return 0;
    }
    s->tenant = t;
    s->ntenant = cnt;
    return 1;
}

/* ------------------------------------------------------------------ */
/* one source                                                          */

static int name_taken(mp_loader *l, const char *name)
{
    for (size_t i = 0; i < l->m->nsrc; i++)
        if (strcmp(l->m->src[i]->name, name) == 0)
            return 1;
    for (size_t i = 0; i < l->npending; i++)
        if (strcmp(l->pending[i]->name, name) == 0)
            return 1;
    return 0;
}

static int compile_logsource(mp_loader *l, aw_source *s, const aw_ynode *n)
{
    static const char *const keys[] = {"product", "category", "service", NULL};
    const char **dst[] = {&s->product, &s->category, &s->service};
    int any = 0;
    if (!want(l, n, AW_Y_MAP, "logsource") || !check_keys(l, n, keys, "logsource"))
        return 0;
    for (int i = 0; i < 3; i++) {
        const aw_ynode *v = aw_ymap_get(n, keys[i]);
        if (!v)
            continue;
        if (!want(l, v, AW_Y_SCALAR, keys[i]))
            return 0;
        if (v->len == 0) {
            mp_fail(l, v->line, "mapping-value", "logsource %s is empty", keys[i]);
            return 0;
        }
        *dst[i] = dup(l, v->text);
        any = 1;
    }
    if (!any)
        mp_fail(l, n->line, "mapping-value", "logsource needs product, category or service");
    return any;
}

static void compile_source(mp_loader *l, const aw_ynode *n)
{
    static const char *const keys[] = {"name", "description", "logsource", "when",
                                       "fields", "prefixes", "time", "tenant",
                                       "pseudonymise", "drop", "derive", NULL};
    aw_source *s;
    const aw_ynode *v;
    unsigned before = l->errors;

    if (!want(l, n, AW_Y_MAP, "a source") || !check_keys(l, n, keys, "a source"))
        return;
    s = aw_arena_alloc(&l->m->arena, sizeof *s);
    s->owner = l->m;
    s->file = dup(l, l->file);
    s->line = n->line;

    v = aw_ymap_get(n, "name");
    if (!v) {
        mp_fail(l, n->line, "mapping-value", "a source needs a 'name'");
        return;
    }
    if (!want(l, v, AW_Y_SCALAR, "name"))
        return;
    if (v->len == 0 || name_taken(l, v->text)) {
        mp_fail(l, v->line, "mapping-value", v->len ? "source name '%s' is already used"
                                                 : "source name is empty%s", v->text);
        return;
    }
    s->name = dup(l, v->text);
    if ((v = aw_ymap_get(n, "description")))
        want(l, v, AW_Y_SCALAR, "description");

    if (!(v = aw_ymap_get(n, "logsource")))
        mp_fail(l, n->line, "mapping-value", "source '%s' needs a 'logsource'", s->name);
    else
        compile_logsource(l, s, v);
    if (!(v = aw_ymap_get(n, "when")))
        mp_fail(l, n->line, "mapping-value", "source '%s' needs a 'when' predicate", s->name);
    else
        compile_when(l, s, v);
    if ((v = aw_ymap_get(n, "fields")))
        compile_fields(l, s, v);
    if ((v = aw_ymap_get(n, "prefixes"))) {
        /* "" is allowed: it means the field name itself */
        const char *const *p;
        size_t np;
        if (str_list(l, v, "prefixes", 0, 0, &p, &np)) {
            for (size_t i = 0; i < np; i++) {
                size_t pl = strlen(p[i]);
                if (pl && p[i][pl - 1] != '.') {
                    mp_fail(l, v->line, "mapping-value", "prefixes: '%s' must end in '.'", p[i]);
                    break;
                }
                for (const char *q = strchr(p[i], '*'); q; q = strchr(q + 1, '*'))
                    if ((q > p[i] && q[-1] != '.') || q[1] != '.') {
                        mp_fail(l, v->line, "mapping-value",
                             "prefixes: '*' must be a whole segment in '%s'", p[i]);
                        break;
                    }
            }
            s->prefixes = p;
            s->nprefixes = np;
        }
    }
    if ((v = aw_ymap_get(n, "time")))
        str_list(l, v, "time", 1, 1, &s->time, &s->ntime);
    if ((v = aw_ymap_get(n, "tenant")))
        compile_tenant(l, s, v);
    if ((v = aw_ymap_get(n, "pseudonymise"))) {
        if (str_list(l, v, "pseudonymise", 1, 1, &s->pseudo, &s->npseudo))
            for (size_t i = 0; i < s->npseudo; i++)
                if (strcmp(s->pseudo[i], "tenant") == 0)
                    s->pseudo_tenant = 1;
    }
    if ((v = aw_ymap_get(n, "drop")))
        str_list(l, v, "drop", 1, 0, &s->drop, &s->ndrop);
    if ((v = aw_ymap_get(n, "derive"))) {  /* derive.c, docs/extensions.md */
        unsigned dl;
        const char *e = mp_derive_compile(&l->m->arena, s, v, &dl);
        if (e)
            mp_fail(l, dl, "mapping-value", "%s", e);
    }

    if (l->errors != before)
        return;
    aw_grow((void **)&l->pending, &l->cappending, l->npending, sizeof *l->pending);
    l->pending[l->npending++] = s;
}

int mp_compile_doc(void *ud, aw_ynode *doc, unsigned idx)
{
    static const char *const keys[] = {"sources", "description", NULL};
    mp_loader *l = ud;
    const aw_ynode *srcs;
    l->docs++;
    if (idx > 0) {
        mp_fail(l, doc ? doc->line : 0, "mapping-syntax",
             "a mapping file holds one YAML document");
        return 1;
    }
    if (!doc) {
        mp_fail(l, 1, "mapping-value", "empty mapping file");
        return 1;
    }
    if (!want(l, doc, AW_Y_MAP, "a mapping file") || !check_keys(l, doc, keys, "the file"))
        return 1;
    if (!(srcs = aw_ymap_get(doc, "sources"))) {
        mp_fail(l, doc->line, "mapping-value", "a mapping file needs 'sources'");
        return 1;
    }
    if (!want(l, srcs, AW_Y_SEQ, "sources"))
        return 1;
    for (size_t i = 0; i < srcs->n; i++)
        compile_source(l, srcs->kids[i]);
    return 0;
}
