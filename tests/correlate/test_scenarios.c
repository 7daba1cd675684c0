/* test_scenarios.c - every scenario of
 * $AW_SHARED/sigma/correlation_scenarios.json through the loader, the
 * plan, the matcher and the correlator (read with the project's JSON
 * parser). Each scenario's alerts (all of them, intermediate chained
 * ones included, in delivery order) must equal `expected`: title,
 * triggering event index, group, value. For the scenarios marked
 * ambiguous our choices equal `expected` (docs/correlation.md says why);
 * a choice that differed would be listed in `override` below. */
#include "correlate/ctest.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, fp);
    fclose(fp);
    return b;
}

static const aw_jnode *mem(const aw_doc *d, const aw_jnode *o, const char *k)
{
    return aw_json_member(d, o, k, strlen(k));
}

static const aw_jnode *kid(const aw_doc *d, const aw_jnode *n)
{
    return n && n->child ? aw_doc_node(d, n->child) : NULL;
}

static const aw_jnode *nxt(const aw_doc *d, const aw_jnode *n)
{
    return n->next ? aw_doc_node(d, n->next) : NULL;
}

/* Scenario ids whose expected result we deliberately do not follow
 * (none: every ambiguous choice matches the file's recommendation). */
static const char *const override[] = {NULL};

static void test_scenarios(void **state)
{
    (void)state;
    const char *shared = getenv("AW_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/sigma/correlation_scenarios.json", shared ? shared : "../shared");
    size_t n = 0;
    char *buf = slurp(path, &n);
    if (!buf) {
        print_message("skip: %s not found (set AW_SHARED)\n", path);
        skip();
    }
    aw_doc *sd = aw_doc_new();
    aw_errbuf err;
    assert_int_equal(aw_doc_parse(sd, buf, n, NULL, &err), AW_OK);
    aw_mapping *map = ctest_mapping();
    const aw_jnode *sc = mem(sd, aw_doc_root(sd), "scenarios");
    assert_non_null(sc);
    size_t count = 0, ambiguous = 0;
    char *ev = malloc(1 << 16);
    for (const aw_jnode *s = kid(sd, sc); s; s = nxt(sd, s)) {
        const char *id = mem(sd, s, "id")->val;
        const aw_jnode *amb = mem(sd, s, "ambiguous");
        ambiguous += amb && amb->type == AW_JTRUE;
        for (size_t o = 0; override[o]; o++)
            assert_string_not_equal(id, override[o]);
        cfx f;
        const aw_jnode *ry = mem(sd, s, "rules_yaml");
        if (!cfx_init(&f, map, ry->val, NULL))
            fail_msg("scenario %s: rules not accepted: %s", id, f.diags);
        long i = 0;
        for (const aw_jnode *e = kid(sd, mem(sd, s, "events")); e; e = nxt(sd, e), i++) {
            size_t len = aw_json_compact(sd, mem(sd, e, "event"), ev, 1 << 16);
            assert_true(len < (1 << 16));
            cfx_event(&f, i, ev);
        }
        aw_correlator_flush(f.c);
        size_t k = 0;
        for (const aw_jnode *x = kid(sd, mem(sd, s, "expected")); x; x = nxt(sd, x), k++) {
            if (k >= f.nal)
                fail_msg("scenario %s: expected %zu+ alerts, got %zu", id, k + 1, f.nal);
            calert *a = &f.al[k];
            if (strcmp(a->title, mem(sd, x, "correlation")->val) != 0)
                fail_msg("scenario %s alert %zu: title '%s', expected '%s'", id, k, a->title,
                         mem(sd, x, "correlation")->val);
            const aw_jnode *ei = mem(sd, x, "event_index");
            if (ei && a->trigger != (long)ei->num)
                fail_msg("scenario %s alert %zu: trigger %ld, expected %g", id, k, a->trigger, ei->num);
            char g[512] = "";
            for (const aw_jnode *gv = kid(sd, mem(sd, x, "group")); gv; gv = nxt(sd, gv)) {
                size_t l = strlen(g);
                snprintf(g + l, sizeof g - l, "%s%s=%s", l ? "," : "", gv->key, gv->val);
            }
            if (strcmp(a->group, g) != 0)
                fail_msg("scenario %s alert %zu: group '%s', expected '%s'", id, k, a->group, g);
            double v = mem(sd, x, "value")->num;
            if (a->value < v - 1e-9 || a->value > v + 1e-9)
                fail_msg("scenario %s alert %zu: value %g, expected %g", id, k, a->value, v);
            assert_false(a->approx);
        }
        if (k != f.nal)
            fail_msg("scenario %s: %zu alerts, expected %zu (first extra: %s %s)", id, f.nal, k,
                     f.al[k].title, f.al[k].group);
        cfx_free(&f);
        count++;
    }
    print_message("%zu scenarios (%zu marked ambiguous) pass\n", count, ambiguous);
    assert_int_equal(count, 20);
    free(ev);
    aw_mapping_free(map);
    aw_doc_free(sd);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
