/* test_vectors.c - ../shared/sigma/modifier_vectors.json, every record.
 *
 * Each record is rebuilt as the detection item `f|<chain>: <input>` and
 * compiled with the engine's own item compiler; the compiled leaves are
 * compared with the expectation. Records marked engine-defined
 * (expected: null) accept either reading; docs/sigma.md says which one
 * aupwatch takes. Skips when ../shared is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "sigma/sigma_int.h"
#include "test_util.h"

typedef struct vctx {
    aw_ruleset *rs;
    aw_doc *doc;
    int rejected;
    char why[512];
} vctx;

static void diag(void *ud, const char *file, unsigned long line, const char *kind, const char *msg)
{
    vctx *v = ud;
    v->rejected++;
    snprintf(v->why, sizeof v->why, "%s: %s", kind, msg);
}

static const aw_jnode *get(const aw_doc *d, const aw_jnode *o, const char *k)
{
    return aw_json_member(d, o, k, strlen(k));
}

/* Compile `f|chain: input` (input as JSON, which is valid YAML flow). */
static bool compile(vctx *v, const aw_jnode *rec, aw_item *it, bool field)
{
    char key[256] = "", yaml[4096];
    const aw_jnode *chain = get(v->doc, rec, "chain"), *in = get(v->doc, rec, "input");
    if (field)
        snprintf(key, sizeof key, "f");
    for (uint32_t c = chain ? chain->child : 0; c; c = aw_doc_node(v->doc, c)->next) {
        strncat(key, "|", sizeof key - strlen(key) - 1);
        strncat(key, aw_doc_node(v->doc, c)->val, sizeof key - strlen(key) - 1);
    }
    char val[2048];
    size_t n = aw_json_compact(v->doc, in, val, sizeof val);
    snprintf(yaml, sizeof yaml, "v: %.*s\n", (int)n, val);
    aw_ynode *root = NULL;
    unsigned eline;
    aw_errbuf err;
    assert_int_equal(aw_ytree_parse(&v->rs->arena, yaml, strlen(yaml), tu_grab_first, &root, &eline, &err), AW_OK);
    aw_rctx cx = {v->rs, "vector", diag, v, NULL};
    memset(it, 0, sizeof *it);
    v->rejected = 0;
    return aw_item_compile(&cx, it, key, 1, aw_ymap_get(root, "v"));
}

static void expect_patterns(vctx *v, const aw_item *it, const aw_jnode *exp, bool parts)
{
    size_t k = 0;
    assert_int_equal(it->n, 1);
    const aw_group *g = &it->groups[0];
    for (uint32_t e = exp->child; e; e = aw_doc_node(v->doc, e)->next, k++) {
        assert_true(k < g->n);
        const aw_jnode *x = aw_doc_node(v->doc, e);
        if (!parts) {
            char *got = aw_sstr_render(&v->rs->arena, &g->alts[k].orig);
            if (strcmp(got, x->val) != 0)
                fail_msg("pattern %zu: got '%s', expected '%s'", k, got, x->val);
            continue;
        }
        /* [{"lit":..},{"wc":"*"}] against the token list */
        const aw_sstr *s = &g->alts[k].orig;
        size_t t = 0;
        for (uint32_t p = x->child; p; p = aw_doc_node(v->doc, p)->next, t++) {
            const aw_jnode *tok = aw_doc_node(v->doc, p);
            assert_true(t < s->n);
            const aw_jnode *lit = get(v->doc, tok, "lit"), *wc = get(v->doc, tok, "wc");
            if (lit) {
                assert_int_equal(s->toks[t].t, TK_LIT);
                assert_int_equal(s->toks[t].n, lit->vlen);
                assert_memory_equal(s->toks[t].s, lit->val, lit->vlen);
            } else if (wc) {
                assert_int_equal(s->toks[t].t, wc->val[0] == '*' ? TK_STAR : TK_QMARK);
            }
        }
        assert_int_equal(t, s->n);
    }
    assert_int_equal(k, g->n);
}

static void check_modifier(vctx *v, const aw_jnode *rec)
{
    aw_item it;
    const aw_jnode *e;
    bool ok = compile(v, rec, &it, true);
    if (!ok)
        fail_msg("rejected: %s", v->why);
    if ((e = get(v->doc, rec, "expected")))
        expect_patterns(v, &it, e, false);
    if ((e = get(v->doc, rec, "expected_parts")))
        expect_patterns(v, &it, e, true);
    if ((e = get(v->doc, rec, "expected_case_sensitive")))
        assert_int_equal(it.groups[0].alts[0].cased, e->type == AW_JTRUE);
    if ((e = get(v->doc, rec, "expected_linking")))
        assert_int_equal(it.all, strcmp(e->val, "and") == 0);
    if ((e = get(v->doc, rec, "expected_negated")))
        assert_int_equal(it.negate, e->type == AW_JTRUE);
    const aw_leaf *l = &it.groups[0].alts[0];
    if ((e = get(v->doc, rec, "expected_regex"))) {
        assert_int_equal(l->kind, LM_RE);
        const char *x = e->val;
        size_t xn = e->vlen;
        if (l->orig.toks[0].n != xn || memcmp(l->orig.toks[0].s, x, xn))
            fail_msg("regex: got '%.*s', expected '%.*s'", (int)l->orig.toks[0].n, l->orig.toks[0].s, (int)xn, x);
        const aw_jnode *fl = get(v->doc, rec, "expected_flags");
        uint32_t opts = 0;
        pcre2_pattern_info(l->re, PCRE2_INFO_ARGOPTIONS, &opts);
        for (uint32_t f = fl ? fl->child : 0; f; f = aw_doc_node(v->doc, f)->next) {
            char c = aw_doc_node(v->doc, f)->val[0];
            assert_true(opts & (c == 'i' ? PCRE2_CASELESS : c == 'm' ? PCRE2_MULTILINE : PCRE2_DOTALL));
        }
    }
    if ((e = get(v->doc, rec, "expected_compare"))) {
        static const char *const ops[] = {"lt", "lte", "gt", "gte"};
        assert_int_equal(l->kind, LM_CMP);
        assert_string_equal(ops[l->op], get(v->doc, e, "op")->val);
        assert_true(l->num == get(v->doc, e, "number")->num);
    }
    if ((e = get(v->doc, rec, "expected_fieldref"))) {
        assert_int_equal(l->kind, LM_FIELDREF);
        assert_string_equal(v->rs->fields[l->ref_field], get(v->doc, e, "field")->val);
        assert_int_equal(l->frmode == FR_PREFIX, get(v->doc, e, "starts_with")->type == AW_JTRUE);
        assert_int_equal(l->frmode == FR_SUFFIX, get(v->doc, e, "ends_with")->type == AW_JTRUE);
    }
    if ((e = get(v->doc, rec, "expected_exists"))) {
        assert_int_equal(l->kind, LM_EXISTS);
        assert_int_equal(l->want, e->type == AW_JTRUE);
    }
    if ((e = get(v->doc, rec, "expected_cidr"))) {
        aw_cidr c;
        aw_errbuf err;
        assert_int_equal(l->kind, LM_CIDR);
        assert_true(aw_cidr_parse(e->val, &c, &err));
        assert_memory_equal(&c, &l->cidr, sizeof c);
    }
    if ((e = get(v->doc, rec, "expected_timestamp_part"))) {
        static const char *const parts[] = {"minute", "hour", "day", "week", "month", "year"};
        assert_int_equal(l->kind, LM_TIMEPART);
        assert_string_equal(parts[l->part], get(v->doc, e, "part")->val);
        assert_true(l->num == get(v->doc, e, "number")->num);
    }
}

static void check_record(vctx *v, const aw_jnode *rec, unsigned idx, unsigned *counted)
{
    const char *kind = get(v->doc, rec, "kind")->val;
    const aw_jnode *in = get(v->doc, rec, "input");
    aw_item it;
    aw_errbuf err;
    (*counted)++;
    if (!strcmp(kind, "modifier")) {
        check_modifier(v, rec);
    } else if (!strcmp(kind, "modifier_error")) {
        const aw_jnode *f = get(v->doc, rec, "field");
        if (compile(v, rec, &it, !(f && f->type == AW_JNULL)))
            fail_msg("record %u: chain should be rejected (%s)", idx, get(v->doc, rec, "error")->val);
    } else if (!strcmp(kind, "string_parse")) {
        const aw_jnode *ch = get(v->doc, rec, "chain");
        aw_item fake = {0};
        aw_group g = {0};
        aw_leaf l = {0};
        l.orig = aw_sstr_parse(&v->rs->arena, in->val, in->vlen, ch != NULL);
        g.alts = &l;
        g.n = 1;
        fake.groups = &g;
        fake.n = 1;
        expect_patterns(v, &fake, get(v->doc, rec, "expected_parts"), true);
    } else if (!strcmp(kind, "encoding")) {
        assert_true(compile(v, rec, &it, true));
        const aw_sstr *s = &it.groups[0].alts[0].orig;
        char hex[256] = "";
        for (size_t i = 0; i < s->toks[0].n; i++)
            snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s->toks[0].s[i]);
        for (size_t t = 1; t < s->n; t++)
            for (size_t i = 0; i < s->toks[t].n; i++)
                snprintf(hex + strlen(hex), 3, "%02x", (unsigned char)s->toks[t].s[i]);
        assert_string_equal(hex, get(v->doc, rec, "expected_hex")->val);
    } else if (!strcmp(kind, "cidr_match")) {
        aw_cidr c;
        const aw_jnode *ip = get(v->doc, rec, "ip"), *x = get(v->doc, rec, "expected");
        assert_true(aw_cidr_parse(get(v->doc, rec, "cidr")->val, &c, &err));
        bool got = aw_cidr_match(&c, ip->val, ip->vlen);
        if (x->type != AW_JNULL && got != (x->type == AW_JTRUE))
            fail_msg("record %u: %s in %s: got %d", idx, ip->val, get(v->doc, rec, "cidr")->val, got);
    } else if (!strcmp(kind, "cidr_wildcard_expansion")) {
        /* pySigma's CIDR-to-wildcard rewrite is a backend detail; check
         * that the lowest and highest IPv4 address of every wildcard
         * pattern it lists fall inside the network. */
        aw_cidr c;
        assert_true(aw_cidr_parse(in->val, &c, &err));
        const aw_jnode *x = get(v->doc, rec, "expected");
        for (uint32_t p = x->child; p; p = aw_doc_node(v->doc, p)->next) {
            const char *pat = aw_doc_node(v->doc, p)->val;
            if (strchr(pat, ':') || c.family == 6)
                continue;
            for (int hi = 0; hi < 2; hi++) {
                char ip[64];
                size_t n = strcspn(pat, "*"), dots = 0;
                snprintf(ip, sizeof ip, "%.*s", (int)n, pat);
                for (size_t i = 0; i < n; i++)
                    dots += pat[i] == '.';
                if (!pat[n] && dots == 3) {
                    /* exact address */
                } else {
                    for (size_t o = dots; o < 4; o++)
                        snprintf(ip + strlen(ip), sizeof ip - strlen(ip), "%s%s",
                                 o == dots && (n == 0 || pat[n - 1] == '.') ? "" : ".", hi ? "255" : "0");
                }
                if (!aw_cidr_match(&c, ip, strlen(ip)))
                    fail_msg("%s: %s (from %s) not inside", in->val, ip, pat);
            }
        }
    } else if (!strcmp(kind, "condition") || !strcmp(kind, "condition_error")) {
        const char *names[32];
        size_t nn = 0;
        const aw_jnode *ids = get(v->doc, rec, "identifiers");
        char buf[512];
        if (ids) {
            for (uint32_t c = ids->child; c && nn < 32; c = aw_doc_node(v->doc, c)->next)
                names[nn++] = aw_doc_node(v->doc, c)->val;
        } else {                                /* every word that is no operator */
            snprintf(buf, sizeof buf, "%s", in->val);
            for (char *t = strtok(buf, " ()"); t && nn < 32; t = strtok(NULL, " ()"))
                if (strcmp(t, "and") && strcmp(t, "or") && strcmp(t, "not") && strcmp(t, "OR") &&
                    strcmp(t, "AND") && strcmp(t, "|") && strcmp(t, "of") && !strchr(t, '*'))
                    names[nn++] = t;
        }
        const char *k = NULL;
        aw_cnode *c = aw_cond_parse(&v->rs->arena, in->val, names, nn, &k, &err);
        if (!strcmp(kind, "condition")) {
            if (!c)
                fail_msg("condition '%s': %s", in->val, err.msg);
            assert_string_equal(aw_cond_render(&v->rs->arena, c, names), get(v->doc, rec, "expected_tree")->val);
        } else if (c) {
            fail_msg("condition '%s' should not parse", in->val);
        }
    } else if (!strcmp(kind, "timespan")) {
        int64_t s;
        assert_true(aw_timespan_parse(in->val, &s));
        assert_int_equal(s, (int64_t)get(v->doc, rec, "expected_seconds")->num);
    } else if (!strcmp(kind, "timespan_error") || !strcmp(kind, "timespan_lenient")) {
        int64_t s;
        assert_false(aw_timespan_parse(in->val, &s));   /* strict: spec form only */
    } else {
        (*counted)--;
        fail_msg("unknown record kind '%s'", kind);
    }
}

static void test_all_vectors(void **state)
{
    (void)state;
    char path[4096];
    size_t len = 0;
    char *buf = tu_read_shared("sigma/modifier_vectors.json", path, sizeof path, &len);
    if (!buf) {
        print_message("skip: %s not found (../shared absent)\n", path);
        skip();
    }
    vctx v = {aw_ruleset_new(), aw_doc_new(), 0, ""};
    aw_errbuf err;
    assert_int_equal(aw_doc_parse(v.doc, buf, len, NULL, &err), AW_OK);
    const aw_jnode *recs = get(v.doc, aw_doc_root(v.doc), "records");
    unsigned idx = 0, counted = 0;
    for (uint32_t r = recs->child; r; r = aw_doc_node(v.doc, r)->next, idx++)
        check_record(&v, aw_doc_node(v.doc, r), idx, &counted);
    print_message("%u vector records checked\n", counted);
    assert_true(counted >= 680);
    aw_doc_free(v.doc);
    aw_ruleset_free(v.rs);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_all_vectors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
