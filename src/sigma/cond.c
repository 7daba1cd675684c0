/* cond.c - the Sigma condition language.
 *
 *   or_expr  := and_expr ("or" and_expr)*
 *   and_expr := not_expr ("and" not_expr)*
 *   not_expr := "not" not_expr | primary
 *   primary  := "(" or_expr ")" | ("1"|"any"|"all") "of" ("them"|pattern)
 *             | identifier
 *
 * Operators are lower-case only (as in pySigma); the tokenizer splits
 * on word boundaries, so an identifier may begin with "not". `them` and
 * patterns not starting with '_' skip identifiers that start with '_'.
 * A selector that matches no identifier is an error, not silently
 * dropped. A '|' is the removed v1 aggregation syntax. */
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>

#include "sigma/sigma_int.h"

#define COND_MAX_DEPTH 64

typedef enum { T_END, T_WORD, T_LP, T_RP } ttype;

typedef struct cparse {
    aw_arena *a;
    const char *s;
    size_t pos;
    ttype t;
    const char *w;      /* current word */
    size_t wn;
    const char *const *names;
    size_t nnames;
    const char **kind;
    aw_errbuf *err;
    int depth;
    bool failed;
} cparse;

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

static void fail(cparse *p, const char *kind, const char *fmt, const char *arg, size_t argn)
{
    if (p->failed)
        return;
    p->failed = true;
    *p->kind = kind;
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%.*s", (int)argn, arg ? arg : "");
    aw_errbuf_set(p->err, fmt, tmp);
}

static void next(cparse *p)
{
    while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
        p->pos++;
    char c = p->s[p->pos];
    if (!c) {
        p->t = T_END;
        return;
    }
    if (c == '(' || c == ')') {
        p->t = c == '(' ? T_LP : T_RP;
        p->pos++;
        return;
    }
    if (word_char(c)) {
        size_t st = p->pos;
        while (word_char(p->s[p->pos]))
            p->pos++;
        p->t = T_WORD;
        p->w = p->s + st;
        p->wn = p->pos - st;
        return;
    }
    if (c == '|')
        fail(p, "legacy-aggregation",
             "pipe/aggregation syntax ('| count() ...') was removed in Sigma 2: write a correlation rule instead%s",
             NULL, 0);
    else
        fail(p, "condition-syntax", "unexpected character '%s' in condition", &p->s[p->pos], 1);
    p->t = T_END;
}

static bool is(cparse *p, const char *w)
{
    return p->t == T_WORD && p->wn == strlen(w) && memcmp(p->w, w, p->wn) == 0;
}

static aw_cnode *mk(cparse *p, aw_cntype t, size_t n)
{
    aw_cnode *c = aw_arena_alloc(p->a, sizeof *c);
    c->t = t;
    c->n = n;
    c->kids = n ? aw_arena_alloc(p->a, n * sizeof *c->kids) : NULL;
    return c;
}

static aw_cnode *ref(cparse *p, int i)
{
    aw_cnode *c = mk(p, CN_REF, 0);
    c->ref = i;
    return c;
}

/* Append b to an n-ary node of type t, flattening same-type children. */
static aw_cnode *join(cparse *p, aw_cntype t, aw_cnode *a, aw_cnode *b)
{
    size_t na = a->t == t ? a->n : 1, nb = b->t == t ? b->n : 1;
    aw_cnode *c = mk(p, t, na + nb);
    size_t k = 0;
    if (a->t == t)
        for (size_t i = 0; i < a->n; i++)
            c->kids[k++] = a->kids[i];
    else
        c->kids[k++] = a;
    if (b->t == t)
        for (size_t i = 0; i < b->n; i++)
            c->kids[k++] = b->kids[i];
    else
        c->kids[k++] = b;
    return c;
}

static aw_cnode *or_expr(cparse *p);

static aw_cnode *selector(cparse *p, bool all)
{
    next(p);                    /* "of" consumed by caller check */
    next(p);
    if (p->t != T_WORD) {
        fail(p, "condition-syntax", "expected 'them' or a pattern after 'of'%s", NULL, 0);
        return NULL;
    }
    char pat[256];
    snprintf(pat, sizeof pat, "%.*s", (int)p->wn, p->w);
    bool them = strcmp(pat, "them") == 0;
    aw_cnode *c = mk(p, all ? CN_AND : CN_OR, p->nnames);
    c->n = 0;
    for (size_t i = 0; i < p->nnames; i++) {
        const char *nm = p->names[i];
        if (nm[0] == '_' && (them || pat[0] != '_'))
            continue;
        if (them || fnmatch(pat, nm, 0) == 0)
            c->kids[c->n++] = ref(p, (int)i);
    }
    if (c->n == 0) {
        fail(p, "empty-selector", "'%s' in the condition matches no search identifier", pat, strlen(pat));
        return NULL;
    }
    next(p);
    return c->n == 1 ? c->kids[0] : c;
}

static aw_cnode *primary(cparse *p)
{
    if (p->failed)
        return NULL;
    if (p->t == T_LP) {
        if (++p->depth > COND_MAX_DEPTH) {
            fail(p, "condition-syntax", "condition nested deeper than 64 levels%s", NULL, 0);
            return NULL;
        }
        next(p);
        aw_cnode *c = or_expr(p);
        if (!c)
            return NULL;
        if (p->t != T_RP) {
            fail(p, "condition-syntax", "missing ')' in condition%s", NULL, 0);
            return NULL;
        }
        p->depth--;
        next(p);
        return c;
    }
    if (p->t != T_WORD) {
        fail(p, "condition-syntax", p->t == T_END ? "condition ends where an identifier is expected%s"
                                                  : "unexpected ')' in condition%s", NULL, 0);
        return NULL;
    }
    if (is(p, "1") || is(p, "any") || is(p, "all")) {
        bool all = is(p, "all");
        size_t save = p->pos;
        cparse peek = *p;
        next(&peek);
        if (is(&peek, "of")) {
            p->pos = save;
            return selector(p, all);
        }
    }
    static const char *const ops[] = {"and", "or", "not", "of", "them", NULL};
    static const char *const upper[] = {"AND", "OR", "NOT", "And", "Or", "Not", NULL};
    for (size_t i = 0; ops[i]; i++)
        if (is(p, ops[i])) {
            fail(p, "condition-syntax", "unexpected '%s' in condition", p->w, p->wn);
            return NULL;
        }
    for (size_t i = 0; i < p->nnames; i++)
        if (strlen(p->names[i]) == p->wn && memcmp(p->names[i], p->w, p->wn) == 0) {
            next(p);
            return ref(p, (int)i);
        }
    for (size_t i = 0; upper[i]; i++)
        if (is(p, upper[i])) {
            fail(p, "condition-syntax", "operators are lower-case only: '%s'", p->w, p->wn);
            return NULL;
        }
    if (memchr(p->w, '*', p->wn))
        fail(p, "condition-syntax", "pattern '%s' must follow '1 of' or 'all of'", p->w, p->wn);
    else if (is(p, "near"))
        fail(p, "legacy-near", "'near' was removed in Sigma 2: write a temporal correlation rule instead%s", NULL, 0);
    else
        fail(p, "undefined-identifier", "Detection '%s' not defined in detections", p->w, p->wn);
    return NULL;
}

static aw_cnode *not_expr(cparse *p)
{
    if (is(p, "not")) {
        if (++p->depth > COND_MAX_DEPTH) {
            fail(p, "condition-syntax", "condition nested deeper than 64 levels%s", NULL, 0);
            return NULL;
        }
        next(p);
        aw_cnode *k = not_expr(p);
        p->depth--;
        if (!k)
            return NULL;
        aw_cnode *c = mk(p, CN_NOT, 1);
        c->kids[0] = k;
        return c;
    }
    return primary(p);
}

static aw_cnode *and_expr(cparse *p)
{
    aw_cnode *c = not_expr(p);
    while (c && is(p, "and")) {
        next(p);
        aw_cnode *r = not_expr(p);
        if (!r)
            return NULL;
        c = join(p, CN_AND, c, r);
    }
    return c;
}

static aw_cnode *or_expr(cparse *p)
{
    aw_cnode *c = and_expr(p);
    while (c && is(p, "or")) {
        next(p);
        aw_cnode *r = and_expr(p);
        if (!r)
            return NULL;
        c = join(p, CN_OR, c, r);
    }
    return c;
}

aw_cnode *aw_cond_parse(aw_arena *a, const char *cond, const char *const *names,
                        size_t n, const char **kind, aw_errbuf *err)
{
    cparse p = {.a = a, .s = cond, .names = names, .nnames = n, .kind = kind, .err = err};
    const char *pipe = strchr(cond, '|');
    if (pipe) {
        const char *w = pipe + 1;
        while (isspace((unsigned char)*w))
            w++;
        size_t wn = strcspn(w, " (\t");
        if (wn == 4 && strncmp(w, "near", 4) == 0) {
            *kind = "legacy-near";
            aw_errbuf_set(err, "'| near' was removed in Sigma 2: write a temporal correlation rule instead");
        } else {
            *kind = "legacy-aggregation";
            aw_errbuf_set(err, "aggregation '| %.*s' was removed in Sigma 2: write an event_count or value_count "
                               "correlation rule instead", (int)(wn > 40 ? 40 : wn), w);
        }
        return NULL;
    }
    next(&p);
    aw_cnode *c = or_expr(&p);
    if (c && !p.failed && p.t == T_WORD && is(&p, "near"))   /* v1's "s near t" */
        fail(&p, "legacy-near", "'near' was removed in Sigma 2: write a temporal correlation rule instead%s", NULL, 0);
    else if (c && !p.failed && p.t != T_END)
        fail(&p, "condition-syntax", p.t == T_RP ? "unbalanced ')' in condition%s"
                                                 : "unexpected '%s' in condition",
             p.t == T_WORD ? p.w : NULL, p.t == T_WORD ? p.wn : 0);
    return p.failed ? NULL : c;
}

static void put(char **p, char *end, const char *s)
{
    size_t n = strlen(s), room = (size_t)(end - *p);
    if (n > room)
        n = room;
    memcpy(*p, s, n);
    *p += n;
    **p = 0;
}

static void render(const aw_cnode *c, const char *const *names, char **p, char *end)
{
    static const char *const op[] = {"(and", "(or", "(not"};
    if (c->t == CN_REF) {
        put(p, end, names[c->ref]);
        return;
    }
    put(p, end, op[c->t]);
    for (size_t i = 0; i < c->n; i++) {
        put(p, end, " ");
        render(c->kids[i], names, p, end);
    }
    put(p, end, ")");
}

char *aw_cond_render(aw_arena *a, const aw_cnode *c, const char *const *names)
{
    size_t cap = 4096;
    char *out = aw_arena_alloc(a, cap), *p = out;
    render(c, names, &p, out + cap - 1);
    return out;
}
