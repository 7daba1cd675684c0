/* test_rule_errors.c - a rule document that is not a valid Sigma rule is
 * rejected with the reason's kind and the line of the offending node,
 * and the documents around it in the same file still load. One case per
 * check in src/sigma/rule.c and corr.c (documents, detections, correlations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <string.h>

#include "aupwatch/aw_sigma.h"

typedef struct seen {
    char kind[64];
    unsigned long line;
    int n;
} seen;

static void diag(void *ud, const char *file, unsigned long line, const char *kind, const char *msg)
{
    seen *s = ud;
    (void)file, (void)msg;
    if (s->n++ == 0) {
        snprintf(s->kind, sizeof s->kind, "%s", kind);
        s->line = line;
    }
}

#define GOOD "title: ok\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n"

#define X16 "xxxxxxxxxxxxxxxx"
#define X256 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16

typedef struct rcase {
    const char *doc;            /* the bad document (third in its file) */
    const char *kind;
    unsigned long line;         /* within the document */
} rcase;

static const rcase cases[] = {
    {"logsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n", "missing-title", 1},
    {"title: ''\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n", "missing-title", 1},
    {"title: " X256 "x\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n", "invalid-attribute", 1},
    {"title: t\nid: 1234\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n", "invalid-id", 2},
    {"title: t\nid: 929a690e-bef0-4204-a928-ef5e620d6fcx\nlogsource: {product: test}\n"
     "detection: {s: {a: 1}, condition: s}\n", "invalid-id", 2},
    {"title: t\nname: ''\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
     "invalid-attribute", 2},
    {"title: t\nstatus: final\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
     "invalid-attribute", 2},
    {"title: t\nlevel: severe\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
     "invalid-attribute", 2},
    {"title: t\ntags: {a: b}\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
     "invalid-attribute", 2},
    {"title: t\ntags: [a, [b]]\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
     "invalid-attribute", 2},
    {"title: t\nlogsource: {product: test}\ndetection: [s]\n", "invalid-detection", 3},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s: {a: 1}\n", "missing-condition", 4},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s: {a: 1}\n  condition: []\n", "invalid-condition", 5},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s: {a: 1}\n  condition: {s: 1}\n",
     "invalid-condition", 5},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s: {}\n  condition: s\n", "invalid-detection", 4},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s: []\n  condition: s\n", "invalid-detection", 4},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s:\n    - [a]\n  condition: s\n", "invalid-detection", 5},
    {"title: t\nlogsource: {product: test}\ndetection:\n  s:\n    ? [a]\n    : 1\n  condition: s\n",
     "invalid-detection", 5},
    /* correlations: "title: c", "correlation:" then the body from line 3 */
#define CORR(body) "title: c\ncorrelation:\n" body
#define EC_OK "  type: event_count\n  rules: [x]\n  timespan: 1m\n"
    {"title: c\ncorrelation: x\n", "invalid-correlation", 2},
    {CORR(EC_OK "  condition: {gte: 1}\n  bogus: 1\n"), "invalid-correlation", 7},
    {CORR("  type: sum\n  rules: [x]\n  timespan: 1m\n  condition: {gte: 1}\n"), "invalid-correlation", 3},
    {CORR("  type: event_count\n  timespan: 1m\n  condition: {gte: 1}\n"), "invalid-correlation", 3},
    {CORR("  type: event_count\n  rules: []\n  timespan: 1m\n  condition: {gte: 1}\n"), "invalid-correlation", 4},
    {CORR("  type: event_count\n  rules: [[x]]\n  timespan: 1m\n  condition: {gte: 1}\n"),
     "invalid-correlation", 4},
    {CORR("  type: event_count\n  rules: [x]\n  timespan: soon\n  condition: {gte: 1}\n"),
     "invalid-correlation", 5},
    {CORR(EC_OK "  condition: 5\n"), "invalid-correlation", 6},
    {CORR(EC_OK "  condition: {gte: many}\n"), "invalid-correlation", 6},
    {CORR(EC_OK "  condition: {between: 1}\n"), "invalid-correlation", 6},
    {CORR(EC_OK "  condition: {field: f}\n"), "invalid-correlation", 6},
    {CORR(EC_OK), "invalid-correlation", 3},
    {CORR("  type: value_count\n  rules: [x]\n  timespan: 1m\n  condition: {gte: 1}\n"),
     "invalid-correlation", 6},
    {CORR("  type: value_percentile\n  rules: [x]\n  timespan: 1m\n  condition: {field: f, percentile: 101, gt: 1}\n"),
     "invalid-correlation", 6},
    {CORR(EC_OK "  condition: {gte: 1}\n  aliases: x\n"), "invalid-correlation", 7},
    {CORR(EC_OK "  condition: {gte: 1}\n  aliases: {a: x}\n"), "invalid-correlation", 7},
    {CORR(EC_OK "  condition: {gte: 1}\n  aliases: {a: {x: [f]}}\n"), "invalid-correlation", 7},
    {CORR(EC_OK "  condition: {gte: 1}\n  generate: maybe\n"), "invalid-correlation", 7},
#undef CORR
#undef EC_OK
};

static void test_rejections(void **state)
{
    (void)state;
    char file[2048];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rcase *c = &cases[i];
        /* two good documents, then the bad one: its first line is the 9th */
        int len = snprintf(file, sizeof file, "%s---\n%s---\n%s", GOOD, GOOD, c->doc);
        assert_true(len > 0 && (size_t)len < sizeof file);
        aw_ruleset *rs = aw_ruleset_new();
        seen s = {.n = 0};
        assert_int_equal(aw_ruleset_load_buffer(rs, "case.yml", file, (size_t)len, diag, &s), AW_OK);
        if (aw_ruleset_rejected(rs) != 1 || aw_ruleset_count(rs) != 2 || strcmp(s.kind, c->kind) != 0 ||
            s.line != 8 + c->line)
            fail_msg("case %zu: rejected %zu, loaded %zu, first diagnostic %s at line %lu; want %s at %lu",
                     i, aw_ruleset_rejected(rs), aw_ruleset_count(rs), s.n ? s.kind : "(none)", s.line,
                     c->kind, 8 + c->line);
        aw_ruleset_free(rs);
    }
}

/* What the checks let through: a single tag as a string, a search
 * identifier's list of maps, a condition list of one, a title of 256
 * bytes, an upper-case UUID, a temporal correlation without condition,
 * a percentile without its percentile (the median). */
static void test_accepted(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "title: " X256 "\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
        "title: c\ncorrelation:\n  type: temporal\n  rules: [x, y]\n  timespan: 1m\n",   /* all rules */
        "title: c\ncorrelation:\n  type: value_percentile\n  rules: x\n  timespan: 2h\n"
        "  condition: {field: f, gt: 1}\n  aliases: {a: {x: f}}\n  generate: true\n",
        "title: t\ntags: attack.t1190\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
        "title: t\nlogsource: {product: test}\ndetection:\n  s:\n    - {a: 1}\n    - {b: 2}\n  condition: [s]\n",
        "title: t\nid: 929A690E-BEF0-4204-A928-EF5E620D6FCA\nstatus: experimental\nlevel: critical\n"
        "logsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        aw_ruleset *rs = aw_ruleset_new();
        seen s = {.n = 0};
        assert_int_equal(aw_ruleset_load_buffer(rs, "ok.yml", docs[i], strlen(docs[i]), diag, &s), AW_OK);
        if (aw_ruleset_count(rs) != 1)
            fail_msg("document %zu rejected: %s at line %lu", i, s.kind, s.line);
        aw_ruleset_free(rs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
