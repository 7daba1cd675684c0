/* modifier.c - compile one detection item `field|mod|mod: value(s)`.
 *
 * Modifiers apply left to right to every value; a value becomes a
 * group of alternatives (windash, base64offset and placeholders expand
 * one value into several; an expansion is always OR-linked, even under
 * |all). The chain restrictions and error messages follow pySigma. */
#include <sodium.h>
#include <string.h>

#include "sigma/sigma_int.h"

typedef enum {
    M_CONTAINS, M_STARTSWITH, M_ENDSWITH, M_ALL, M_EXISTS, M_CASED, M_NEQ,
    M_WINDASH, M_RE, M_I, M_M, M_S, M_BASE64, M_BASE64OFFSET, M_WIDE,
    M_UTF16LE, M_UTF16BE, M_UTF16, M_CIDR, M_LT, M_LTE, M_GT, M_GTE,
    M_FIELDREF, M_EXPAND, M_MINUTE, M_HOUR, M_DAY, M_WEEK, M_MONTH, M_YEAR,
    M__COUNT
} modid;

static const struct { const char *name; modid id; } mod_names[] = {
    {"contains", M_CONTAINS}, {"startswith", M_STARTSWITH}, {"endswith", M_ENDSWITH},
    {"all", M_ALL}, {"exists", M_EXISTS}, {"cased", M_CASED}, {"neq", M_NEQ},
    {"windash", M_WINDASH}, {"re", M_RE}, {"i", M_I}, {"ignorecase", M_I},
    {"m", M_M}, {"multiline", M_M}, {"s", M_S}, {"dotall", M_S},
    {"base64", M_BASE64}, {"base64offset", M_BASE64OFFSET}, {"wide", M_WIDE},
    {"utf16le", M_UTF16LE}, {"utf16be", M_UTF16BE}, {"utf16", M_UTF16},
    {"cidr", M_CIDR}, {"lt", M_LT}, {"lte", M_LTE}, {"gt", M_GT}, {"gte", M_GTE},
    {"fieldref", M_FIELDREF}, {"expand", M_EXPAND}, {"minute", M_MINUTE},
    {"hour", M_HOUR}, {"day", M_DAY}, {"week", M_WEEK}, {"month", M_MONTH},
    {"year", M_YEAR},
};

#define MAX_MODS 16
#define MAX_EXPANSION 4096

typedef struct chain {
    modid m[MAX_MODS];
    size_t n;
    bool has[M__COUNT];
} chain;

/* A growing list of Sigma strings: the expansion of one value. */
typedef struct xlist {
    aw_sstr *v;
    size_t n, cap;
} xlist;

static void xpush(xlist *x, aw_sstr s)
{
    aw_grow((void **)&x->v, &x->cap, x->n, sizeof *x->v);
    x->v[x->n++] = s;
}

static bool is_word(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_';
}

/* ---- string transforms ------------------------------------------------- */

static aw_sstr wrap(aw_arena *a, const aw_sstr *s, bool front, bool back)
{
    aw_sstr r;
    bool f = front && !(s->n && s->toks[0].t == TK_STAR);
    bool b = back && !(s->n && s->toks[s->n - 1].t == TK_STAR);
    r.n = s->n + f + b;
    r.toks = aw_arena_alloc(a, (r.n ? r.n : 1) * sizeof *r.toks);
    size_t k = 0;
    if (f)
        r.toks[k++].t = TK_STAR;
    for (size_t i = 0; i < s->n; i++)
        r.toks[k++] = s->toks[i];
    if (b)
        r.toks[k++].t = TK_STAR;
    return r;
}

/* Concatenated literal bytes; false if the string has wildcards. */
static bool flat(aw_arena *a, const aw_sstr *s, char **out, size_t *n)
{
    size_t len = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->toks[i].t != TK_LIT)
            return false;
        len += s->toks[i].n;
    }
    char *p = aw_arena_alloc(a, len + 1);
    *out = p;
    *n = len;
    for (size_t i = 0; i < s->n; i++) {
        memcpy(p, s->toks[i].s, s->toks[i].n);
        p += s->toks[i].n;
    }
    return true;
}

static aw_sstr b64(aw_arena *a, const unsigned char *s, size_t n, size_t from, size_t cut)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *out = aw_arena_alloc(a, cap);
    sodium_bin2base64(out, cap, s, n, sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(out);
    if (from > len)
        from = len;
    if (cut > len - from)
        cut = len - from;
    return aw_sstr_literal(a, out + from, len - from - cut);
}

/* Decode one UTF-8 code point; returns bytes used (1 on bad input). */
static size_t utf8_cp(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80 || n < 2) {
        *cp = s[0];
        return 1;
    }
    size_t k = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    if (k > n) {
        *cp = s[0];
        return 1;
    }
    uint32_t v = s[0] & (0xFF >> (k + 1));
    for (size_t i = 1; i < k; i++)
        v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return k;
}

static aw_sstr utf16(aw_arena *a, const aw_sstr *s, bool be, bool bom)
{
    aw_sstr r;
    r.n = s->n + bom;
    r.toks = aw_arena_alloc(a, (r.n ? r.n : 1) * sizeof *r.toks);
    size_t k = 0;
    if (bom)
        r.toks[k++] = (aw_tok){TK_LIT, "\xff\xfe", 2};
    for (size_t i = 0; i < s->n; i++) {
        const aw_tok *t = &s->toks[i];
        if (t->t != TK_LIT) {
            r.toks[k++] = *t;
            continue;
        }
        char *o = aw_arena_alloc(a, t->n * 4 + 1), *p = o;
        const unsigned char *u = (const unsigned char *)t->s;
        for (size_t j = 0; j < t->n;) {
            uint32_t cp, units[2];
            j += utf8_cp(u + j, t->n - j, &cp);
            size_t nu = 1;
            units[0] = cp;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                units[0] = 0xD800 | (cp >> 10);
                units[1] = 0xDC00 | (cp & 0x3FF);
                nu = 2;
            }
            for (size_t q = 0; q < nu; q++) {
                unsigned char lo = units[q] & 0xFF, hi = (unsigned char)(units[q] >> 8);
                *p++ = (char)(be ? hi : lo);
                *p++ = (char)(be ? lo : hi);
            }
        }
        r.toks[k++] = (aw_tok){TK_LIT, o, (size_t)(p - o)};
    }
    return r;
}

/* windash: every '-' or '/' that starts a token part or follows a
 * non-word character, and precedes a word character, becomes each of
 * - / en-dash em-dash horizontal-bar. */
static const char *const dashes[5] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};

/* false if the value has so many dash positions that the combinations
 * exceed MAX_EXPANSION (the rule is then rejected, never half-expanded). */
static bool windash(aw_arena *a, const aw_sstr *s, xlist *out)
{
    /* Collect expansion points as (token, offset). */
    size_t pts[64][2], np = 0;
    for (size_t i = 0; i < s->n; i++) {
        const aw_tok *t = &s->toks[i];
        if (t->t != TK_LIT)
            continue;
        for (size_t j = 0; j < t->n; j++) {
            char c = t->s[j];
            if ((c == '-' || c == '/') && (j == 0 || !is_word((unsigned char)t->s[j - 1])) &&
                j + 1 < t->n && is_word((unsigned char)t->s[j + 1])) {
                if (np == 64)
                    return false;
                pts[np][0] = i;
                pts[np][1] = j;
                np++;
            }
        }
    }
    size_t combos = 1;
    for (size_t i = 0; i < np && combos <= MAX_EXPANSION; i++)
        combos *= 5;
    if (combos > MAX_EXPANSION)
        return false;
    if (np == 0) {
        xpush(out, *s);
        return true;
    }
    for (size_t c = 0; c < combos; c++) {
        aw_sstr r;
        r.n = s->n;
        r.toks = aw_arena_alloc(a, r.n * sizeof *r.toks);
        size_t sel = c;
        size_t choice[64];
        for (size_t q = np; q-- > 0;) {
            choice[q] = sel % 5;
            sel /= 5;
        }
        for (size_t i = 0; i < s->n; i++) {
            const aw_tok *t = &s->toks[i];
            r.toks[i] = *t;
            if (t->t != TK_LIT)
                continue;
            char *o = aw_arena_alloc(a, t->n * 3 + 1);
            size_t on = 0;
            for (size_t j = 0; j < t->n; j++) {
                size_t q;
                for (q = 0; q < np; q++)
                    if (pts[q][0] == i && pts[q][1] == j)
                        break;
                if (q < np) {
                    size_t dl = strlen(dashes[choice[q]]);
                    memcpy(o + on, dashes[choice[q]], dl);
                    on += dl;
                } else {
                    o[on++] = t->s[j];
                }
            }
            r.toks[i].s = o;
            r.toks[i].n = on;
        }
        xpush(out, r);
    }
    return true;
}

/* Replace placeholders by every combination of their values. */
static bool expand(aw_rctx *cx, aw_arena *a, const aw_sstr *s, xlist *out,
                   unsigned line, const char *key)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        if (s->toks[i].t == TK_PH)
            break;
    if (i == s->n) {
        xpush(out, *s);
        return true;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)s->toks[i].n, s->toks[i].s);
    const aw_placeholder *ph = aw_ruleset_placeholder(cx->rs, name);
    if (!ph) {
        aw_rule_reject(cx, line, "unresolved-placeholder",
                       "placeholder %%%s%% in '%s' has no value (give it in a placeholder file with --placeholders)",
                       name, key);
        return false;
    }
    for (size_t v = 0; v < ph->n; v++) {
        aw_sstr r;
        r.n = s->n - 1 + ph->vals[v].n;
        r.toks = aw_arena_alloc(a, (r.n ? r.n : 1) * sizeof *r.toks);
        memcpy(r.toks, s->toks, i * sizeof *r.toks);
        memcpy(r.toks + i, ph->vals[v].toks, ph->vals[v].n * sizeof *r.toks);
        memcpy(r.toks + i + ph->vals[v].n, s->toks + i + 1, (s->n - i - 1) * sizeof *r.toks);
        if (out->n > MAX_EXPANSION)
            break;
        if (!expand(cx, a, &r, out, line, key))
            return false;
    }
    return true;
}

/* ---- the item -------------------------------------------------------------- */

static bool parse_chain(aw_rctx *cx, const char *key, unsigned line, chain *c,
                        const char **mods_start)
{
    const char *bar = strchr(key, '|');
    memset(c, 0, sizeof *c);
    *mods_start = bar;
    if (!bar)
        return true;
    const char *p = bar + 1;
    for (;;) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t k;
        for (k = 0; k < sizeof mod_names / sizeof *mod_names; k++)
            if (strlen(mod_names[k].name) == n && memcmp(mod_names[k].name, p, n) == 0)
                break;
        if (k == sizeof mod_names / sizeof *mod_names) {
            aw_rule_reject(cx, line, "unknown-modifier", "unknown modifier '%.*s' in '%s'",
                           (int)n, p, key);
            return false;
        }
        if (c->n == MAX_MODS) {
            aw_rule_reject(cx, line, "invalid-modifier-chain", "too many modifiers in '%s'", key);
            return false;
        }
        c->m[c->n++] = mod_names[k].id;
        c->has[mod_names[k].id] = true;
        if (!e)
            break;
        p = e + 1;
    }
    return true;
}

static bool check_chain(aw_rctx *cx, const chain *c, const char *key, unsigned line,
                        bool has_field)
{
    static const modid first_only[] = {M_RE, M_CIDR, M_EXISTS};
    static const char *const first_msg[] = {
        "Regular expression modifier only applicable to unmodified values",
        "CIDR expression modifier only applicable to unmodified values",
        "Exists modifier only applicable to unmodified boolean values"};
    for (size_t i = 1; i < c->n; i++)
        for (size_t k = 0; k < 3; k++)
            if (c->m[i] == first_only[k]) {
                aw_rule_reject(cx, line, "invalid-modifier-chain", "%s ('%s')", first_msg[k], key);
                return false;
            }
    for (size_t i = 0; i < c->n; i++) {
        modid m = c->m[i];
        if ((m == M_I || m == M_M || m == M_S) && !c->has[M_RE]) {
            aw_rule_reject(cx, line, "invalid-modifier-chain",
                           "regular expression flag modifier only applicable after 're' ('%s')", key);
            return false;
        }
    }
    if (c->has[M_EXISTS] && !has_field) {
        aw_rule_reject(cx, line, "invalid-modifier-chain", "Exists modifier must be applied to field ('%s')", key);
        return false;
    }
    if ((c->has[M_FIELDREF] || c->has[M_CIDR] || c->has[M_RE]) &&
        (c->has[M_BASE64] || c->has[M_BASE64OFFSET] || c->has[M_WIDE] || c->has[M_WINDASH])) {
        aw_rule_reject(cx, line, "invalid-modifier-chain",
                       "string encoding modifiers cannot be combined with re/cidr/fieldref ('%s')", key);
        return false;
    }
    return true;
}

static void leaf_glob(aw_ruleset *rs, int field, aw_group *g, const aw_sstr *s, bool cased,
                      bool is_num, double num)
{
    aw_leaf *l = &g->alts[g->n++];
    const char *lit;
    size_t litn;
    memset(l, 0, sizeof *l);
    l->cased = cased;
    aw_glob_prepare(&rs->arena, l, s);
    l->orig = *s;
    l->is_num = is_num;
    l->num = num;
    if (aw_leaf_literal(l, field < 0, &lit, &litn))
        l->lit_id = aw_ruleset_lit(rs, field, lit, litn);
    /* (not keywords: their literals are looked for in the raw record;
     * HS's caseless match folds ASCII, as the matcher does) */
    l->lit_whole = l->lit_id && field >= 0 && !cased && l->shape == GS_CONTAINS && litn == l->litn;
}

/* (sigma_int.h) A run of bytes that every match of regular expression
 * p[0..n) must contain, for the prefilter: the longest run (>= 3, or two
 * bytes aw_two_byte_lit takes) of plain characters
 * at the top level of a pattern without top-level alternation. Anything
 * not understood ends the scan (runs before it are still required); a
 * quantified character leaves its run. In a case-insensitive pattern
 * (`i`, also inline) runs also end at non-ASCII bytes and at k, K, s, S:
 * in UTF mode PCRE2 folds those with U+212A KELVIN SIGN and U+017F LONG
 * S (the only ASCII letters it folds with non-ASCII characters, checked
 * over every code point), Hyperscan's caseless match only ASCII.
 * Returns the run's length (0: none), copied to out[0..cap). */
/* Index of the ']' closing the class whose '[' is at p[i], or n. */
static size_t class_end(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && p[j] == '^')
        j++;
    if (j < n && p[j] == ']')
        j++;                                    /* a leading ']' is literal */
    for (; j < n && p[j] != ']'; j++)
        if (p[j] == '\\')
            j++;
    return j < n ? j : n;
}

/* Index of the ')' closing the group whose '(' is at p[i], or n. */
static size_t group_end(const char *p, size_t n, size_t i)
{
    int d = 0;
    for (size_t j = i; j < n; j++) {
        if (p[j] == '\\')
            j++;
        else if (p[j] == '[')
            j = class_end(p, n, j);
        else if (p[j] == '(')
            d++;
        else if (p[j] == ')' && --d == 0)
            return j;
    }
    return n;
}

/* Keep cur[0..run) in out when it is the longest run so far. */
static void keep_run(const char *cur, size_t run, size_t *best, char *out, size_t cap)
{
    if (run <= *best)
        return;
    *best = run;
    memcpy(out, cur, run < cap ? run : cap);
}

size_t aw_re_run(const char *p, size_t n, bool caseless, char *out, size_t cap)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {            /* top-level '|', inline flags */
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            if (i + 1 < n && p[i + 1] == 'Q')
                return 0;
            i++;
        } else if (c == '[') {
            i = class_end(p, n, i);
        } else if (c == '(') {
            depth++;
            if (i + 1 < n && p[i + 1] == '?') {
                bool neg = false;
                for (size_t j = i + 2; j < n && p[j] != ')' && p[j] != ':'; j++) {
                    if (p[j] == '-')
                        neg = true;
                    else if (p[j] == 'i' && !neg)
                        caseless = true;
                    else if (strchr("xJUn", p[j]))
                        return 0;
                    else if (!strchr("ims", p[j]))
                        break;                  /* not a flag group */
                }
            }
        } else if (c == ')') {
            depth--;
        } else if (c == '|' && depth == 0) {
            return 0;
        }
    }
    size_t best = 0, run = 0;
    char cur[256];
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        if (c == '(' || c == '[') {             /* a group or a class: one atom */
            size_t j = c == '(' ? group_end(p, n, i) : class_end(p, n, i);
            if (j >= n)
                break;
            i = j + 1;
        } else if (c == '\\') {
            if (i + 1 >= n)
                break;
            unsigned char d = (unsigned char)p[i + 1];
            i += 2;
            if (d < 0x80 && !((d | 0x20) >= 'a' && (d | 0x20) <= 'z') && !(d >= '0' && d <= '9')) {
                if (run < sizeof cur) {         /* an escaped punctuation mark */
                    cur[run++] = (char)d;
                    continue;
                }
            } else if (!strchr("dDwWsSbBhHvVAzZ", (char)d) || d == 0) {
                break;                          /* \x, \p, \1 ...: stop here */
            }
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            if (run)                            /* up to the quantified atom */
                keep_run(cur, run - 1, &best, out, cap);
            run = 0;
            if (c == '{') {
                size_t j = i + 1;
                while (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ','))
                    j++;
                if (j >= n || p[j] != '}' || j == i + 1)
                    break;                      /* a literal '{': stop */
                i = j;
            }
            i++;
            if (i < n && (p[i] == '?' || p[i] == '+'))
                i++;                            /* lazy / possessive */
            continue;
        } else if (c == '.' || c == '^' || c == '$' || c == ')' || c == '|' ||
                   (caseless && (c >= 0x80 || strchr("kKsS", c)))) {
            i++;
        } else {
            i++;
            if (run < sizeof cur) {
                cur[run++] = (char)c;           /* a quantifier next takes it out */
                continue;
            }
        }
        keep_run(cur, run, &best, out, cap);    /* the run ends here */
        run = 0;
    }
    keep_run(cur, run, &best, out, cap);
    return best <= cap ? best : 0;
}

bool aw_re_scannable(const char *run, size_t n)
{
    return n >= 3 || (n == 2 && aw_two_byte_lit(run));
}

size_t aw_re_literal(const char *p, size_t n, bool caseless, char *out, size_t cap)
{
    size_t best = aw_re_run(p, n, caseless, out, cap);
    return aw_re_scannable(out, best) ? best : 0;
}

/* One value of the item becomes one group. */
static bool compile_value(aw_rctx *cx, aw_item *it, const chain *c, const char *key,
                          unsigned line, aw_ynode *v, aw_group *g)
{
    aw_arena *a = &cx->rs->arena;
    aw_yval yv = aw_yscalar_resolve(v);
    bool number = yv.type == AW_YV_INT || yv.type == AW_YV_FLOAT;
    aw_errbuf err;

    if (v->type != AW_Y_SCALAR) {
        aw_rule_reject(cx, v->line, "invalid-value", "value of '%s' must be a scalar or a list of scalars", key);
        return false;
    }
    if (c->has[M_EXISTS]) {
        if (yv.type != AW_YV_BOOL) {
            aw_rule_reject(cx, v->line, "invalid-value", "Exists modifier requires a boolean value ('%s')", key);
            return false;
        }
        g->alts = aw_arena_alloc(aw_rctx_tmp(cx), sizeof *g->alts);
        g->alts[0].kind = LM_EXISTS;
        g->alts[0].want = yv.b;
        g->n = 1;
        return true;
    }
    g->alts = aw_arena_alloc(aw_rctx_tmp(cx), sizeof *g->alts);
    aw_leaf *l = &g->alts[0];
    if (yv.type == AW_YV_NULL) {
        l->kind = LM_NULL;
        g->n = 1;
        return true;
    }
    static const modid cmp_mods[] = {M_LT, M_LTE, M_GT, M_GTE};
    for (size_t k = 0; k < 4; k++)
        if (c->has[cmp_mods[k]]) {
            if (!number) {
                aw_rule_reject(cx, v->line, "invalid-value",
                               "Compare operator expects number, got '%s' in '%s'", v->text, key);
                return false;
            }
            l->kind = LM_CMP;
            l->op = (aw_cmpop)k;
            l->num = yv.f;
            g->n = 1;
            return true;
        }
    static const modid tp_mods[] = {M_MINUTE, M_HOUR, M_DAY, M_WEEK, M_MONTH, M_YEAR};
    for (size_t k = 0; k < 6; k++)
        if (c->has[tp_mods[k]]) {
            if (yv.type != AW_YV_INT) {
                aw_rule_reject(cx, v->line, "invalid-value",
                               "time-part modifier expects an integer, got '%s' in '%s'", v->text, key);
                return false;
            }
            l->kind = LM_TIMEPART;
            l->part = (aw_tpart)k;
            l->num = yv.f;
            g->n = 1;
            return true;
        }
    if (c->has[M_RE]) {
        uint32_t flags = PCRE2_UTF;
        int ecode;
        PCRE2_SIZE eoff;
        if (c->has[M_I])
            flags |= PCRE2_CASELESS;
        if (c->has[M_M])
            flags |= PCRE2_MULTILINE;
        if (c->has[M_S])
            flags |= PCRE2_DOTALL;
        /* contains/startswith/endswith rewrite the pattern as pySigma
         * does; with unanchored search the added .* change no result. */
        const char *rx = v->text;
        size_t rn = v->len;
        bool sw = rn >= 2 && !strncmp(rx, ".*", 2), anch_s = rn && rx[0] == '^';
        bool ew = rn >= 2 && !strncmp(rx + rn - 2, ".*", 2), anch_e = rn && rx[rn - 1] == '$';
        bool pre = (c->has[M_CONTAINS] || c->has[M_ENDSWITH]) && !sw && !anch_s;
        bool post = (c->has[M_CONTAINS] || c->has[M_STARTSWITH]) && !ew && !anch_e;
        char *buf = aw_arena_alloc(a, rn + 5);
        snprintf(buf, rn + 5, "%s%s%s", pre ? ".*" : "", rx, post ? ".*" : "");
        l->kind = LM_RE;
        l->re = pcre2_compile((PCRE2_SPTR)buf, strlen(buf), flags, &ecode, &eoff, NULL);
        if (!l->re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ecode, msg, sizeof msg);
            aw_rule_reject(cx, v->line, "invalid-regex", "invalid regular expression '%s' at offset %zu: %s",
                           v->text, (size_t)eoff, (const char *)msg);
            return false;
        }
        pcre2_jit_compile(l->re, PCRE2_JIT_COMPLETE);
        aw_rule_keep_regex(cx->rs, l->re);
        char lit[256];
        size_t litn = it->field >= 0 ? aw_re_run(buf, strlen(buf), c->has[M_I], lit, sizeof lit) : 0;
        if (aw_re_scannable(lit, litn)) {
            l->lit_id = aw_ruleset_lit(cx->rs, it->field, lit, litn);
            /* the table's folded copy: looked for in the folded value
             * before PCRE2 runs */
            l->lit = cx->rs->lits[l->lit_id - 1];
            l->litn = litn;
        } else if (litn) {
            /* too short to scan for, still looked for before PCRE2 (the
             * backtick of PowerShell token obfuscation) */
            char *f = aw_arena_alloc(a, litn + 1);
            aw_fold_ascii(f, lit, litn);
            f[litn] = 0;
            l->lit = f;
            l->litn = litn;
        }
        l->orig = aw_sstr_literal(a, buf, strlen(buf));
        g->n = 1;
        return true;
    }
    if (c->has[M_CIDR]) {
        if (!aw_cidr_parse(v->text, &l->cidr, &err)) {
            aw_rule_reject(cx, v->line, "invalid-cidr", "%s", err.msg);
            return false;
        }
        l->kind = LM_CIDR;
        l->orig = aw_sstr_literal(a, v->text, v->len);
        g->n = 1;
        return true;
    }
    if (c->has[M_FIELDREF]) {
        aw_sstr s = aw_sstr_parse(a, v->text, v->len, false);
        if (aw_sstr_has_wildcards(&s)) {
            aw_rule_reject(cx, v->line, "invalid-value", "Field references must not contain wildcards ('%s')", v->text);
            return false;
        }
        l->kind = LM_FIELDREF;
        l->cased = c->has[M_CASED];
        l->ref_field = aw_ruleset_intern_field(cx->rs, v->text);
        l->frmode = c->has[M_CONTAINS] ? FR_CONTAINS : c->has[M_STARTSWITH] ? FR_PREFIX
                  : c->has[M_ENDSWITH] ? FR_SUFFIX : FR_EQ;
        l->orig = aw_sstr_literal(a, v->text, v->len);
        g->n = 1;
        return true;
    }

    /* Strings: apply the chain left to right. */
    xlist cur = {0}, next = {0};
    bool cased = c->has[M_CASED], encoded = false;
    /* A YAML boolean matches its canonical text (yes -> true). */
    const char *vt = yv.type == AW_YV_BOOL ? (yv.b ? "true" : "false") : v->text;
    aw_sstr start = aw_sstr_parse(a, vt, strlen(vt), c->has[M_EXPAND]);
    if (c->has[M_EXPAND]) {
        if (!expand(cx, a, &start, &cur, v->line, key)) {
            free(cur.v);
            return false;
        }
    } else {
        xpush(&cur, start);
    }
    for (size_t mi = 0; mi < c->n; mi++) {
        modid m = c->m[mi];
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            aw_sstr *s = &cur.v[i];
            char *bytes;
            size_t nb;
            switch (m) {
            case M_CONTAINS: xpush(&next, wrap(a, s, true, true)); break;
            case M_STARTSWITH: xpush(&next, wrap(a, s, false, true)); break;
            case M_ENDSWITH: xpush(&next, wrap(a, s, true, false)); break;
            case M_WINDASH:
                if (!windash(a, s, &next)) {
                    aw_rule_reject(cx, v->line, "expansion-limit",
                                   "windash of '%s' would expand into more than %d patterns", v->text,
                                   MAX_EXPANSION);
                    goto fail;
                }
                break;
            case M_BASE64:
            case M_BASE64OFFSET:
                if (!flat(a, s, &bytes, &nb)) {
                    aw_rule_reject(cx, v->line, "invalid-value",
                                   "Base64 encoding of strings with wildcards is not allowed ('%s')", v->text);
                    goto fail;
                }
                encoded = true;
                if (m == M_BASE64) {
                    xpush(&next, b64(a, (unsigned char *)bytes, nb, 0, 0));
                } else {
                    static const size_t st[3] = {0, 2, 3}, cut[3] = {0, 3, 2};
                    for (size_t k = 0; k < 3; k++) {
                        unsigned char *buf = aw_arena_alloc(a, nb + 3);
                        memset(buf, ' ', k);
                        memcpy(buf + k, bytes, nb);
                        xpush(&next, b64(a, buf, nb + k, st[k], cut[(nb + k) % 3]));
                    }
                }
                break;
            case M_WIDE:
                for (size_t k = 0; k < s->n; k++)
                    for (size_t j = 0; s->toks[k].t == TK_LIT && j < s->toks[k].n; j++)
                        if ((unsigned char)s->toks[k].s[j] >= 0x80) {
                            aw_rule_reject(cx, v->line, "invalid-value",
                                           "Wide modifier only allowed for ascii strings ('%s')", v->text);
                            goto fail;
                        }
                /* fallthrough */
            case M_UTF16LE: xpush(&next, utf16(a, s, false, false)); break;
            case M_UTF16BE: xpush(&next, utf16(a, s, true, false)); break;
            case M_UTF16: xpush(&next, utf16(a, s, false, true)); break;
            default: xpush(&next, *s); break;
            }
        }
        xlist t = cur;
        cur = next;
        next = t;
        if (cur.n > MAX_EXPANSION) {
            aw_rule_reject(cx, v->line, "expansion-limit",
                           "modifiers of '%s' expand one value into more than %d patterns", key, MAX_EXPANSION);
            goto fail;
        }
    }
    g->alts = aw_arena_alloc(aw_rctx_tmp(cx), (cur.n ? cur.n : 1) * sizeof *g->alts);
    bool plain = number && c->n == 0;
    for (size_t i = 0; i < cur.n; i++)
        leaf_glob(cx->rs, it->field, g, &cur.v[i], cased || encoded, plain, yv.f);
    free(cur.v);
    free(next.v);
    (void)it;
    return true;
fail:
    free(cur.v);
    free(next.v);
    return false;
}

bool aw_item_compile(aw_rctx *cx, aw_item *it, const char *key, unsigned line, aw_ynode *val)
{
    aw_arena *a = &cx->rs->arena, *ta = aw_rctx_tmp(cx);
    chain c;
    const char *bar;
    if (!parse_chain(cx, key, line, &c, &bar))
        return false;
    size_t flen = bar ? (size_t)(bar - key) : strlen(key);
    if (!check_chain(cx, &c, key, line, flen > 0))
        return false;
    it->field_name = aw_arena_strndup(a, key, flen);
    it->field = flen ? aw_ruleset_intern_field(cx->rs, it->field_name) : -1;
    it->all = c.has[M_ALL];
    it->negate = c.has[M_NEQ];
    /* Keywords are searched inside every value: contains by default. */
    if (!flen && !(c.has[M_CONTAINS] || c.has[M_STARTSWITH] || c.has[M_ENDSWITH] ||
                   c.has[M_RE] || c.has[M_CIDR]) && c.n < MAX_MODS) {
        c.m[c.n++] = M_CONTAINS;
        c.has[M_CONTAINS] = true;
    }

    aw_ynode *one[1] = {val};
    aw_ynode **vals = one;
    size_t nv = 1;
    if (val->type == AW_Y_SEQ) {
        vals = val->kids;
        nv = val->n;
        if (nv == 0) {                          /* pySigma: [] == null */
            it->groups = aw_arena_alloc(ta, sizeof *it->groups);
            it->groups[0].alts = aw_arena_alloc(ta, sizeof(aw_leaf));
            it->groups[0].alts[0].kind = LM_NULL;
            it->groups[0].n = 1;
            it->n = 1;
            it->glit = aw_arena_alloc(ta, sizeof *it->glit);   /* zeroed */
            return true;
        }
        for (size_t i = 0; i < nv; i++)
            if (vals[i]->type == AW_Y_SCALAR && aw_yscalar_resolve(vals[i]).type == AW_YV_NULL && nv > 1) {
                aw_rule_reject(cx, vals[i]->line, "invalid-value",
                               "null inside a value list of '%s' (use a separate selection)", key);
                return false;
            }
    } else if (val->type == AW_Y_MAP) {
        aw_rule_reject(cx, val->line, "invalid-value", "value of '%s' is a map; expected a scalar or a list", key);
        return false;
    }
    if (c.has[M_EXISTS] && nv != 1) {
        aw_rule_reject(cx, line, "invalid-value", "Exists modifier takes a single boolean ('%s')", key);
        return false;
    }
    it->groups = aw_arena_alloc(ta, nv * sizeof *it->groups);
    for (size_t i = 0; i < nv; i++)
        if (!compile_value(cx, it, &c, key, line, vals[i], &it->groups[it->n++]))
            return false;
    /* Derived fields (aw.*, mapping `derive:`, docs/extensions.md) are
     * appended to the event at ingestion: their values are not in the
     * raw record, so they must not be prefiltered on raw literals. */
    if (strncmp(it->field_name, "aw.", 3) == 0)
        for (size_t g = 0; g < it->n; g++)
            for (size_t k = 0; k < it->groups[g].n; k++)
                it->groups[g].alts[k].lit_id = 0;
    it->glit = aw_arena_alloc(ta, it->n * sizeof *it->glit);
    for (size_t g = 0; g < it->n; g++) {
        const aw_group *gr = &it->groups[g];
        it->glit[g] = gr->n == 1 && (gr->alts[0].kind == LM_GLOB || gr->alts[0].kind == LM_RE) &&
                              !gr->alts[0].is_num
                          ? gr->alts[0].lit_id : 0;
    }
    return true;
}
