/* test_load.c - mapping file loading: the format's strictness (unknown
 * keys, duplicate keys, wrong types, bad regexes, malformed paths are
 * errors with file:line), what a rejected file leaves behind (nothing),
 * directories, and the built-in mappings. */
#include "mtest.h"

static const char *GOOD =
    "sources:\n"
    "  - name: demo\n"
    "    logsource: {product: demo, service: things}\n"
    "    when: {kind: thing}\n"
    "    fields: {Who: [user.name, user.id]}\n"
    "    time: ts\n"
    "    tenant: {path: owner, regex: '^acct-(\\d+)$'}\n";

/* Load text; expect failure with one diagnostic at `line` of `kind`. */
static void expect_error(const char *text, unsigned long line, const char *kind,
                         const char *needle)
{
    diags dg = {0};
    aw_mapping *m = aw_mapping_new();
    const char *path = tmp_write(text);
    aw_status rc = aw_mapping_load(m, path, diag_rec, &dg);
    assert_int_equal(rc, AW_EPARSE);
    assert_true(dg.n >= 1);
    assert_string_equal(dg.file[0], path);
    assert_int_equal(dg.line[0], line);
    if (strcmp(dg.kind[0], kind) != 0)
        fail_msg("%s at line %lu: '%s' (want %s)", dg.kind[0], dg.line[0], dg.msg[0], kind);
    if (needle && !strstr(dg.msg[0], needle))
        fail_msg("message '%s' lacks '%s'", dg.msg[0], needle);
    assert_int_equal(aw_mapping_count(m), 0);       /* file rejected whole */
    unlink(path);
    aw_mapping_free(m);
}

static void t_good(void **st)
{
    diags dg = {0};
    aw_mapping *m = aw_mapping_new();
    const char *path = tmp_write(GOOD);
    (void)st;
    assert_int_equal(aw_mapping_load(m, path, diag_rec, &dg), AW_OK);
    assert_int_equal(dg.n, 0);
    assert_int_equal(aw_mapping_count(m), 1);
    const aw_source *s = aw_mapping_source(m, 0);
    assert_string_equal(aw_source_name(s), "demo");
    assert_string_equal(aw_source_product(s), "demo");
    assert_string_equal(aw_source_service(s), "things");
    assert_null(aw_source_category(s));
    assert_int_equal(aw_source_index(s), 0);
    assert_null(aw_mapping_source(m, 1));
    unlink(path);
    aw_mapping_free(m);
}

static void t_unknown_key(void **st)
{
    (void)st;
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    feilds: {A: b}\n",
                 5, "mapping-unknown-key", "feilds");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x, os: y}\n"
                 "    when: {k: v}\n",
                 3, "mapping-unknown-key", "os");
    expect_error("version: 2\nsources: []\n", 1, "mapping-unknown-key", "version");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: {matches: v}}\n",
                 4, "mapping-unknown-key", "matches");
}

static void t_duplicate_key(void **st)
{
    (void)st;
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    fields:\n"
                 "      A: b\n"
                 "      A: c\n",
                 7, "mapping-duplicate-key", "'A'");
}

static void t_bad_regex(void **st)
{
    (void)st;
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    tenant: {path: p, regex: '^/sub/([^/]+'}\n",
                 5, "mapping-regex", "offset");
    /* the capture group is the tenant: exactly one */
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    tenant:\n"
                 "      - id\n"
                 "      - {path: p, regex: '^sub/[^/]+'}\n",
                 7, "mapping-regex", "capture group");
}

static void t_wrong_type(void **st)
{
    (void)st;
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: x\n"
                 "    when: {k: v}\n",
                 3, "mapping-type", "logsource");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    fields: [a, b]\n",
                 5, "mapping-type", "fields");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: {a: 1}}\n",
                 4, "mapping-unknown-key", NULL);
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: k\n",
                 4, "mapping-type", "when");
    expect_error("sources:\n"
                 "  - name: [a]\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n",
                 2, "mapping-type", "name");
    expect_error("sources: {a: 1}\n", 1, "mapping-type", "sources");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: [[1]]}\n",
                 4, "mapping-type", "scalars");
}

static void t_missing_and_values(void **st)
{
    (void)st;
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n",
                 2, "mapping-value", "when");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    when: {k: v}\n",
                 2, "mapping-value", "logsource");
    expect_error("sources:\n"
                 "  - logsource: {product: x}\n"
                 "    when: {k: v}\n",
                 2, "mapping-value", "name");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "  - name: a\n"
                 "    logsource: {product: y}\n"
                 "    when: {k: v}\n",
                 5, "mapping-value", "already used");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    time: a..b\n",
                 5, "mapping-value", "malformed");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    drop: [a.*]\n",
                 5, "mapping-value", "not allowed");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    fields: {a.*: b}\n",
                 5, "mapping-value", "must end in '.*'");
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    logsource: {product: x}\n"
                 "    when: {k: v}\n"
                 "    prefixes: [Event.Data]\n",
                 5, "mapping-value", "must end in '.'");
    expect_error("", 1, "mapping-value", "empty");
    expect_error("sources:\n  - name: a\n    logsource: {product: x\n", 4, "mapping-syntax", NULL);
    expect_error("description: d\n", 1, "mapping-value", "needs 'sources'");
    expect_error("sources: []\n---\nsources: []\n", 3, "mapping-syntax", "one YAML document");
#define SRC_X "sources:\n  - name: a\n    logsource: {product: x}\n"
    expect_error(SRC_X "    when: {}\n", 4, "mapping-value", "empty condition");
    expect_error(SRC_X "    when: []\n", 4, "mapping-value", "empty list");
    expect_error(SRC_X "    when: {k: {equals: a, contains: b}}\n", 4, "mapping-value", "exactly one operator");
    expect_error(SRC_X "    when: {exists: []}\n", 4, "mapping-value", "empty list");
    expect_error(SRC_X "    when: {k: []}\n", 4, "mapping-value", "empty list of values");
    expect_error(SRC_X "    when: {exists: ''}\n", 4, "mapping-value", "empty path");
    expect_error(SRC_X "    when: {exists: [a.b*]}\n", 4, "mapping-value", "whole path segment");
    expect_error(SRC_X "    when: {k: v}\n    tenant: []\n", 5, "mapping-value", "tenant: empty list");
    expect_error(SRC_X "    when: {k: v}\n    tenant: [[a]]\n", 5, "mapping-type", "tenant entries");
    expect_error(SRC_X "    when: {k: v}\n    tenant: [{regex: 'x(y)'}]\n", 5, "mapping-value", "'path' is required");
#undef SRC_X
    expect_error("sources:\n  - name: a\n    logsource: {product: ''}\n    when: {k: v}\n", 3, "mapping-value",
                 "is empty");
    expect_error("sources:\n  - name: a\n    logsource: {}\n    when: {k: v}\n", 3, "mapping-value",
                 "product, category or service");
}

/* Errors in one file do not stop the next one; the bad file adds no
 * source, the good one does, and the status says something failed. */
static void t_directory(void **st)
{
    char dir[] = "/tmp/aw_mtest_dirXXXXXX", p[128];
    diags dg = {0};
    aw_mapping *m = aw_mapping_new();
    FILE *f;
    (void)st;
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/a.yml", dir);
    f = fopen(p, "w");
    fputs(GOOD, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/b.yaml", dir);
    f = fopen(p, "w");
    fputs("sources:\n  - name: b\n    logsource: {product: x}\n    when: {k: v}\n    bogus: 1\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/c.txt", dir);
    f = fopen(p, "w");
    fputs("not yaml: [", f);
    fclose(f);
    assert_int_equal(aw_mapping_load(m, dir, diag_rec, &dg), AW_EPARSE);
    assert_int_equal(dg.n, 1);
    assert_non_null(strstr(dg.file[0], "/b.yaml"));
    assert_int_equal(dg.line[0], 5);
    assert_int_equal(aw_mapping_count(m), 1);
    /* loading the same source name again is an error */
    snprintf(p, sizeof p, "%s/a.yml", dir);
    dg.n = 0;
    assert_int_equal(aw_mapping_load(m, p, diag_rec, &dg), AW_EPARSE);
    assert_non_null(strstr(dg.msg[0], "already used"));
    assert_int_equal(aw_mapping_count(m), 1);
    /* a missing path is an I/O error */
    dg.n = 0;
    assert_int_equal(aw_mapping_load(m, "/nonexistent/aw.yml", diag_rec, &dg), AW_EIO);
    assert_string_equal(dg.kind[0], "mapping-io");
    for (const char *n = "a.yml\0b.yaml\0c.txt\0"; *n; n += strlen(n) + 1) {
        snprintf(p, sizeof p, "%s/%s", dir, n);
        unlink(p);
    }
    rmdir(dir);
    aw_mapping_free(m);
}

static void t_builtin(void **st)
{
    aw_mapping *m = builtin();
    const aw_source *out[4];
    (void)st;
    assert_true(aw_mapping_count(m) > 80);
    /* each shipped family is there */
    assert_int_equal(aw_mapping_route(m, "aws", NULL, "cloudtrail", out, 4), 1);
    assert_int_equal(aw_mapping_route(m, "gcp", NULL, "gcp.audit", out, 4), 1);
    assert_int_equal(aw_mapping_route(m, "azure", NULL, "activitylogs", out, 4), 1);
    assert_int_equal(aw_mapping_route(m, "azure", NULL, "storage", out, 4), 1);
    assert_int_equal(aw_mapping_route(m, "aws", NULL, "bedrock", out, 4), 1);
    assert_true(aw_mapping_route(m, "windows", "process_creation", NULL, out, 4) == 2);
    /* loading twice clashes on names: built-ins are meant to load once */
    diags dg = {0};
    assert_int_equal(aw_mapping_load_builtin(m, diag_rec, &dg), AW_EPARSE);
    assert_true(dg.n > 0);
    assert_true(strncmp(dg.file[0], "mappings/", 9) == 0);
    assert_non_null(strstr(dg.file[0], ".yml"));
    aw_mapping_free(m);
    aw_mapping_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_good),
        cmocka_unit_test(t_unknown_key),
        cmocka_unit_test(t_duplicate_key),
        cmocka_unit_test(t_bad_regex),
        cmocka_unit_test(t_wrong_type),
        cmocka_unit_test(t_missing_and_values),
        cmocka_unit_test(t_directory),
        cmocka_unit_test(t_builtin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
