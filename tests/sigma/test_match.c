/* test_match.c - detection semantics end to end: a rule (YAML text) and
 * an event (JSON text) through the loader, the plan and the matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "sigma/sigma_int.h"

static const char mapping_yaml[] =
    "sources:\n"
    "  - name: test\n"
    "    logsource: {product: test}\n"
    "    when: {exists: kind}\n"
    "    time: ts\n"
    "    tenant: account\n"
    "  - name: grp\n"
    "    logsource: {product: grp}\n"
    "    when: {exists: grp}\n"
    "    fields: {A: [o.a, alt.a]}\n"
    "    prefixes: [o.]\n"
    "  - name: other\n"
    "    logsource: {product: other}\n"
    "    when: {exists: other}\n"
    "  - name: star\n"
    "    logsource: {product: star}\n"
    "    when: {exists: star}\n"
    "    prefixes: [o., u.*.]\n";

typedef struct fx {
    aw_mapping *map;
    char kinds[2048];
} fx;

static void diag(void *ud, const char *file, unsigned long line, const char *kind, const char *msg)
{
    fx *f = ud;
    strncat(f->kinds, kind, sizeof f->kinds - strlen(f->kinds) - 2);
    strcat(f->kinds, " ");
    (void)file, (void)line, (void)msg;
}

static aw_mapping *test_mapping(void)
{
    char path[] = "/tmp/aw_test_mapping_XXXXXX.yml";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, mapping_yaml, sizeof mapping_yaml - 1), (ssize_t)(sizeof mapping_yaml - 1));
    close(fd);
    aw_mapping *m = aw_mapping_new();
    assert_int_equal(aw_mapping_load(m, path, NULL, NULL), AW_OK);
    unlink(path);
    return m;
}

static int count_hit(void *ud, const aw_hit *h)
{
    (*(int *)ud)++;
    (void)h;
    return 0;
}

/* Hits of the rule set `rules` on `event`, with the member `dkey`:
 * `dval` appended as a derived field when dkey is not NULL; -1 if the
 * rules were rejected. f->kinds collects the diagnostic kinds. */
static int run_derived(fx *f, const char *rules, const char *event, const char *placeholders,
                       const char *dkey, const char *dval)
{
    aw_ruleset *rs = aw_ruleset_new();
    f->kinds[0] = 0;
    if (placeholders) {
        char path[] = "/tmp/aw_test_ph_XXXXXX.yml";
        int fd = mkstemps(path, 4);
        assert_true(write(fd, placeholders, strlen(placeholders)) > 0);
        close(fd);
        aw_ruleset_load_placeholders(rs, path, diag, f);
        unlink(path);
    }
    aw_ruleset_load_buffer(rs, "rule.yml", rules, strlen(rules), diag, f);
    if (aw_ruleset_rejected(rs)) {
        aw_ruleset_free(rs);
        return -1;
    }
    /* the prefilter on every event, its databases compiled on 3 threads */
    aw_plan_opts po = {.prefilter_min_rules = 1, .compile_threads = 3};
    aw_plan *p = aw_plan_new(rs, f->map, &po, diag, f);
    aw_matcher *m = aw_matcher_new(p);
    aw_doc *d = aw_doc_new();
    aw_errbuf err;
    assert_int_equal(aw_doc_parse(d, event, strlen(event), NULL, &err), AW_OK);
    if (dkey)
        assert_int_equal(aw_json_append_member(d, dkey, AW_JSTR, dval, 0), AW_OK);
    int hits = 0, raw_hits = 0;
    aw_matcher_eval(m, d, count_hit, &hits);
    /* with the raw record the literal prefilter is active: same result */
    aw_matcher_eval_raw(m, d, event, strlen(event), count_hit, &raw_hits);
    if (hits != raw_hits)
        fail_msg("prefilter changed the result: %d hits without, %d with, on %s", hits, raw_hits, event);
    /* the reference path, every rule evaluated: same result */
    aw_plan_opts ro = {.no_dispatch = true};
    aw_plan *rp = aw_plan_new(rs, f->map, &ro, diag, f);
    aw_matcher *rm = aw_matcher_new(rp);
    int ref_hits = 0;
    aw_matcher_eval_raw(rm, d, event, strlen(event), count_hit, &ref_hits);
    if (hits != ref_hits)
        fail_msg("dispatch changed the result: %d hits, %d on the reference path, on %s", hits, ref_hits, event);
    aw_matcher_free(rm);
    aw_plan_free(rp);
    aw_doc_free(d);
    aw_matcher_free(m);
    aw_plan_free(p);
    aw_ruleset_free(rs);
    return hits;
}

static int run(fx *f, const char *rules, const char *event, const char *placeholders)
{
    return run_derived(f, rules, event, placeholders, NULL, NULL);
}

#define RULE(det) "title: t\nlogsource: {product: test}\ndetection:\n" det
#define FIRES(f, det, ev) assert_int_equal(run(f, RULE(det), ev, NULL), 1)
#define QUIET(f, det, ev) assert_int_equal(run(f, RULE(det), ev, NULL), 0)
#define REJECT(f, det, kind)                                \
    do {                                                    \
        assert_int_equal(run(f, RULE(det), "{}", NULL), -1); \
        assert_non_null(strstr((f)->kinds, kind));          \
    } while (0)

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->map = test_mapping();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    aw_mapping_free(f->map);
    free(f);
    return 0;
}

static void test_maps_lists(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"a\":\"Foo\",\"b\":\"bar\",\"n\":4688}";
    FIRES(f, "  s: {a: foo, b: bar}\n  condition: s\n", ev);           /* AND, case-insensitive */
    QUIET(f, "  s: {a: foo, b: baz}\n  condition: s\n", ev);
    FIRES(f, "  s:\n    - a: nope\n    - b: bar\n  condition: s\n", ev); /* list of maps = OR */
    FIRES(f, "  s: {a: [x, y, FOO]}\n  condition: s\n", ev);           /* value list = OR */
    QUIET(f, "  s: {a|all: [foo, x]}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|contains|all: [f, o]}\n  condition: s\n", ev);
    QUIET(f, "  s: {a|cased: foo}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|cased: Foo}\n  condition: s\n", ev);
    /* cased with each pattern shape: prefix, suffix, wildcards inside, '?' and '*' alone */
    FIRES(f, "  s: {a|cased|startswith: Fo}\n  condition: s\n", ev);
    QUIET(f, "  s: {a|cased|startswith: fo}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|cased|endswith: oo}\n  condition: s\n", ev);
    QUIET(f, "  s: {a|cased|endswith: OO}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|cased: 'F*o'}\n  condition: s\n", ev);
    QUIET(f, "  s: {a|cased: 'f*o'}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|cased: 'F?o'}\n  condition: s\n", ev);
    QUIET(f, "  s: {a|cased: 'F?O'}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|cased: '*'}\n  condition: s\n", ev);
    /* folding past 16 bytes (vector part), '@' '[' '`' '{' and non-ASCII
     * bytes unchanged */
    const char *ev2 = "{\"kind\":1,\"a\":\"xx@[`{\xc3\x89" "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{\xc3\x89" "Tail\"}";
    FIRES(f, "  s: {a|contains: 'qrstuvwxyz@[`{\xc3\x89t'}\n  condition: s\n", ev2);
    FIRES(f, "  s: {a|contains: 'xx@[`{\xc3\x89" "abc'}\n  condition: s\n", ev2);
    QUIET(f, "  s: {a|contains: 'xx`{{{'}\n  condition: s\n", ev2);
    QUIET(f, "  s: {a|contains: '\xc3\xa9'}\n  condition: s\n", ev2);   /* no folding beyond ASCII */
    FIRES(f, "  s: {n: 4688}\n  condition: s\n", ev);                   /* number = number */
    FIRES(f, "  s: {n: '4688'}\n  condition: s\n", ev);                 /* string = rendering */
    FIRES(f, "  s: {n|startswith: '46'}\n  condition: s\n", ev);
    QUIET(f, "  s: {n: 4689}\n  condition: s\n", ev);
}

static void test_wildcards_escapes(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"p\":\"C:\\\\Windows\\\\cmd.exe\",\"q\":\"a*b\",\"u\":\"h\\u00e9llo\"}";
    FIRES(f, "  s: {p: 'C:\\Windows\\\\*.exe'}\n  condition: s\n", ev);   /* \\* = \ then wildcard */
    QUIET(f, "  s: {p: 'C:\\Windows\\*.exe'}\n  condition: s\n", ev);     /* \* = literal star */
    FIRES(f, "  s: {p: 'c:\\windows\\cmd.ex?'}\n  condition: s\n", ev);
    QUIET(f, "  s: {p: 'C:\\Windows\\cmd.ex'}\n  condition: s\n", ev);
    FIRES(f, "  s: {q: 'a\\*b'}\n  condition: s\n", ev);                 /* escaped star */
    QUIET(f, "  s: {q: 'a\\*c'}\n  condition: s\n", ev);
    FIRES(f, "  s: {u: 'h?llo'}\n  condition: s\n", ev);                 /* ? = one UTF-8 char */
    FIRES(f, "  s: {p|endswith: '\\cmd.exe'}\n  condition: s\n", ev);
}

static void test_null_exists_neq(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"z\":null,\"e\":\"\"}";
    FIRES(f, "  s: {z: null}\n  condition: s\n", ev);
    FIRES(f, "  s: {missing: null}\n  condition: s\n", ev);
    QUIET(f, "  s: {e: null}\n  condition: s\n", ev);
    FIRES(f, "  s: {e: ''}\n  condition: s\n", ev);
    FIRES(f, "  s: {z|exists: true}\n  condition: s\n", ev);              /* JSON null exists */
    FIRES(f, "  s: {missing|exists: false}\n  condition: s\n", ev);
    QUIET(f, "  s: {z|exists: false}\n  condition: s\n", ev);
    FIRES(f, "  s: {missing|neq: x}\n  condition: s\n", ev);              /* pySigma: NOT(item) */
    QUIET(f, "  s: {e|neq: ''}\n  condition: s\n", ev);
    REJECT(f, "  s: {z|exists: maybe}\n  condition: s\n", "invalid-value");
    REJECT(f, "  s: {z|contains|exists: true}\n  condition: s\n", "invalid-modifier-chain");
    /* pySigma: an empty list is null; null inside a list is refused */
    FIRES(f, "  s: {z: []}\n  condition: s\n", ev);
    FIRES(f, "  s: {missing: []}\n  condition: s\n", ev);
    QUIET(f, "  s: {e: []}\n  condition: s\n", ev);
    REJECT(f, "  s: {e: ['', null]}\n  condition: s\n", "invalid-value");
}

static void test_nested_arrays_objects(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"user\":{\"name\":\"Bob\",\"groups\":[\"users\",\"admins\"]},"
                     "\"rp\":{\"Status\":\"Suspended\",\"x\":1},\"dotted.key\":\"v\"}";
    FIRES(f, "  s: {user.name: bob}\n  condition: s\n", ev);
    FIRES(f, "  s: {user.groups: admins}\n  condition: s\n", ev);          /* any element */
    QUIET(f, "  s: {user.groups: root}\n  condition: s\n", ev);
    FIRES(f, "  s: {rp|contains: Suspended}\n  condition: s\n", ev);       /* object as compact JSON */
    FIRES(f, "  s: {dotted.key: v}\n  condition: s\n", ev);                /* literal dotted key */
}

static void test_keywords(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"msg\":\"User Alice logged in\",\"n\":{\"deep\":\"mimikatz.exe\"}}";
    FIRES(f, "  k: [nothing, alice]\n  condition: k\n", ev);
    FIRES(f, "  k: [MIMIKATZ]\n  condition: k\n", ev);
    QUIET(f, "  k: [bob]\n  condition: k\n", ev);
    FIRES(f, "  k:\n    '|all': [alice, logged]\n  condition: k\n", ev);
    QUIET(f, "  k:\n    '|all': [alice, bob]\n  condition: k\n", ev);
    FIRES(f, "  k: ['log*in']\n  condition: k\n", ev);
}

static void test_modifiers_runtime(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"ip\":\"10.1.2.3\",\"size\":\"1500\",\"num\":12.5,"
                     "\"cmd\":\"tool.exe \\u2013Post x\",\"a\":\"alice\",\"b\":\"ALICE\","
                     "\"ps\":\"powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA\","
                     "\"ts\":\"2024-03-05T14:07:00Z\",\"re\":\"abc123\"}";
    FIRES(f, "  s: {ip|cidr: 10.0.0.0/8}\n  condition: s\n", ev);
    QUIET(f, "  s: {ip|cidr: 192.168.0.0/16}\n  condition: s\n", ev);
    REJECT(f, "  s: {ip|cidr: 10.0.0.1/8}\n  condition: s\n", "invalid-cidr");
    FIRES(f, "  s: {size|gt: 1000}\n  condition: s\n", ev);
    QUIET(f, "  s: {size|lt: 1000}\n  condition: s\n", ev);
    FIRES(f, "  s: {num|lte: 12.5}\n  condition: s\n", ev);
    REJECT(f, "  s: {num|gte: '12'}\n  condition: s\n", "invalid-value");
    FIRES(f, "  s: {cmd|windash|contains: '-Post'}\n  condition: s\n", ev);
    FIRES(f, "  s: {a|fieldref: b}\n  condition: s\n", ev);                 /* case-insensitive */
    QUIET(f, "  s: {a|fieldref|cased: b}\n  condition: s\n", ev);
    {   /* with startswith / endswith / contains: the other field's value as prefix, suffix, part */
        const char *fr = "{\"kind\":1,\"a\":\"abcdef\",\"b\":\"ABC\",\"c\":\"def\",\"d\":\"cd\"}";
        FIRES(f, "  s: {a|fieldref|startswith: b}\n  condition: s\n", fr);
        FIRES(f, "  s: {a|fieldref|endswith: c}\n  condition: s\n", fr);
        FIRES(f, "  s: {a|fieldref|contains: d}\n  condition: s\n", fr);
        QUIET(f, "  s: {a|fieldref|endswith: b}\n  condition: s\n", fr);
        QUIET(f, "  s: {a|fieldref|startswith: c}\n  condition: s\n", fr);
        QUIET(f, "  s: {a|fieldref|contains|cased: b}\n  condition: s\n", fr);
        QUIET(f, "  s: {a|fieldref|contains: missing}\n  condition: s\n", fr);
    }
    FIRES(f, "  s: {ps|base64offset|contains: 'IEX (New-Obj'}\n  condition: s\n",
          "{\"kind\":1,\"ps\":\"x SUVYIChOZXctT2Jq y\"}");
    FIRES(f, "  s: {ps|wide|base64offset|contains: 'IEX (New-Obj'}\n  condition: s\n", ev);
    /* UTF-16 of non-ASCII text: code points, not bytes, and a pair of
     * surrogates above U+FFFF ('\u00e9' 6QA=, U+1F600 PdgA3g==); `wide`
     * keeps pySigma's ASCII-only rule (SPEC_SUMMARY), the spec's names
     * encode any text */
    REJECT(f, "  s: {ps|wide|base64: '\xc3\xa9'}\n  condition: s\n", "invalid-value");
    FIRES(f, "  s: {ps|utf16le|base64: '\xc3\xa9'}\n  condition: s\n", "{\"kind\":1,\"ps\":\"6QA=\"}");
    FIRES(f, "  s: {ps|utf16le|base64: '\xf0\x9f\x98\x80'}\n  condition: s\n", "{\"kind\":1,\"ps\":\"PdgA3g==\"}");
    FIRES(f, "  s: {ps|utf16be|base64: '\xf0\x9f\x98\x80'}\n  condition: s\n", "{\"kind\":1,\"ps\":\"2D3eAA==\"}");
    FIRES(f, "  s: {ps|utf16|base64: '\xc3\xa9'}\n  condition: s\n", "{\"kind\":1,\"ps\":\"//7pAA==\"}");
    FIRES(f, "  s: {ps|utf16le|base64offset|contains: 'a\xc3\xa9" "b'}\n  condition: s\n",
          "{\"kind\":1,\"ps\":\"x YQDpAGIA y\"}");
    FIRES(f, "  s: {ts|hour: 14}\n  condition: s\n", ev);
    FIRES(f, "  s: {ts|month: 3}\n  condition: s\n", ev);
    FIRES(f, "  s: {ts|week: 10}\n  condition: s\n", ev);
    QUIET(f, "  s: {ts|minute: 8}\n  condition: s\n", ev);
    FIRES(f, "  s: {ts|day: 5}\n  condition: s\n", ev);
    FIRES(f, "  s: {ts|year: 2024}\n  condition: s\n", ev);
    {   /* epoch numbers: seconds, or milliseconds above 1e11 (the same instant) */
        const char *ep = "{\"kind\":1,\"s\":1709647620,\"ms\":1709647620000,\"bad\":\"soon\"}";
        FIRES(f, "  s: {s|hour: 14}\n  condition: s\n", ep);
        FIRES(f, "  s: {ms|minute: 7}\n  condition: s\n", ep);
        FIRES(f, "  s: {ms|day: 5}\n  condition: s\n", ep);
        QUIET(f, "  s: {s|year: 2023}\n  condition: s\n", ep);
        QUIET(f, "  s: {bad|hour: 14}\n  condition: s\n", ep);
    }
    FIRES(f, "  s: {re|re: '^[a-c]+\\d+$'}\n  condition: s\n", ev);
    QUIET(f, "  s: {re|re: '^ABC'}\n  condition: s\n", ev);
    FIRES(f, "  s: {re|re|i: '^ABC'}\n  condition: s\n", ev);
    /* UTF-8 mode: '.' is one code point, written or escaped; a value
     * derived after parsing is checked by PCRE2 (invalid UTF-8 there
     * matches nothing), the parser already checked the record's own */
    FIRES(f, "  s: {u|re: '^a.b$'}\n  condition: s\n", "{\"kind\":1,\"u\":\"a\\u00e9b\"}");
    FIRES(f, "  s: {u|re: '^a.b$'}\n  condition: s\n", "{\"kind\":1,\"u\":\"a\xe2\x82\xac" "b\"}");
    QUIET(f, "  s: {u|re: '^a..b$'}\n  condition: s\n", "{\"kind\":1,\"u\":\"a\xc3\xa9" "b\"}");
    assert_int_equal(run_derived(f, RULE("  s: {dk|re: 'abc'}\n  condition: s\n"), "{\"kind\":1}", NULL, "dk",
                                 "abc\xff"), 0);
    assert_int_equal(run_derived(f, RULE("  s: {dk|re: 'abc'}\n  condition: s\n"), "{\"kind\":1}", NULL, "dk",
                                 "\xc3\xa9" "abc"), 1);
    /* a run too short to scan for is still looked for before PCRE2 */
    FIRES(f, "  s: {u|re: '\\w+`\\w+`'}\n  condition: s\n", "{\"kind\":1,\"u\":\"IN`V`oke\"}");
    QUIET(f, "  s: {u|re: '\\w+`\\w+`'}\n  condition: s\n", "{\"kind\":1,\"u\":\"INVoke\"}");
    FIRES(f, "  s: {u|re|i: 'X`'}\n  condition: s\n", "{\"kind\":1,\"u\":\"ax`\"}");
    REJECT(f, "  s: {re|re: '(unclosed'}\n  condition: s\n", "invalid-regex");
    REJECT(f, "  s: {re|nosuch: x}\n  condition: s\n", "unknown-modifier");
    REJECT(f, "  s: {re|contains|re: x}\n  condition: s\n", "invalid-modifier-chain");
    REJECT(f, "  s: {re|base64: 'a*b'}\n  condition: s\n", "invalid-value");
    /* 6 dash positions = 5^6 variants: rejected, never half-expanded */
    REJECT(f, "  s: {cmd|windash|contains: '-a -b -c -d -e -f'}\n  condition: s\n", "expansion-limit");
    FIRES(f, "  s: {cmd|windash|contains: '/a -b'}\n  condition: s\n",
          "{\"kind\":1,\"cmd\":\"x \\u2014a /b\"}");
}

static void test_conditions(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"a\":\"1\",\"b\":\"2\"}";
    const char *det = "  sel_a: {a: '1'}\n  sel_b: {b: '2'}\n  filter_x: {a: x}\n  _priv: {b: nope}\n";
    char buf[512];
#define COND(c, want)                                                                \
    do {                                                                             \
        snprintf(buf, sizeof buf, "title: t\nlogsource: {product: test}\ndetection:\n%s  condition: %s\n", det, c); \
        assert_int_equal(run(f, buf, ev, NULL), want);                               \
    } while (0)
    COND("sel_a and sel_b", 1);
    COND("sel_a and not sel_b", 0);
    COND("all of sel_*", 1);
    COND("1 of filter*", 0);
    COND("sel_a and not 1 of filter*", 1);
    COND("1 of them", 1);
    COND("all of them", 0);                 /* filter_x false; _priv excluded */
    COND("not filter_x and (sel_a or _priv)", 1);
    COND("sel_a or sel_b and filter_x", 1); /* and binds tighter */
    COND("(sel_a or sel_b) and filter_x", 0);
    COND("not not sel_a", 1);
    assert_int_equal(run(f, RULE("  s: {a: '1'}\n  condition: [s and x, s]\n"), ev, NULL), -1);
    assert_int_equal(run(f, RULE("  s: {a: '1'}\n  condition: [s, s]\n"), ev, NULL), 1);
    REJECT(f, "  s: {a: '1'}\n  condition: s AND s\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  condition: 1 of x*\n", "empty-selector");
    REJECT(f, "  s: {a: '1'}\n  condition: s | count() > 5\n", "legacy-aggregation");
    REJECT(f, "  s: {a: '1'}\n  timeframe: 5m\n  condition: s\n", "legacy-timeframe");
    REJECT(f, "  s: {a: '1'}\n  condition: (s\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  condition: nosuch\n", "undefined-identifier");
    REJECT(f, "  s: {a: '1'}\n  condition: s ^ s\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  condition: 1 of\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  condition: s and or s\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  condition: NOT s\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  condition: s*\n", "condition-syntax");
    REJECT(f, "  s: {a: '1'}\n  t: {a: '2'}\n  condition: s | near t\n", "legacy-near");
    REJECT(f, "  s: {a: '1'}\n  t: {a: '2'}\n  condition: s and near t\n", "legacy-near");
    REJECT(f, "  s: {a: '1'}\n  t: {a: '2'}\n  condition: s near t\n", "legacy-near");
    REJECT(f, "  s: {a: '1'}\n  t: {a: '2'}\n  condition: (s or t) near t\n", "legacy-near");
    REJECT(f, "  s: {a: '1'}\n  t: {a: '2'}\n  condition: s t\n", "condition-syntax");
    {   /* 64 levels of nesting are the limit, in brackets and in 'not' */
        char deep[600];
        for (int k = 0; k < 2; k++) {
            int n = 0;
            n += snprintf(deep + n, sizeof deep - n, "title: t\nlogsource: {product: test}\ndetection:\n  s: {a: '1'}\n"
                                                     "  condition: ");
            for (int i = 0; i < 65; i++)
                n += snprintf(deep + n, sizeof deep - n, "%s", k ? "not " : "(");
            n += snprintf(deep + n, sizeof deep - n, "s");
            for (int i = 0; i < 65 && !k; i++)
                n += snprintf(deep + n, sizeof deep - n, ")");
            snprintf(deep + n, sizeof deep - n, "\n");
            assert_int_equal(run(f, deep, "{}", NULL), -1);
            assert_non_null(strstr(f->kinds, "condition-syntax"));
        }
    }
}

static void test_yaml_typing(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"flag\":true,\"s\":\"yes\",\"h\":\"0x1F\"}";
    FIRES(f, "  s: {flag: true}\n  condition: s\n", ev);
    FIRES(f, "  s: {flag: yes}\n  condition: s\n", ev);     /* YAML 1.1: yes is true */
    FIRES(f, "  s: {s: 'yes'}\n  condition: s\n", ev);
    QUIET(f, "  s: {s: no}\n  condition: s\n", ev);
    FIRES(f, "  s: {h: '0x1F'}\n  condition: s\n", ev);
    assert_int_equal(run(f, "title: t\ntitle: u\nlogsource: {product: test}\ndetection: {s: {a: 1}, condition: s}\n",
                         ev, NULL), -1);
    assert_non_null(strstr(f->kinds, "duplicate-key"));
    assert_int_equal(run(f, "title: [broken\n", ev, NULL), -1);
    assert_non_null(strstr(f->kinds, "yaml-syntax"));
}

static void test_routing_filters_placeholders(void **state)
{
    fx *f = *state;
    const char *ev = "{\"kind\":1,\"user\":\"adm_bob\",\"host\":\"dc01\"}";
    /* a rule of another product never sees this event */
    assert_int_equal(run(f, "title: t\nlogsource: {product: other}\ndetection: {s: {user: adm_bob}, condition: s}\n",
                         ev, NULL), 0);
    /* no mapping for the product: reported */
    assert_int_equal(run(f, "title: t\nlogsource: {product: nowhere}\ndetection: {s: {user: x}, condition: s}\n",
                         ev, NULL), 0);
    assert_non_null(strstr(f->kinds, "no-logsource-mapping"));
    /* a v2 filter excludes domain controllers (pySigma: rule AND filter) */
    const char *rule = "title: t\nname: base\nlogsource: {product: test}\ndetection: {s: {user|startswith: adm_}, condition: s}\n";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s---\ntitle: f\nlogsource: {product: test}\nfilter:\n  rules: [base]\n"
             "  dc: {host|startswith: dc}\n  condition: not dc\n", rule);
    assert_int_equal(run(f, rule, ev, NULL), 1);
    assert_int_equal(run(f, buf, ev, NULL), 0);
    /* placeholders */
    const char *ph_rule = RULE("  s: {host|expand: '%dcs%'}\n  condition: s\n");
    assert_int_equal(run(f, ph_rule, ev, "dcs: [srv1, 'dc*']\n"), 1);
    assert_int_equal(run(f, ph_rule, ev, "dcs: srv1\n"), 0);
    assert_int_equal(run(f, ph_rule, ev, NULL), -1);
    assert_non_null(strstr(f->kinds, "unresolved-placeholder"));
    /* without expand, %x% is literal */
    assert_int_equal(run(f, RULE("  s: {user: '%dcs%'}\n  condition: s\n"), "{\"kind\":1,\"user\":\"%DCS%\"}", NULL), 1);
}

static void test_correlation_only(void **state)
{
    fx *f = *state;
    const char *y = "title: base\nname: base\nlogsource: {product: test}\ndetection: {s: {a: x}, condition: s}\n"
                    "---\ntitle: c\ncorrelation: {type: event_count, rules: [base], group-by: [h], timespan: 5m, "
                    "condition: {gte: 3}}\n";
    /* the base rule matches but only feeds the correlation */
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "c.yml", y, strlen(y), diag, f);
    assert_int_equal(aw_ruleset_rejected(rs), 0);
    aw_plan *p = aw_plan_new(rs, f->map, NULL, diag, f);
    aw_matcher *m = aw_matcher_new(p);
    aw_doc *d = aw_doc_new();
    aw_errbuf err;
    const char *ev = "{\"kind\":1,\"a\":\"x\"}";
    assert_int_equal(aw_doc_parse(d, ev, strlen(ev), NULL, &err), AW_OK);
    int only = 0;
    aw_matcher_eval(m, d, count_hit, &only);
    assert_int_equal(only, 1);
    aw_doc_free(d);
    aw_matcher_free(m);
    aw_plan_free(p);
    aw_ruleset_free(rs);
    assert_int_equal(run(f, "title: c\ncorrelation: {type: event_count, rules: [nosuch], timespan: 5m, condition: {gte: 3}}\n",
                         "{\"kind\":1}", NULL), 0);
    assert_non_null(strstr(f->kinds, "unknown-reference"));
    assert_int_equal(run(f, "title: c\ncorrelation: {type: value_count, rules: [x], timespan: 5m, condition: {gte: 3}}\n",
                         "{\"kind\":1}", NULL), -1);
    assert_int_equal(run(f, "title: c\ncorrelation: {type: event_count, rules: [x], timespan: 5H, condition: {gte: 3}}\n",
                         "{\"kind\":1}", NULL), -1);
}

/* The prefilter looks for literals in the raw record: escapes must not
 * hide them, case must not matter, encodings must not be lost. */
static void test_prefilter_exact(void **state)
{
    fx *f = *state;
    FIRES(f, "  s: {p|contains: powershell}\n  condition: s\n", "{\"kind\":1,\"p\":\"x pow\\u0065rshell y\"}");
    FIRES(f, "  s: {p|contains: powershell}\n  condition: s\n", "{\"kind\":1,\"p\":\"POWERSHELL\"}");
    FIRES(f, "  s: {p: 'C:/Windows/x.exe'}\n  condition: s\n", "{\"kind\":1,\"p\":\"C:\\/Windows\\/x.exe\"}");
    FIRES(f, "  s: {p|contains: 'a\"b'}\n  condition: s\n", "{\"kind\":1,\"p\":\"xa\\\"by\"}");
    FIRES(f, "  s: {p|contains: 'tab\there'}\n  condition: s\n", "{\"kind\":1,\"p\":\"tab\\there\"}");
    FIRES(f, "  k: [evil.exe]\n  condition: k\n", "{\"kind\":1,\"a\":{\"b\":[\"EVIL.EXE\"]}}");
    FIRES(f, "  s: {o|contains: 'Suspended'}\n  condition: s\n", "{\"kind\":1,\"o\":{ \"Status\" : \"Suspended\" }}");
    FIRES(f, "  s: {p|base64offset|contains: 'IEX (New'}\n  condition: s\n", "{\"kind\":1,\"p\":\"SUVYIChOZX\"}");
    FIRES(f, "  s: {n: 4688}\n  condition: s\n", "{\"kind\":1,\"n\":4.688e3}");
    FIRES(f, "  s: {p|contains: caf\u00e9}\n  condition: s\n", "{\"kind\":1,\"p\":\"le caf\\u00e9 noir\"}");
    QUIET(f, "  s: {p|contains: powershell}\n  condition: s\n", "{\"kind\":1,\"p\":\"cmd.exe\",\"dropped\":\"powershell\"}");
    /* keywords hold structural bytes as any other (the raw record is
     * scanned for them); members derived after parsing are not in it */
    FIRES(f, "  k: ['event::drop']\n  condition: k\n", "{\"kind\":1,\"m\":\"x EVENT::drop y\"}");
    FIRES(f, "  k: ['{a: [1, 2]}']\n  condition: k\n", "{\"kind\":1,\"m\":\"{a: [1, 2]}\"}");
    QUIET(f, "  k: ['event::drop']\n  condition: k\n", "{\"kind\":1,\"event\":\":drop\"}");
    QUIET(f, "  k: ['\"x\":1']\n  condition: k\n", "{\"kind\":1,\"x\":1}");
    assert_int_equal(run_derived(f, RULE("  k: ['tenant::foreign']\n  condition: k\n"), "{\"kind\":1}", NULL,
                                 "aw.side", "tenant::foreign"), 1);
    /* a record with \\u escapes is scanned value by value, unescaped */
    FIRES(f, "  k: ['event::drop']\n  condition: k\n", "{\"kind\":1,\"a\":\"\\u00e9\",\"m\":[7,\"ev\\u0065nt::drop\"]}");
    FIRES(f, "  k: ['4688']\n  condition: k\n", "{\"kind\":1,\"a\":\"\\u00e9\",\"n\":4688}");
    /* an escaped backslash is not the start of \\u, nor does it hide one */
    FIRES(f, "  k: ['evil.exe']\n  condition: k\n", "{\"kind\":1,\"p\":\"C:\\\\users\\\\evil.exe\"}");
    FIRES(f, "  k: ['evil.exe']\n  condition: k\n", "{\"kind\":1,\"p\":\"x\\\\\\u0065vil.exe\"}");
    QUIET(f, "  k: ['evil.exe']\n  condition: k\n", "{\"kind\":1,\"p\":\"x\\\\u0065vil.exe\"}");
    assert_int_equal(run_derived(f, RULE("  k: ['tenant::foreign']\n  condition: k\n"), "{\"kind\":\"\\u0031\"}", NULL,
                                 "aw.side", "tenant::foreign"), 1);
    /* a keyword's literal found only in a member name is no match */
    QUIET(f, "  k: [statusz]\n  condition: k\n", "{\"kind\":1,\"statusz\":\"x\"}");
    /* a `contains` of exactly its literal is decided by the literal scan */
    FIRES(f, "  s: {p|contains: Abc}\n  condition: s\n", "{\"kind\":1,\"p\":[\"x\",\"zz aBC\"]}");
    QUIET(f, "  s: {p|contains: Abc}\n  condition: s\n", "{\"kind\":1,\"p\":[\"x\",\"a-bc\"],\"q\":\"abc\"}");
    QUIET(f, "  s: {p|contains|cased: Abc}\n  condition: s\n", "{\"kind\":1,\"p\":\"abc\"}");
    /* regular expressions: a run every match contains gates them */
    FIRES(f, "  s: {p|re: 'ab+cde'}\n  condition: s\n", "{\"kind\":1,\"p\":\"xabbbcdex\"}");
    FIRES(f, "  s: {p|re: 'x(foo|bar)yz'}\n  condition: s\n", "{\"kind\":1,\"p\":\"xbaryz\"}");
    FIRES(f, "  s: {p|re: 'a\\.b\\.c'}\n  condition: s\n", "{\"kind\":1,\"p\":\"a.b.c\"}");
    FIRES(f, "  s: {p|re: 'colou?r'}\n  condition: s\n", "{\"kind\":1,\"p\":\"color\"}");
    FIRES(f, "  s: {p|re: 'ab{2}cd'}\n  condition: s\n", "{\"kind\":1,\"p\":\"abbcd\"}");
    FIRES(f, "  s: {p|re: 'evil\\d+\\.exe$'}\n  condition: s\n", "{\"kind\":1,\"p\":\"evil42.exe\"}");
    FIRES(f, "  s: {p|re: '[a-z]+shell'}\n  condition: s\n", "{\"kind\":1,\"p\":\"powershell\"}");
    FIRES(f, "  s: {p|re: '(?i)POWERSHELL'}\n  condition: s\n", "{\"kind\":1,\"p\":\"powershell\"}");
    FIRES(f, "  s: {p|re|i: 'kelvin'}\n  condition: s\n", "{\"kind\":1,\"p\":\"\u212aelvin\"}");
    FIRES(f, "  s: {p|re: 'x{3}yz'}\n  condition: s\n", "{\"kind\":1,\"p\":\"xxxyz\"}");
    FIRES(f, "  s: {p|re: 'ab|cdef'}\n  condition: s\n", "{\"kind\":1,\"p\":\"ab\"}");
    FIRES(f, "  s: {p|re: 'a{b'}\n  condition: s\n", "{\"kind\":1,\"p\":\"a{b\"}");
    QUIET(f, "  s: {p|re: 'abcdef'}\n  condition: s\n", "{\"kind\":1,\"p\":\"abc\",\"q\":\"abcdef\"}");
    /* two-byte literals gate a field's values */
    FIRES(f, "  s: {p|contains: [\"\u0410\", '^^']}\n  condition: s\n", "{\"kind\":1,\"p\":\"p\\u0410ypal\"}");
    FIRES(f, "  s: {p|contains: [\"\u0410\", '^^']}\n  condition: s\n", "{\"kind\":1,\"p\":\"c^^md\"}");
    QUIET(f, "  s: {p|contains: [\"\u0410\", '^^']}\n  condition: s\n", "{\"kind\":1,\"p\":\"\u0430^\",\"q\":\"^^\"}");
    /* values with no literal run, or one too short, are always tried */
    FIRES(f, "  s: {p: ['*', 'x']}\n  condition: s\n", "{\"kind\":1,\"p\":\"\"}");
    FIRES(f, "  s: {p|contains: ['-d', '?']}\n  k: ['*']\n  condition: s and k\n", "{\"kind\":1,\"p\":\"a -d\"}");
    /* literals are looked for in their own field's values */
    QUIET(f, "  s: {p|contains: powershell}\n  condition: s\n", "{\"kind\":1,\"p\":\"cmd.exe\",\"q\":\"powershell\"}");
    FIRES(f, "  s: {p|contains: powershell, q: cmd.exe}\n  condition: s\n",
          "{\"kind\":1,\"q\":\"cmd.exe\",\"p\":[\"a\",\"powershell -c\"]}");
    FIRES(f, "  s: {p|contains: powershell}\n  t: {q|contains: powershell}\n  condition: s and not t\n",
          "{\"kind\":1,\"p\":\"POWERSHELL\",\"q\":\"cmd\"}");
    /* only two clauses of a rule are scanned for (the one it is reached
     * through, the most selective other): a third clause's literals are
     * not looked for, so its values are matched, not taken as found */
#define AB "  a: {p|endswith: '\\a.exe'}\n  b: {q|contains: verylongliteral}\n"
#define EV(r) "{\"kind\":1,\"p\":\"x\\\\a.exe\",\"q\":\"a verylongliteral\",\"r\":\"" r "\"}"
    QUIET(f, AB "  c: {r|contains: [abcd, efgh]}\n  condition: a and b and c\n", EV("zzz"));
    FIRES(f, AB "  c: {r|contains: [abcd, efgh]}\n  condition: a and b and c\n", EV("xEFGHx"));
    QUIET(f, AB "  c: {r|re: 'abc+defg'}\n  condition: a and b and c\n", EV("abdefg"));
    FIRES(f, AB "  c: {r|re: 'abc+defg'}\n  condition: a and b and c\n", EV("abccdefg"));
#undef AB
#undef EV
}

/* Rules that require a number (EventID: 27) are dispatched on it: an
 * event's number is looked up under its integer value as well as its
 * text, so every event a rule matches still reaches it. */
static void test_numeric_dispatch(void **state)
{
    fx *f = *state;
    const char *rules = "title: a\nlogsource: {product: test}\ndetection:\n  s: {EventID: 27}\n  condition: s\n"
                        "---\ntitle: b\nlogsource: {product: test}\ndetection:\n  s: {EventID: 28}\n  condition: s\n"
                        "---\ntitle: c\nlogsource: {product: test}\ndetection:\n  s: {EventID: '1e3'}\n  condition: s\n";
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":27}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":27.0}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":2.7e1}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":\"27\"}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":\"027\"}", NULL), 0);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":[5,28]}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":1e3}", NULL), 1);    /* text '1e3' */
    assert_int_equal(run(f, rules, "{\"kind\":1,\"EventID\":27.5}", NULL), 0);
}

/* Rules are indexed under several fields: those testing only eventName
 * or only userType are found through their own field's index. */
static void test_dispatch_fields(void **state)
{
    fx *f = *state;
    const char *rules =
        "title: a\nlogsource: {product: test}\ndetection:\n  s: {src: s3, name: DeleteBucket}\n  condition: s\n"
        "---\ntitle: b\nlogsource: {product: test}\ndetection:\n  s: {src: ec2, name: RunInstances}\n  condition: s\n"
        "---\ntitle: c\nlogsource: {product: test}\ndetection:\n  s: {name: [DeleteBucket, PutBucketAcl]}\n"
        "  t: {err: x}\n  condition: s and not t\n"
        "---\ntitle: d\nlogsource: {product: test}\ndetection:\n  s: {name: ConsoleLogin}\n  condition: s\n"
        "---\ntitle: e\nlogsource: {product: test}\ndetection:\n  s: {user: Root}\n  condition: s\n"
        "---\ntitle: f\nlogsource: {product: test}\ndetection:\n  s: {user: AssumedRole, role: Role}\n"
        "  condition: s\n";
    assert_int_equal(run(f, rules, "{\"kind\":1,\"src\":\"S3\",\"name\":\"deletebucket\"}", NULL), 2);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"src\":\"x\",\"name\":\"PutBucketAcl\"}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"name\":\"ConsoleLogin\",\"user\":\"Root\"}", NULL), 2);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"user\":[\"a\",\"AssumedRole\"],\"role\":\"Role\"}", NULL), 1);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"name\":\"DeleteBucket\",\"err\":\"x\"}", NULL), 0);
    /* up to AW_DISPATCH_FIELDS (8) indexes: six fields of two rules each
     * (a process_creation source of SigmaHQ has EventID sixth) */
    const char *six =
        "title: a1\nlogsource: {product: test}\ndetection:\n  s: {f1: [a, b, c]}\n  condition: s\n"
        "---\ntitle: a2\nlogsource: {product: test}\ndetection:\n  s: {f1: d}\n  condition: s\n"
        "---\ntitle: b1\nlogsource: {product: test}\ndetection:\n  s: {f2: [a, b]}\n  condition: s\n"
        "---\ntitle: b2\nlogsource: {product: test}\ndetection:\n  s: {f2: e}\n  condition: s\n"
        "---\ntitle: c1\nlogsource: {product: test}\ndetection:\n  s: {f3: [a, b]}\n  condition: s\n"
        "---\ntitle: c2\nlogsource: {product: test}\ndetection:\n  s: {f3: f}\n  condition: s\n"
        "---\ntitle: d1\nlogsource: {product: test}\ndetection:\n  s: {f4: a}\n  condition: s\n"
        "---\ntitle: d2\nlogsource: {product: test}\ndetection:\n  s: {f4: g}\n  condition: s\n"
        "---\ntitle: e1\nlogsource: {product: test}\ndetection:\n  s: {f5: a}\n  condition: s\n"
        "---\ntitle: e2\nlogsource: {product: test}\ndetection:\n  s: {f5: h}\n  condition: s\n"
        "---\ntitle: g1\nlogsource: {product: test}\ndetection:\n  s: {n: 27}\n  condition: s\n"
        "---\ntitle: g2\nlogsource: {product: test}\ndetection:\n  s: {n: 28, f1: z}\n  condition: s\n";
    assert_int_equal(run(f, six, "{\"kind\":1,\"n\":27}", NULL), 1);
    assert_int_equal(run(f, six, "{\"kind\":1,\"n\":28,\"f1\":\"Z\"}", NULL), 1);
    assert_int_equal(run(f, six, "{\"kind\":1,\"f5\":\"H\",\"f4\":\"a\",\"n\":27.0}", NULL), 3);
}

/* The matcher's counts for one event: dispatch and prefilter as in a
 * scan, or with the prefilter on for every event (`pf_always`). */
/* The counts of one matcher over events[0..n) in turn. */
static aw_matcher_counts counts_seq(fx *f, const char *rules, const char *const *events, size_t n, bool pf_always)
{
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "rule.yml", rules, strlen(rules), diag, f);
    aw_plan_opts po = {.prefilter_min_rules = 1};
    aw_plan *p = aw_plan_new(rs, f->map, pf_always ? &po : NULL, diag, f);
    aw_matcher *m = aw_matcher_new(p);
    aw_doc *d = aw_doc_new();
    aw_errbuf err;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(aw_doc_parse(d, events[i], strlen(events[i]), NULL, &err), AW_OK);
        aw_matcher_eval_raw(m, d, events[i], strlen(events[i]), NULL, NULL);
    }
    aw_matcher_counts c = {0, 0, 0, 0, 0, 0};
    aw_matcher_counts_add(m, &c);
    aw_doc_free(d);
    aw_matcher_free(m);
    aw_plan_free(p);
    aw_ruleset_free(rs);
    return c;
}

static aw_matcher_counts counts(fx *f, const char *rules, const char *event, bool pf_always)
{
    return counts_seq(f, rules, &event, 1, pf_always);
}

/* Rules considered for one event (dispatch and prefilter as in a scan). */
static uint64_t considered(fx *f, const char *rules, const char *event)
{
    return counts(f, rules, event, false).considered;
}

/* Rules evaluated (past the literal prefilter, on for every event). */
static uint64_t evaluated(fx *f, const char *rules, const char *event)
{
    return counts(f, rules, event, true).evaluated;
}

/* Two-byte literals gate a rule when both bytes are rare punctuation
 * (cmd.exe obfuscation's "^^") or one is non-ASCII; two common ASCII
 * bytes ("-d") would be found in most values and are not looked for. */
static void test_prefilter_short(void **state)
{
    fx *f = *state;
    const char *caret = RULE("  s: {p|contains: ['^^', 'xyz']}\n  condition: s\n");
    const char *dash = RULE("  s: {p|contains: ['-d', 'xyz']}\n  condition: s\n");
    assert_int_equal(evaluated(f, caret, "{\"kind\":1,\"p\":\"a^b^c\"}"), 0);
    assert_int_equal(evaluated(f, caret, "{\"kind\":1,\"p\":\"c^^md\"}"), 1);
    assert_int_equal(run(f, caret, "{\"kind\":1,\"p\":\"c^^md\"}", NULL), 1);
    assert_int_equal(run(f, caret, "{\"kind\":1,\"p\":\"a^b^c\"}", NULL), 0);
    assert_int_equal(evaluated(f, dash, "{\"kind\":1,\"p\":\"a b\"}"), 1);
    assert_int_equal(run(f, dash, "{\"kind\":1,\"p\":\"x -d y\"}", NULL), 1);
}

/* An OR of branches keeps each branch's needs: (a and b) or c needs
 * (a or c) and (b or c), so an event with a alone is not evaluated
 * (one clause, the best of each branch, "a or c", let it through). */
static void test_prefilter_or(void **state)
{
    fx *f = *state;
    const char *r = RULE("  s1: {p|contains: 'winxwinx', q|contains: 'qqqq'}\n  s2: {q|contains: 'zzzz'}\n"
                         "  condition: 1 of s*\n");
    assert_int_equal(evaluated(f, r, "{\"kind\":1,\"p\":\"winxwinx\",\"q\":\"x\"}"), 0);
    assert_int_equal(run(f, r, "{\"kind\":1,\"p\":\"winxwinx\",\"q\":\"x\"}", NULL), 0);
    assert_int_equal(run(f, r, "{\"kind\":1,\"p\":\"winxwinx\",\"q\":\"aqqqq\"}", NULL), 1);
    assert_int_equal(run(f, r, "{\"kind\":1,\"p\":\"x\",\"q\":\"zzzz\"}", NULL), 1);
    assert_int_equal(evaluated(f, r, "{\"kind\":1,\"p\":\"x\",\"q\":\"zzzz\"}"), 1);
}

/* With the prefilter off (few rules run on every event, as SigmaHQ's
 * CloudTrail rules leave one), a rule run on every event is still
 * skipped when a clause of its literals has none in the event: only its
 * fields are scanned (aw_psrc.lite_*); a literal not scanned then (a
 * keyword) counts as present. */
static void test_prefilter_lite(void **state)
{
    fx *f = *state;
    const char *r = RULE("  s: {arn|re: '.+:assumed-role/aws:.+'}\n  f: {src: ssm}\n  condition: s and not f\n");
    const char *yes = "{\"kind\":1,\"arn\":\"arn:aws:sts::1:assumed-role/aws:ec2/i\"}";
    const char *no = "{\"kind\":1,\"arn\":\"arn:aws:iam::1:user/x\"}";
    assert_int_equal(counts(f, r, no, false).evaluated, 0);
    assert_int_equal(counts(f, r, no, false).considered, 1);
    assert_int_equal(counts(f, r, yes, false).evaluated, 1);
    assert_int_equal(run(f, r, yes, NULL), 1);
    assert_int_equal(run(f, r, no, NULL), 0);
    /* found case-insensitively, then the regular expression decides */
    assert_int_equal(counts(f, r, "{\"kind\":1,\"arn\":\"a:Assumed-Role/AWS:b\"}", false).evaluated, 1);
    assert_int_equal(run(f, r, "{\"kind\":1,\"arn\":\"a:Assumed-Role/AWS:b\"}", NULL), 0);
    /* a keyword clause is not scanned with the prefilter off: present */
    const char *kw = RULE("  k: [mimikatzz]\n  s: {arn|re: '.+:assumed-role/aws:.+'}\n  condition: k and s\n");
    const char *both = "{\"kind\":1,\"arn\":\"arn:aws:sts::1:assumed-role/aws:x\",\"c\":\"mimikatzz\"}";
    assert_int_equal(counts(f, kw, both, false).evaluated, 1);
    assert_int_equal(run(f, kw, both, NULL), 1);
    assert_int_equal(counts(f, kw, "{\"kind\":1,\"arn\":\"u\",\"c\":\"mimikatzz\"}", false).evaluated, 0);
    /* one matcher, the literal found then absent: the second event's
     * scan starts from the source's base again */
    const char *seq[] = {yes, no, no, yes, no};
    aw_matcher_counts c = counts_seq(f, r, seq, 5, false);
    assert_int_equal(c.considered, 5);
    assert_int_equal(c.evaluated, 2);
}

/* A literal in a value's last, partial 64-byte block is found, whatever
 * the value's length: Vectorscan 5.4.9's AVX-512 scan misses it from
 * 68 bytes on (".exe" ending a 79-byte path, among six extensions; the
 * literals it misses are short, 4-5 bytes, start with a byte other
 * than a letter and differ in their second), so the prefilter tests
 * the library at start-up and scans with one that finds it
 * (prefilter.c). The rules are run with the prefilter on; the keyword
 * one also scans the raw record. */
static void test_prefilter_value_tail(void **state)
{
    fx *f = *state;
    const char *r = RULE("  s: {p|endswith: ['.com', '.dll', '.exe', '.jar', '.ocx', '.pyc']}\n  condition: s\n");
    char ev[400];
    for (int len = 4; len <= 300; len += len < 140 ? 1 : 7) {
        int n = snprintf(ev, sizeof ev, "{\"kind\":1,\"p\":\"");
        for (int i = 0; i < len - 4; i++)
            ev[n++] = 'a';
        snprintf(ev + n, sizeof ev - (size_t)n, ".EXE\"}");
        if (run(f, r, ev, NULL) != 1)
            fail_msg("'.EXE' ending a %d-byte value was not matched", len);
    }
    /* and a keyword, looked for in the raw record, near its end */
    const char *kw = RULE("  k: [-mimi, -seku, -kerb]\n  condition: k\n");
    for (int len = 0; len <= 260; len += len < 140 ? 1 : 7) {
        int n = snprintf(ev, sizeof ev, "{\"kind\":1,\"p\":\"");
        for (int i = 0; i < len; i++)
            ev[n++] = 'a';
        snprintf(ev + n, sizeof ev - (size_t)n, " -SEKU\"}");
        if (run(f, kw, ev, NULL) != 1)
            fail_msg("a keyword ending a %d-byte record was not matched", n + 8);
    }
}

/* A field only one rule requires is indexed too: that rule is not run
 * on events whose value differs (CloudTrail's `userAgent: TruffleHog`). */
static void test_dispatch_single(void **state)
{
    fx *f = *state;
    const char *rules =
        "title: a\nlogsource: {product: test}\ndetection:\n  s: {ua: TruffleHog}\n  condition: s\n"
        "---\ntitle: b\nlogsource: {product: test}\ndetection:\n  s: {src: lambda, name|startswith: Up, l|contains: x}\n"
        "  condition: s\n"
        "---\ntitle: c\nlogsource: {product: test}\ndetection:\n  s: {name: [A, B]}\n  condition: s\n"
        "---\ntitle: d\nlogsource: {product: test}\ndetection:\n  s: {name: C}\n  condition: s\n";
    assert_int_equal(considered(f, rules, "{\"kind\":1,\"ua\":\"curl\",\"src\":\"s3\",\"name\":\"Q\"}"), 0);
    assert_int_equal(considered(f, rules, "{\"kind\":1,\"ua\":\"trufflehog\",\"name\":\"b\"}"), 2);
    assert_int_equal(run(f, rules, "{\"kind\":1,\"ua\":\"trufflehog\",\"src\":\"Lambda\",\"name\":\"Upd\",\"l\":\"axb\"}",
                         NULL), 2);
}

/* Field values the prefilter remembers (pfcache.c) answer as a scan:
 * 6,000 events drawn from small vocabularies (values repeat, slots are
 * shared by different values), values at and past the longest kept in a
 * slot (120 bytes) and in a slot's buffer (1,024), a buffer reused for a
 * longer value, values holding more literals than a slot keeps, arrays;
 * the rules fired and evaluated per event are those of a matcher that
 * scans every value (AUPWATCH_PF_CACHE=0). */
typedef struct fired {
    char titles[512];
} fired;

static int note_hit(void *ud, const aw_hit *h)
{
    fired *x = ud;
    strncat(x->titles, aw_rule_title(h->rule), sizeof x->titles - strlen(x->titles) - 2);
    strcat(x->titles, ",");
    return 0;
}

static void test_prefilter_values_remembered(void **state)
{
    fx *f = *state;
    const char *rules =
        "title: r1\nlogsource: {product: test}\ndetection:\n  s: {p|contains: [alpha, beta, gamma]}\n  condition: s\n"
        "---\ntitle: r2\nlogsource: {product: test}\ndetection:\n  s: {p|contains: delta, q|endswith: omega}\n"
        "  condition: s\n"
        "---\ntitle: r3\nlogsource: {product: test}\ndetection:\n  s: {q|contains: [sigma, 'tau*psi']}\n"
        "  f: {p|contains: beta}\n  condition: s and not f\n"
        "---\ntitle: r4\nlogsource: {product: test}\ndetection:\n"
        "  s: {p|contains: [l01, l02, l03, l04, l05, l06, l07, l08, l09, l10, l11, l12, l13, l14, l15, l16, l17,\n"
        "                    l18, l19, l20]}\n"
        "  condition: s\n"
        "---\ntitle: r5\nlogsource: {product: test}\ndetection:\n  s: {p|contains: l16}\n  condition: s\n";
    static const char *const words[] = {"alpha", "beta", "gamma", "delta", "omega", "sigma", "tau", "psi",
                                        "x", "yy", "l01l02l03l04l05l06l07l08l09l10l11l12l13l14l15l16l17l18l19l20",
                                        "ALPHA"};
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "rule.yml", rules, strlen(rules), diag, f);
    aw_plan_opts po = {.prefilter_min_rules = 1};
    aw_plan *p = aw_plan_new(rs, f->map, &po, diag, f);
    aw_matcher *cached = aw_matcher_new(p);
    setenv("AUPWATCH_PF_CACHE", "0", 1);
    aw_matcher *plain = aw_matcher_new(p);
    unsetenv("AUPWATCH_PF_CACHE");
    aw_doc *d = aw_doc_new();
    uint64_t rng = 12345;
    char ev[3400], val[2][1100];
    for (int i = 0; i < 6000; i++) {
        for (int v = 0; v < 2; v++) {
            size_t n = 0;
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            int nw = (int)(rng >> 60) % 4 + 1;
            for (int w = 0; w < nw; w++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                n += (size_t)snprintf(val[v] + n, sizeof val[v] - n, "%s%s", w ? "-" : "",
                                      words[(rng >> 40) % (sizeof words / sizeof *words)]);
            }
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            static const size_t longs[] = {118, 200, 1020};
            size_t to = n;
            if ((rng >> 58) == 0)       /* now and then a long one: 118-125, 200-207 or 1,020-1,027 bytes */
                to = longs[(rng >> 20) % 3] + (rng >> 30) % 8;
            else if ((rng >> 56) < 16)  /* or one of any length to 1,030 (slots' buffers reused, grown) */
                to = 118 + (rng >> 30) % 913;
            if (to > n)
                for (; n < to; n++)
                    val[v][n] = (char)('a' + n % 3);
            else if ((rng >> 50) % 7 == 0)             /* or a distinct one */
                n += (size_t)snprintf(val[v] + n, sizeof val[v] - n, "%u", (unsigned)(rng >> 20) % 5000);
            val[v][n] = 0;
        }
        if (i % 5 == 0)
            snprintf(ev, sizeof ev, "{\"kind\":1,\"p\":[\"%s\",\"%s\"],\"q\":\"%s\"}", val[0], val[1], val[0]);
        else
            snprintf(ev, sizeof ev, "{\"kind\":1,\"p\":\"%s\",\"q\":\"%s\"}", val[0], val[1]);
        fired a = {""}, b = {""};
        aw_errbuf err;
        assert_int_equal(aw_doc_parse(d, ev, strlen(ev), NULL, &err), AW_OK);
        aw_matcher_eval_raw(cached, d, ev, strlen(ev), note_hit, &a);
        aw_matcher_eval_raw(plain, d, ev, strlen(ev), note_hit, &b);
        if (strcmp(a.titles, b.titles) != 0)
            print_error("event %d %s: remembered %s, scanned %s\n", i, ev, a.titles, b.titles);
        assert_string_equal(a.titles, b.titles);
    }
    aw_matcher_counts ca = {0, 0, 0, 0, 0, 0}, cb = {0, 0, 0, 0, 0, 0};
    aw_matcher_counts_add(cached, &ca);
    aw_matcher_counts_add(plain, &cb);
    assert_int_equal(ca.evaluated, cb.evaluated);
    assert_true(ca.value_hits > ca.value_lookups / 4);      /* the table answered many */
    assert_true(ca.value_hits < ca.value_lookups);          /* and scanned the rest */
    assert_int_equal(cb.value_lookups, 0);
    aw_doc_free(d);
    aw_matcher_free(cached);
    aw_matcher_free(plain);
    aw_plan_free(p);
    aw_ruleset_free(rs);
}

/* Field groups (fgroup.c): the members of one object read in one walk
 * give the same answers as the path walk of each field, on objects with
 * duplicate names, dropped members, arrays, empty arrays, nulls, nested
 * objects, dotted names, and the object absent, an array or a scalar,
 * with a field's next path (alt.a) where the object holds none. */
static void test_field_groups(void **state)
{
    fx *f = *state;
    static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    static const char *const vals[] = {"\"x\"", "\"y\"", "[\"z\",\"x\"]", "[]", "null", "{\"k\":\"x\"}", "[[\"x\"]]", "7"};
    char rules[4096];
    size_t rn = 0;
    for (int i = 0; i < 8; i++) {
        const char *fld = i < 7 ? names[i + 1] : "A";     /* A not read first: by the walk */
        rn += (size_t)snprintf(rules + rn, sizeof rules - rn,
                               "%stitle: eq_%s\nlogsource: {product: grp}\ndetection:\n  s: {%s: x}\n  condition: s\n"
                               "---\ntitle: null_%s\nlogsource: {product: grp}\ndetection:\n  s: {%s: null}\n"
                               "  condition: s\n---\ntitle: any_%s\nlogsource: {product: grp}\ndetection:\n"
                               "  s: {%s|exists: true}\n  condition: s\n",
                               i ? "---\n" : "", fld, fld, fld, fld, fld, fld);
    }
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "rule.yml", rules, rn, diag, f);
    assert_false(aw_ruleset_rejected(rs));
    aw_plan_opts po = {.no_dispatch = true};
    aw_plan *p = aw_plan_new(rs, f->map, &po, diag, f);
    aw_matcher *grouped = aw_matcher_new(p);
    setenv("AUPWATCH_FIELD_GROUPS", "0", 1);
    aw_matcher *plain = aw_matcher_new(p);
    unsetenv("AUPWATCH_FIELD_GROUPS");
    aw_doc *d = aw_doc_new();
    uint64_t rng = 777;
#define NEXT() (rng = rng * 6364136223846793005ull + 1442695040888963407ull, rng >> 33)
    char ev[2048];
    for (int i = 0; i < 4000; i++) {
        char obj[1024];
        size_t n = 0;
        int nm = (int)(NEXT() % 12);
        obj[n++] = '{';
        for (int k = 0; k < nm; k++) {
            uint64_t r = NEXT();
            const char *name = names[r % 8];
            if (r % 23 == 0)
                name = "b.c";                       /* a dotted name */
            n += (size_t)snprintf(obj + n, sizeof obj - n, "%s\"%s\":%s", k ? "," : "", name, vals[(r >> 8) % 8]);
        }
        obj[n++] = '}';
        obj[n] = 0;
        uint64_t shape = NEXT() % 16;
        const char *alt = NEXT() % 3 == 0 ? ",\"alt\":{\"a\":\"x\"}" : "";
        if (shape == 0)
            snprintf(ev, sizeof ev, "{\"grp\":1%s}", alt);                        /* no object */
        else if (shape == 1)
            snprintf(ev, sizeof ev, "{\"grp\":1,\"o\":[%s,{\"a\":\"x\"}]%s}", obj, alt);   /* an array */
        else if (shape == 2)
            snprintf(ev, sizeof ev, "{\"grp\":1,\"o\":\"x\"%s}", alt);               /* a scalar */
        else if (shape == 3)
            snprintf(ev, sizeof ev, "{\"grp\":1,\"o.a\":\"x\",\"o\":%s%s}", obj, alt);   /* a dotted root */
        else
            snprintf(ev, sizeof ev, "{\"grp\":1,\"o\":%s%s}", obj, alt);
        aw_errbuf err;
        assert_int_equal(aw_doc_parse(d, ev, strlen(ev), NULL, &err), AW_OK);
        if (NEXT() % 5 == 0)
            aw_json_drop(d, NEXT() % 2 ? "o.a" : "o.b", 3);
        fired a = {""}, b = {""};
        aw_matcher_eval(grouped, d, note_hit, &a);
        aw_matcher_eval(plain, d, note_hit, &b);
        if (strcmp(a.titles, b.titles) != 0)
            print_error("event %d %s: grouped %s, by path %s\n", i, ev, a.titles, b.titles);
        assert_string_equal(a.titles, b.titles);
    }
#undef NEXT
    aw_matcher_counts ca = {0}, cb = {0};
    aw_matcher_counts_add(grouped, &ca);
    aw_matcher_counts_add(plain, &cb);
    assert_true(ca.group_walks > 1000);     /* the walks ran */
    assert_int_equal(cb.group_walks, 0);
    aw_doc_free(d);
    aw_matcher_free(grouped);
    aw_matcher_free(plain);
    aw_plan_free(p);
    aw_ruleset_free(rs);
}

/* A field read through a "*" path (`u.*.X`, as Windows' UserData) is
 * not walked where the path before the "*" plainly reaches no object
 * (match.c, compiled()): on 3,000 events whose `u` is absent, a scalar,
 * null, an object, an array (whose elements the "*" steps into), empty,
 * dropped, with a dotted member or beside a dotted root member, the rule
 * fires exactly where the path walk finds "v". */
typedef struct vfound {
    int any, v;
} vfound;

static int note_v(const aw_doc *d, const aw_jnode *n, void *ud)
{
    vfound *x = ud;
    x->any = 1;
    x->v |= n->type == AW_JSTR && n->vlen == 1 && (n->val[0] | 0x20) == 'v';
    (void)d;
    return 0;
}

static void test_star_path_gate(void **state)
{
    fx *f = *state;
    const char *rules = "title: x\nlogsource: {product: star}\ndetection:\n  s: {X: v}\n  condition: s\n";
    static const char *const us[] = {
        "", ",\"u\":\"v\"", ",\"u\":null", ",\"u\":{\"k\":{\"X\":\"v\"}}", ",\"u\":[{\"X\":\"v\"}]",
        ",\"u\":{}", ",\"u\":{\"k\":{\"X\":\"w\"},\"j\":{\"X\":\"V\"}}", ",\"u.k\":{\"X\":\"v\"}",
        ",\"u\":{\"k\":[{\"X\":\"v\"}]}", ",\"u\":{\"k\":\"X\"}", ",\"u\":[[{\"X\":\"v\"}]]",
        ",\"u\":[{\"k\":{\"X\":\"v\"}}]", ",\"u\":{\"a.b\":{\"X\":\"v\"}}",
    };
    static const char *const os[] = {"", ",\"o\":{\"X\":\"w\"}", ",\"o\":{\"Y\":\"v\"}", ",\"o\":\"v\""};
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "rule.yml", rules, strlen(rules), diag, f);
    assert_false(aw_ruleset_rejected(rs));
    aw_plan *p = aw_plan_new(rs, f->map, NULL, diag, f);
    aw_matcher *m = aw_matcher_new(p);
    aw_doc *d = aw_doc_new();
    uint64_t rng = 99;
    int fired_n = 0;
    for (int i = 0; i < 3000; i++) {
        char ev[256];
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t ui = (rng >> 33) % (sizeof us / sizeof *us), oi = (rng >> 45) % (sizeof os / sizeof *os);
        snprintf(ev, sizeof ev, "{\"star\":1%s%s}", us[ui], os[oi]);
        aw_errbuf err;
        assert_int_equal(aw_doc_parse(d, ev, strlen(ev), NULL, &err), AW_OK);
        if ((rng >> 20) % 4 == 0)
            aw_json_drop(d, "u", 1);
        vfound o = {0, 0}, u = {0, 0};
        aw_mapping_path_each(d, "o.X", 3, note_v, &o);
        aw_mapping_path_each(d, "u.*.X", 5, note_v, &u);
        int want = o.any ? o.v : u.v, hits = 0;
        aw_matcher_eval(m, d, count_hit, &hits);
        if (hits != want)
            print_error("event %d %s: %d hits, the walk says %d\n", i, ev, hits, want);
        assert_int_equal(hits, want);
        fired_n += hits;
    }
    assert_true(fired_n > 300 && fired_n < 2700);
    aw_doc_free(d);
    aw_matcher_free(m);
    aw_plan_free(p);
    aw_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maps_lists),
        cmocka_unit_test(test_prefilter_values_remembered),
        cmocka_unit_test(test_field_groups),
        cmocka_unit_test(test_star_path_gate),
        cmocka_unit_test(test_wildcards_escapes),
        cmocka_unit_test(test_null_exists_neq),
        cmocka_unit_test(test_nested_arrays_objects),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_modifiers_runtime),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_yaml_typing),
        cmocka_unit_test(test_routing_filters_placeholders),
        cmocka_unit_test(test_correlation_only),
        cmocka_unit_test(test_prefilter_exact),
        cmocka_unit_test(test_prefilter_short),
        cmocka_unit_test(test_prefilter_or),
        cmocka_unit_test(test_prefilter_lite),
        cmocka_unit_test(test_prefilter_value_tail),
        cmocka_unit_test(test_numeric_dispatch),
        cmocka_unit_test(test_dispatch_fields),
        cmocka_unit_test(test_dispatch_single),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
