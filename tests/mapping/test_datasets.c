/* test_datasets.c - the shipped mappings against real data in ../shared:
 *
 *  1. every event of the saved cloud datasets classifies to a source of
 *     the expected family and yields a time and a tenant. The real
 *     captures (Stratus detonations, OTRF, GCP reference examples,
 *     Panther's scenario) must do so without exception. Panther's rule
 *     unit-test events are hand-trimmed to the fields one Python rule
 *     reads, some with Panther's lower-cased keys; the ones that carry no
 *     provider discriminator at all are listed below by line, and the
 *     number lacking a time or tenant field is pinned so a regression
 *     shows up as a changed count;
 *  2. every event of SigmaHQ's regression data (regression_index.json)
 *     classifies to a source that serves its rule's logsource.
 *
 * Skips with a message when $AW_SHARED is not set or not there. */
#include <sys/stat.h>

#include "mtest.h"

typedef struct dataset {
    const char *file;           /* under $AW_SHARED/telemetry/datasets */
    const char *family;         /* source name prefix */
    const char *unclassified;   /* allowed line numbers, ",n,m," */
    int no_time, no_tenant;     /* pinned counts (0 for real captures) */
} dataset;

static const dataset DATASETS[] = {
    {"stratus-red-team/cloudtrail.jsonl", "aws-", "", 0, 0},
    {"otrf-security-datasets/aws-ec2-proxy-s3-exfiltration/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
     "aws-", "", 0, 0},
    {"otrf-security-datasets/azure-goldensaml-aad-audit/AADAuditEvents.json", "azure-", "", 0, 0},
    {"gcp-audit-log-examples/gcp_cloudaudit.jsonl", "gcp-", "", 0, 0},
    {"panther-analysis-tests/scenario-compromised-root-creds/attacker_cloudtrail.jsonl", "aws-", "", 0, 0},
    {"panther-analysis-tests/scenario-compromised-root-creds/victim_cloudtrail.jsonl", "aws-", "", 0, 0},
    {"panther-analysis-tests/aws_bedrock_model_invocation.events.jsonl", "aws-", "", 0, 0},
    /* 32-34, 128, 130, 208-210: Panther lower-cased keys (eventname, ...);
     * 463-465, 470, 471, 474: trimmed to a few fields or to p_* only */
    {"panther-analysis-tests/aws_cloudtrail.events.jsonl", "aws-",
     ",32,33,34,128,130,208,209,210,463,464,465,470,471,474,", 17, 13},
    /* 12: {"bucket": ...} only */
    {"panther-analysis-tests/aws_s3_server_access.events.jsonl", "aws-", ",12,", 4, 7},
    {"panther-analysis-tests/azure_entra_audit.events.jsonl", "azure-", "", 0, 11},
    {"panther-analysis-tests/azure_monitor_activity.events.jsonl", "azure-", "", 35, 38},
    /* 30-32, 38, 48, 102: lower-cased keys (logname, protopayload);
     * 39, 40, 44, 45, 49, 50: {"methodName": ...} only; 69, 70: a
     * protoPayload without methodName; 149, 150: p_enrichment only */
    {"panther-analysis-tests/gcp_auditlog.events.jsonl", "gcp-",
     ",30,31,32,38,39,40,44,45,48,49,50,69,70,102,149,150,", 49, 17},
};

static const char *shared(void)
{
    static char path[1024];
    struct stat sb;
    const char *s = getenv("AW_SHARED");
    if (!s || stat(s, &sb) != 0)
        return NULL;
    snprintf(path, sizeof path, "%s", s);
    return path;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static int in_list(const char *list, unsigned long line)
{
    char key[32];
    snprintf(key, sizeof key, ",%lu,", line);
    return strstr(list, key) != NULL;
}

static void check_dataset(const aw_mapping *m, const char *root, const dataset *ds)
{
    char path[1200];
    size_t len;
    char *buf, *line;
    unsigned long no = 0, events = 0, uncl = 0, bad_family = 0, no_time = 0, no_tenant = 0;
    aw_doc *d = aw_doc_new();

    snprintf(path, sizeof path, "%s/telemetry/datasets/%s", root, ds->file);
    buf = slurp(path, &len);
    if (!buf)
        fail_msg("cannot read %s", path);
    /* JSON Lines: count lines from 1, blank lines included */
    for (char *p = buf; p && *p; ) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line = p;
        p = nl ? nl + 1 : NULL;
        no++;
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        events++;
        aw_errbuf err;
        if (aw_doc_parse(d, line, strlen(line), NULL, &err) != AW_OK)
            fail_msg("%s:%lu: %s", ds->file, no, err.msg);
        const aw_source *s[16];
        size_t n = aw_mapping_classify(m, d, s, 16);
        if (n == 0) {
            if (!in_list(ds->unclassified, no)) {
                print_error("%s:%lu: not classified\n", ds->file, no);
                uncl++;
            }
            continue;
        }
        if (in_list(ds->unclassified, no)) {
            print_error("%s:%lu: listed as unclassifiable but is %s\n", ds->file, no,
                        aw_source_name(s[0]));
            uncl++;
        }
        for (size_t i = 0; i < n && i < 16; i++)
            if (strncmp(aw_source_name(s[i]), ds->family, strlen(ds->family)) != 0) {
                print_error("%s:%lu: classified as %s\n", ds->file, no, aw_source_name(s[i]));
                bad_family++;
            }
        int64_t ns;
        char tenant[256];
        if (aw_source_time(s[0], d, &ns) != AW_OK)
            no_time++;
        if (aw_source_tenant(s[0], d, tenant, sizeof tenant) == 0)
            no_tenant++;
    }
    print_message("%-60.60s %4lu events, %2lu without time, %2lu without tenant\n",
                  ds->file, events, no_time, no_tenant);
    assert_true(events > 0);
    assert_int_equal(uncl, 0);
    assert_int_equal(bad_family, 0);
    assert_int_equal(no_time, ds->no_time);
    assert_int_equal(no_tenant, ds->no_tenant);
    free(buf);
    aw_doc_free(d);
}

static void t_cloud_datasets(void **st)
{
    const char *root = shared();
    aw_mapping *m;
    (void)st;
    if (!root) {
        print_message("skip: $AW_SHARED is not set or missing\n");
        skip();
    }
    m = builtin();
    for (size_t i = 0; i < sizeof DATASETS / sizeof DATASETS[0]; i++)
        check_dataset(m, root, &DATASETS[i]);
    aw_mapping_free(m);
}

/* ---- regression data ------------------------------------------------- */

static const char *member_str(const aw_doc *d, const aw_jnode *obj, const char *key)
{
    const aw_jnode *n = aw_json_member(d, obj, key, strlen(key));
    return n && n->type == AW_JSTR ? n->val : NULL;
}

/* Split concatenated JSON objects (the regression files are pretty-
 * printed objects one after another): calls back with each. */
static int each_object(const char *buf, size_t len, aw_doc *d, const aw_mapping *m,
                       const aw_source *const *serving, size_t nserving, const char *file)
{
    size_t i = 0, events = 0;
    while (i < len) {
        size_t start, depth = 0;
        int in_str = 0;
        while (i < len && buf[i] != '{')
            i++;
        if (i >= len)
            break;
        start = i;
        for (; i < len; i++) {
            char c = buf[i];
            if (in_str) {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    in_str = 0;
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                break;
            }
        }
        aw_errbuf err;
        if (aw_doc_parse(d, buf + start, i + 1 - start, NULL, &err) != AW_OK)
            fail_msg("%s: event %zu: %s", file, events + 1, err.msg);
        i++;
        events++;
        const aw_source *s[32];
        size_t n = aw_mapping_classify(m, d, s, 32), k, j;
        for (k = 0; k < n && k < 32; k++) {
            for (j = 0; j < nserving; j++)
                if (s[k] == serving[j])
                    break;
            if (j < nserving)
                break;
        }
        if (k == n || k == 32) {
            print_error("%s: event %zu classifies to [%s], none serving the rule\n", file,
                        events, classify_names(m, d));
            return -1;
        }
    }
    return (int)events;
}

static void t_regression_routing(void **st)
{
    const char *root = shared();
    char path[1200];
    size_t len, tests = 0, events = 0, failures = 0;
    char *idx;
    aw_doc *ix, *d;
    aw_mapping *m;
    (void)st;
    if (!root) {
        print_message("skip: $AW_SHARED is not set or missing\n");
        skip();
    }
    snprintf(path, sizeof path, "%s/sigma/corpus/regression_index.json", root);
    if (!(idx = slurp(path, &len))) {
        print_message("skip: %s missing\n", path);
        skip();
    }
    m = builtin();
    ix = aw_doc_new();
    d = aw_doc_new();
    aw_errbuf err;
    assert_int_equal(aw_doc_parse(ix, idx, len, NULL, &err), AW_OK);
    const aw_jnode *arr = aw_json_member(ix, aw_doc_root(ix), "tests", 5);
    assert_non_null(arr);
    for (uint32_t t = arr->child; t; t = aw_doc_node(ix, t)->next) {
        const aw_jnode *test = aw_doc_node(ix, t);
        const aw_jnode *ls = aw_json_member(ix, test, "logsource", 9);
        const char *json = member_str(ix, test, "json_path");
        const aw_source *serving[64];
        size_t ns, blen;
        char *buf;
        int got;
        assert_non_null(ls);
        assert_non_null(json);
        ns = aw_mapping_route(m, member_str(ix, ls, "product"), member_str(ix, ls, "category"),
                              member_str(ix, ls, "service"), serving, 64);
        tests++;
        if (ns == 0) {
            print_error("%s: no source serves the rule's logsource\n", member_str(ix, test, "rule_path"));
            failures++;
            continue;
        }
        snprintf(path, sizeof path, "%s/sigma/corpus/%s", root, json);
        if (!(buf = slurp(path, &blen)))
            fail_msg("cannot read %s", path);
        got = each_object(buf, blen, d, m, serving, ns < 64 ? ns : 64, json);
        const aw_jnode *cnt = aw_json_member(ix, test, "json_event_count", 16);
        if (got < 0)
            failures++;
        else if (cnt && cnt->type == AW_JNUM && (double)got != cnt->num)
            fail_msg("%s: split %d events, index says %s", json, got, cnt->val);
        else
            events += (size_t)got;
        free(buf);
    }
    print_message("regression data: %zu tests, %zu events routed, %zu failures\n", tests, events,
                  failures);
    assert_true(tests >= 160);
    assert_true(events >= 190);
    assert_int_equal(failures, 0);
    free(idx);
    aw_doc_free(ix);
    aw_doc_free(d);
    aw_mapping_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_cloud_datasets),
        cmocka_unit_test(t_regression_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
