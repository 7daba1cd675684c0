/* test_tenant_time.c - tenant extraction for the three clouds (with
 * fallbacks and without allocation), event time from text and epoch
 * numbers, and the RFC 3339 parser/formatter's edge cases. */
#include "mtest.h"

static const char *tenant_of(const aw_mapping *m, aw_doc *d, const char *src, const char *json)
{
    static char out[128];
    parse(d, json);
    size_t n = aw_source_tenant(by_name(m, src), d, out, sizeof out);
    assert_int_equal(n, strlen(out));
    return out;
}

static void t_tenants(void **st)
{
    aw_mapping *m = builtin();
    aw_doc *d = aw_doc_new();
    char small[5];
    (void)st;
    /* AWS: the resource owner, not the caller */
    assert_string_equal(tenant_of(m, d, "aws-cloudtrail",
                                  "{\"recipientAccountId\":\"111122223333\","
                                  "\"userIdentity\":{\"accountId\":\"999988887777\"}}"),
                        "111122223333");
    assert_string_equal(tenant_of(m, d, "aws-cloudtrail", "{\"userIdentity\":{\"accountId\":\"9\"}}"), "");
    assert_string_equal(tenant_of(m, d, "aws-bedrock-invocation", "{\"accountId\":\"111111111111\"}"),
                        "111111111111");
    assert_string_equal(tenant_of(m, d, "aws-s3-notification",
                                  "{\"s3\":{\"bucket\":{\"ownerIdentity\":{\"principalId\":\"A3NL1KOZZK\"}}}}"),
                        "A3NL1KOZZK");
    /* Azure: subscription from resourceId, case-insensitively; fallbacks */
    assert_string_equal(tenant_of(m, d, "azure-activitylogs",
                                  "{\"resourceId\":\"/SUBSCRIPTIONS/12345678-aaaa/resourceGroups/rg\"}"),
                        "12345678-aaaa");
    assert_string_equal(tenant_of(m, d, "azure-activitylogs",
                                  "{\"resourceId\":\"/providers/Microsoft.Authorization\",\"tenantId\":\"dir-1\"}"),
                        "dir-1");
    assert_string_equal(tenant_of(m, d, "azure-activitylogs",
                                  "{\"resourceId\":\"/providers/x\",\"subscriptionId\":\"sub-2\",\"tenantId\":\"t\"}"),
                        "sub-2");
    assert_string_equal(tenant_of(m, d, "azure-storage",
                                  "{\"resourceId\":\"/subscriptions/s-9/resourceGroups/g/providers/Microsoft.Storage/"
                                  "storageAccounts/a/blobServices/default\"}"),
                        "s-9");
    assert_string_equal(tenant_of(m, d, "azure-storage", "{\"_ResourceId\":\"/subscriptions/s-8/x\"}"), "s-8");
    assert_string_equal(tenant_of(m, d, "azure-auditlogs",
                                  "{\"resourceId\":\"/tenants/t-1/providers/Microsoft.aadiam\",\"tenantId\":\"t-2\"}"),
                        "t-1");
    /* GCP: project from logName, else resource.labels.project_id, else the org */
    assert_string_equal(tenant_of(m, d, "gcp-audit",
                                  "{\"logName\":\"projects/my-proj/logs/cloudaudit.googleapis.com%2Factivity\","
                                  "\"resource\":{\"labels\":{\"project_id\":\"other\"}}}"),
                        "my-proj");
    assert_string_equal(tenant_of(m, d, "gcp-audit", "{\"resource\":{\"labels\":{\"project_id\":\"lbl\"}}}"), "lbl");
    assert_string_equal(tenant_of(m, d, "gcp-audit",
                                  "{\"logName\":\"organizations/123/logs/cloudaudit.googleapis.com%2Factivity\"}"),
                        "organizations/123");
    assert_string_equal(tenant_of(m, d, "gcp-audit", "{\"logName\":\"weird\"}"), "");
    /* wrong types and empty values are skipped */
    assert_string_equal(tenant_of(m, d, "aws-cloudtrail", "{\"recipientAccountId\":{\"a\":1}}"), "");
    assert_string_equal(tenant_of(m, d, "aws-cloudtrail", "{\"recipientAccountId\":\"\"}"), "");
    assert_string_equal(tenant_of(m, d, "aws-cloudtrail", "{\"recipientAccountId\":123456789012}"), "123456789012");
    /* Windows has no tenant */
    assert_string_equal(tenant_of(m, d, "windows-sysmon", "{\"Event\":{}}"), "");
    /* truncation: NUL-terminated, returns what was written */
    parse(d, "{\"recipientAccountId\":\"111122223333\"}");
    assert_int_equal(aw_source_tenant(by_name(m, "aws-cloudtrail"), d, small, sizeof small), 4);
    assert_string_equal(small, "1111");
    assert_int_equal(aw_source_tenant(by_name(m, "aws-cloudtrail"), d, small, 0), 0);
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* A custom tenant: regex with non-capturing groups, a fallback path with
 * a "*" segment, and the tenant itself declared pseudonymised. */
static void t_tenant_custom(void **st)
{
    static const char *Y =
        "sources:\n"
        "  - name: c\n"
        "    logsource: {product: t}\n"
        "    when: {exists: id}\n"
        "    tenant:\n"
        "      - {path: id, regex: '^(?:acct|account)[-_:](\\w+)(?:/.*)?$'}\n"
        "      - {path: alt.*.owner}\n"
        "    pseudonymise: [tenant]\n";
    aw_mapping *m = aw_mapping_new();
    aw_doc *d = aw_doc_new();
    char out[64];
    (void)st;
    load_text(m, Y);
    parse(d, "{\"id\":\"account_ABC123/x/y\"}");
    /* declared pseudonymised and no key: redacted */
    assert_int_equal(aw_source_tenant(aw_mapping_source(m, 0), d, out, sizeof out), 8);
    assert_string_equal(out, "redacted");
    assert_int_equal(aw_mapping_set_key(m, (const uint8_t *)"0123456789abcdef0123", 20), AW_OK);
    assert_int_equal(aw_source_tenant(aw_mapping_source(m, 0), d, out, sizeof out), 44);
    assert_true(strncmp(out, "hmac-sha256:", 12) == 0);
    char first[64];
    strcpy(first, out);
    parse(d, "{\"id\":\"nomatch\",\"alt\":{\"q\":{\"owner\":\"ABC123\"}}}");
    aw_source_tenant(aw_mapping_source(m, 0), d, out, sizeof out);
    assert_string_equal(out, first);    /* same tenant, same pseudonym */
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* ---- time ----------------------------------------------------------- */

static int64_t P(const char *s)
{
    int64_t ns = 0;
    if (aw_time_parse(s, strlen(s), &ns) != AW_OK)
        fail_msg("cannot parse %s", s);
    return ns;
}

static void bad(const char *s)
{
    int64_t ns;
    if (aw_time_parse(s, strlen(s), &ns) == AW_OK)
        fail_msg("parsed %s", s);
}

static void t_time_parse(void **st)
{
    (void)st;
    assert_true(P("1970-01-01T00:00:00Z") == 0);
    assert_true(P("2024-01-02T03:04:05Z") == 1704164645LL * 1000000000);
    assert_true(P("2024-01-02T03:04:05.123Z") == 1704164645123000000LL);
    assert_true(P("2024-01-02t03:04:05.123z") == 1704164645123000000LL);
    assert_true(P("2024-01-02 03:04:05.123") == 1704164645123000000LL);
    assert_true(P("2024-12-17T10:30:00.0000000Z") == P("2024-12-17T10:30:00Z"));
    assert_true(P("2021-05-12T16:05:47.688372541Z") % 1000000000 == 688372541);
    assert_true(P("2021-05-12T16:05:47.6883725419999Z") % 1000000000 == 688372541);
    assert_true(P("2022-03-07T15:03:44.229-08:00") == P("2022-03-07T23:03:44.229Z"));
    assert_true(P("2022-03-07T15:03:44+0530") == P("2022-03-07T09:33:44Z"));
    assert_true(P("2022-03-07T15:03:44+05") == P("2022-03-07T10:03:44Z"));
    assert_true(P("2022-03-07T15:03:44,5Z") == P("2022-03-07T15:03:44.500Z"));
    assert_true(P("2021-08-11 15:35:06.914207 UTC") == P("2021-08-11T15:35:06.914207Z"));
    assert_true(P("2024-01-02") == P("2024-01-02T00:00:00Z"));
    assert_true(P("2024-01-02T03:04Z") == P("2024-01-02T03:04:00Z"));
    assert_true(P("2016-12-31T23:59:60Z") == P("2017-01-01T00:00:00Z"));    /* leap second */
    assert_true(P("2024-02-29T00:00:00Z") > 0);
    assert_true(P("1969-12-31T23:59:59.5Z") == -500000000LL);
    assert_true(P("  2024-01-02T03:04:05Z  ") == P("2024-01-02T03:04:05Z"));
    bad("");
    bad("2023-02-29T00:00:00Z");
    bad("2024-13-01T00:00:00Z");
    bad("2024-01-32");
    bad("2024-01-02T24:00:00Z");
    bad("2024-01-02T03:04:05.Z");
    bad("2024-01-02T03:04:05Zjunk");
    bad("2024-01-02T03:04:05+25:00");
    bad("2024-1-02");
    bad("yesterday");
    bad("3000-01-01T00:00:00Z");        /* beyond int64 nanoseconds */
    assert_true(P("2024-01-02T03:04:05 GMT") == P("2024-01-02T03:04:05Z"));
    assert_true(P("2024-01-02 03:04:05UTC") == P("2024-01-02T03:04:05Z"));
    bad("2024-01-02X03:04");            /* each part of the time, malformed */
    bad("2024-01-02T3:04");
    bad("2024-01-02T03-04");
    bad("2024-01-02T03:04:5Z");
    bad("2024-01-02T03:04:05+5");
    bad("2024-01-02T03:04:05+05:3");
    bad("2024-01-02T03:04:05Q");
    bad("2024-01-02T03:04:05 EST");
}

static void t_time_format(void **st)
{
    char b[64];
    (void)st;
    aw_time_format(0, b, sizeof b);
    assert_string_equal(b, "1970-01-01T00:00:00Z");
    aw_time_format(1704164645123000000LL, b, sizeof b);
    assert_string_equal(b, "2024-01-02T03:04:05.123Z");
    aw_time_format(1704164645123400000LL, b, sizeof b);
    assert_string_equal(b, "2024-01-02T03:04:05.123400Z");
    aw_time_format(1704164645000000001LL, b, sizeof b);
    assert_string_equal(b, "2024-01-02T03:04:05.000000001Z");
    aw_time_format(-500000000LL, b, sizeof b);
    assert_string_equal(b, "1969-12-31T23:59:59.500Z");
    aw_time_format(INT64_MIN, b, sizeof b);     /* the range's ends */
    assert_string_equal(b, "1677-09-21T00:12:43.145224192Z");
    aw_time_format(INT64_MAX, b, sizeof b);
    assert_string_equal(b, "2262-04-11T23:47:16.854775807Z");
    assert_int_equal(aw_time_format(0, b, 5), 4);
    assert_string_equal(b, "1970");
    /* round trip */
    const char *s = "2021-05-12T16:05:47.688372541Z";
    aw_time_format(P(s), b, sizeof b);
    assert_string_equal(b, s);
}

static void t_source_time(void **st)
{
    aw_mapping *m = builtin();
    aw_doc *d = aw_doc_new();
    const aw_source *ct = by_name(m, "aws-cloudtrail");
    const aw_source *gcp = by_name(m, "gcp-audit");
    const aw_source *win = by_name(m, "windows-sysmon");
    int64_t ns;
    (void)st;
    parse(d, "{\"eventTime\":\"2024-01-02T03:04:05Z\"}");
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    assert_true(ns == P("2024-01-02T03:04:05Z"));
    parse(d, "{\"@timestamp\":\"2020-09-14T01:02:34.000Z\"}");      /* fallback */
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    assert_true(ns == P("2020-09-14T01:02:34Z"));
    parse(d, "{\"eventTime\":\"not a time\",\"@timestamp\":\"2020-09-14T01:02:34Z\"}");
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    parse(d, "{\"eventTime\":1704164645}");                          /* epoch seconds */
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    assert_true(ns == P("2024-01-02T03:04:05Z"));
    parse(d, "{\"eventTime\":1704164645123}");                       /* milliseconds */
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    assert_true(ns == P("2024-01-02T03:04:05.123Z"));
    parse(d, "{\"eventTime\":\"1704164645123456\"}");                /* microseconds, as text */
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    assert_true(ns == P("2024-01-02T03:04:05.123456Z"));
    parse(d, "{\"eventTime\":1704164645.5}");
    assert_int_equal(aw_source_time(ct, d, &ns), AW_OK);
    assert_true(ns == P("2024-01-02T03:04:05.5Z"));
    parse(d, "{\"eventTime\":null}");
    assert_int_equal(aw_source_time(ct, d, &ns), AW_ERR);
    parse(d, "{}");
    assert_int_equal(aw_source_time(ct, d, &ns), AW_ERR);
    parse(d, "{\"receiveTimestamp\":\"2021-05-12T16:05:47.688372541Z\"}");
    assert_int_equal(aw_source_time(gcp, d, &ns), AW_OK);
    parse(d, "{\"Event\":{\"System\":{\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2025-11-26T05:11:27.927693Z\"}}}}}");
    assert_int_equal(aw_source_time(win, d, &ns), AW_OK);
    assert_true(ns == P("2025-11-26T05:11:27.927693Z"));
    aw_doc_free(d);
    aw_mapping_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_tenants),
        cmocka_unit_test(t_tenant_custom),
        cmocka_unit_test(t_time_parse),
        cmocka_unit_test(t_time_format),
        cmocka_unit_test(t_source_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
