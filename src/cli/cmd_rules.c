/* cmd_rules.c - `aupwatch rules check` and `aupwatch rules test`.
 *
 * check: compile rules, report each one that cannot run as
 *        file:line: reason, then a summary by reason.
 * test:  SigmaHQ-style regression tests. A rule's regression_tests_path
 *        names an info.yml (relative to the rule repository's root,
 *        found by walking up from the rule file); each of its tests
 *        names sample events (the .json twin of the .evtx) that must
 *        make the rule fire match_count times (at least once if absent). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/scanner.h"
#include "util/ytree.h"

static const char rules_usage[] =
    "usage: aupwatch rules check [options] PATH...\n"
    "       aupwatch rules test  [options] PATH...\n"
    "\n"
    "check  compile every rule under PATH; print each rule that cannot run\n"
    "       as file:line: reason [kind], then counts by reason.\n"
    "       Exit 1 if any rule was rejected.\n"
    "test   run the SigmaHQ regression tests the rules point to\n"
    "       (regression_tests_path -> info.yml -> sample events) and print\n"
    "       'N passed, N failed'. Exit 1 if any test failed.\n"
    "\n"
    "options:\n"
    "  -m, --mapping PATH       extra field-mapping file or directory\n"
    "      --placeholders FILE  values for |expand placeholders\n"
    "      --summary-json FILE  (check) write counts by reason as JSON\n"
    "  -v, --verbose            (test) print every test, not only failures\n"
    "  -q, --quiet              (check) only the summary\n";

typedef struct rules_args {
    const char *paths[256];
    size_t npaths;
    const char *maps[64];
    size_t nmaps;
    const char *placeholders, *summary_json;
    bool quiet, verbose;
} rules_args;

static int parse_args(int argc, char **argv, rules_args *ra)
{
    const char *v;
    memset(ra, 0, sizeof *ra);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(rules_usage, stdout);
            exit(0);
        } else if (aw_opt(argc, argv, &i, "--mapping", &v) || aw_opt(argc, argv, &i, "-m", &v)) {
            if (ra->nmaps < 64)
                ra->maps[ra->nmaps++] = v;
        } else if (aw_opt(argc, argv, &i, "--placeholders", &v)) {
            ra->placeholders = v;
        } else if (aw_opt(argc, argv, &i, "--summary-json", &v)) {
            ra->summary_json = v;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            ra->quiet = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            ra->verbose = true;
        } else if (a[0] == '-') {
            fprintf(stderr, "aupwatch rules: unknown option '%s'\n", a);
            return 2;
        } else if (ra->npaths < 256) {
            ra->paths[ra->npaths++] = a;
        }
    }
    if (!ra->npaths) {
        fprintf(stderr, "aupwatch rules: no PATH given\n%s", rules_usage);
        return 2;
    }
    return 0;
}

static int load(const rules_args *ra, aw_engine *e, aw_diags *rd, aw_diags *md, bool scanning)
{
    aw_engine_opts eo = {0};
    eo.no_prefilter = !scanning;
    eo.rules = ra->paths, eo.nrules = ra->npaths;
    eo.mappings = ra->maps, eo.nmappings = ra->nmaps;
    eo.placeholders = ra->placeholders;
    if (aw_engine_load(e, &eo, rd, md) != AW_OK) {
        fprintf(stderr, "aupwatch rules: cannot load rules or mappings\n");
        return 2;
    }
    return 0;
}

static int cmd_check(const rules_args *ra)
{
    aw_diags rd = {.quiet = ra->quiet}, md = {0};
    aw_engine e;
    int rc = load(ra, &e, &rd, &md, false);
    if (rc)
        return rc;
    size_t loaded = aw_ruleset_count(e.rs), rejected = aw_ruleset_rejected(e.rs);
    unsigned long uncovered = aw_diags_get(&rd, "no-logsource-mapping");
    printf("%zu documents compiled, %zu rejected, %zu rules can fire, %lu without a mapping for their log source\n",
           loaded, rejected, aw_plan_rule_count(e.plan), uncovered);
    aw_diags_print_summary(&rd, stdout, "problems by reason");
    if (ra->summary_json) {
        FILE *f = fopen(ra->summary_json, "w");
        if (!f) {
            perror(ra->summary_json);
            rc = 2;
        } else {
            fprintf(f, "{\"compiled\":%zu,\"rejected\":%zu,\"active\":%zu,\"by_reason\":{", loaded, rejected,
                    aw_plan_rule_count(e.plan));
            for (size_t i = 0; i < rd.n; i++)
                fprintf(f, "%s\"%s\":%lu", i ? "," : "", rd.k[i].kind, rd.k[i].n);
            fputs("}}\n", f);
            fclose(f);
        }
    }
    if (!rc && rejected)
        rc = 1;
    aw_engine_free(&e);
    aw_diags_free(&rd);
    aw_diags_free(&md);
    return rc;
}

/* ---- test ------------------------------------------------------------------------ */

typedef struct counter {
    const aw_rule *target;
    unsigned long n;
} counter;

static void count_hit(void *ud, const aw_alert *a, const aw_hit *h)
{
    counter *c = ud;
    (void)a;
    if (h->rule == c->target)
        c->n++;
}

/* Walk up from the rule's directory to the folder `rel` is relative to. */
static bool find_root(const char *rule_path, const char *rel, char *out, size_t cap)
{
    char dir[PATH_MAX];
    if (!realpath(rule_path, dir))
        return false;
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return false;
        *slash = 0;
        struct stat st;
        int n = snprintf(out, cap, "%s/%s", dir[0] ? dir : "", rel);
        if (n > 0 && (size_t)n < cap && stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            snprintf(out, cap, "%s", dir[0] ? dir : "/");
            return true;
        }
        if (!dir[0])
            return false;
    }
}

static int grab(void *ud, aw_ynode *doc, unsigned idx)
{
    if (idx == 0)
        *(aw_ynode **)ud = doc;
    return 0;
}

static char *slurp_small(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    if (!buf)
        abort();
    *n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* Runs every test of one rule; returns failures, adds to *passed and
 * *skipped (a rule whose test data is not present). */
static unsigned long test_rule(const aw_engine *e, const aw_rule *r, const rules_args *ra, unsigned long *passed,
                               unsigned long *skipped)
{
    const char *rel = aw_rule_attr(r, "regression_tests_path");
    char root[PATH_MAX], info[PATH_MAX * 2];
    if (!find_root(aw_rule_path(r), rel, root, sizeof root)) {
        if (ra->verbose)
            printf("skip %s: regression data '%s' is not present above the rule file\n", aw_rule_path(r), rel);
        (*skipped)++;
        return 0;
    }
    snprintf(info, sizeof info, "%s/%s", root, rel);
    size_t len;
    char *buf = slurp_small(info, &len);
    aw_arena a;
    aw_arena_init(&a);
    aw_ynode *doc = NULL;
    unsigned eline;
    aw_errbuf err;
    unsigned long failed = 0;
    if (!buf || aw_ytree_parse(&a, buf, len, grab, &doc, &eline, &err) != AW_OK || !doc) {
        printf("FAIL %s: cannot read %s\n", aw_rule_path(r), info);
        free(buf);
        aw_arena_reset(&a);
        return 1;
    }
    aw_ynode *tests = aw_ymap_get(doc, "regression_tests_info");
    if (!tests || tests->type != AW_Y_SEQ || tests->n == 0) {
        printf("FAIL %s: %s lists no regression_tests_info\n", aw_rule_path(r), info);
        failed = 1;
    }
    for (size_t i = 0; tests && tests->type == AW_Y_SEQ && i < tests->n; i++) {
        aw_ynode *t = tests->kids[i];
        aw_ynode *p = aw_ymap_get(t, "path"), *mc = aw_ymap_get(t, "match_count"), *nm = aw_ymap_get(t, "name");
        char *end = NULL;
        long want = mc && mc->type == AW_Y_SCALAR ? strtol(mc->text, &end, 10) : 1;
        if (mc && (mc->type != AW_Y_SCALAR || *end || want < 1)) {
            printf("FAIL %s: %s: match_count must be a positive integer\n", aw_rule_path(r), info);
            failed++;
            continue;
        }
        char ev[PATH_MAX * 2];
        if (!p || p->type != AW_Y_SCALAR) {
            printf("FAIL %s: test %zu of %s has no path\n", aw_rule_path(r), i + 1, info);
            failed++;
            continue;
        }
        snprintf(ev, sizeof ev, "%s/%s", root, p->text);
        size_t el = strlen(ev);
        if (el > 5 && strcmp(ev + el - 5, ".evtx") == 0)
            strcpy(ev + el - 5, ".json");
        counter c = {r, 0};
        aw_scanner_opts so = {0};
        aw_diags id = {0};
        so.input_diags = &id;
        aw_scanner *s = aw_scanner_new(e, &so, count_hit, &c);
        aw_status st = aw_scanner_path(s, ev);
        aw_scanner_free(s);
        aw_diags_free(&id);
        if (st != AW_OK || (long)c.n < want) {
            printf("FAIL %s [%s]: expected %ld match%s, got %lu on %s\n", aw_rule_path(r),
                   nm ? nm->text : "test", want, want == 1 ? "" : "es", c.n, ev);
            failed++;
        } else {
            (*passed)++;
            if (ra->verbose)
                printf("ok   %s [%s]: %lu match%s\n", aw_rule_path(r), nm ? nm->text : "test", c.n,
                       c.n == 1 ? "" : "es");
        }
    }
    free(buf);
    aw_arena_reset(&a);
    return failed;
}

static int cmd_test(const rules_args *ra)
{
    aw_diags rd = {.quiet = true}, md = {0};
    aw_engine e;
    int rc = load(ra, &e, &rd, &md, true);
    if (rc)
        return rc;
    unsigned long passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < aw_ruleset_count(e.rs); i++) {
        const aw_rule *r = aw_ruleset_rule(e.rs, i);
        if (!aw_rule_attr(r, "regression_tests_path"))
            continue;
        if (!aw_plan_has_rule(e.plan, r)) {
            printf("FAIL %s: rule cannot run (no mapping for its log source)\n", aw_rule_path(r));
            failed++;
            continue;
        }
        failed += test_rule(&e, r, ra, &passed, &skipped);
    }
    printf("%lu passed, %lu failed, %lu skipped\n", passed, failed, skipped);
    aw_engine_free(&e);
    aw_diags_free(&rd);
    aw_diags_free(&md);
    return failed ? 1 : 0;
}

int aw_cmd_rules(int argc, char **argv)
{
    rules_args ra;
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(rules_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int rc = parse_args(argc, argv, &ra);
    if (rc)
        return rc;
    if (!strcmp(argv[1], "check"))
        return cmd_check(&ra);
    if (!strcmp(argv[1], "test"))
        return cmd_test(&ra);
    fprintf(stderr, "aupwatch rules: unknown subcommand '%s' (check, test)\n", argv[1]);
    return 2;
}
