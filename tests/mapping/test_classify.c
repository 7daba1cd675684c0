/* test_classify.c - routing (rule logsource -> sources), classification
 * of sample events from every shipped family, and field resolution
 * (explicit fields, ordered fallback, wildcard renames, prefixes with
 * "*", identity). */
#include "mtest.h"

/* ---- routing -------------------------------------------------------- */

static int routed(const aw_mapping *m, const char *p, const char *c, const char *s,
                  const char *name)
{
    const aw_source *out[64];
    size_t n = aw_mapping_route(m, p, c, s, out, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        if (strcmp(aw_source_name(out[i]), name) == 0)
            return 1;
    return 0;
}

static void t_route_containment(void **st)
{
    aw_mapping *m = builtin();
    const aw_source *out[2];
    (void)st;
    /* every attribute the rule sets must equal the source's */
    assert_true(routed(m, "windows", "process_creation", NULL, "windows-sysmon-process_creation"));
    assert_true(routed(m, "windows", "process_creation", NULL, "windows-security-process_creation"));
    assert_false(routed(m, "windows", "process_creation", NULL, "windows-sysmon"));
    assert_true(routed(m, "windows", NULL, "sysmon", "windows-sysmon"));
    assert_true(routed(m, "windows", NULL, "sysmon", "windows-sysmon-process_creation"));
    assert_false(routed(m, "windows", NULL, "security", "windows-sysmon-process_creation"));
    assert_true(routed(m, "windows", "process_creation", "security", "windows-security-process_creation"));
    assert_false(routed(m, "windows", "process_creation", "security", "windows-sysmon-process_creation"));
    assert_true(routed(m, "AWS", NULL, "CloudTrail", "aws-cloudtrail"));   /* case-insensitive */
    assert_true(routed(m, "gcp", NULL, "gcp.audit", "gcp-audit"));
    /* a rule the mapping does not cover routes nowhere (the engine reports it) */
    assert_int_equal(aw_mapping_route(m, "linux", "process_creation", NULL, out, 2), 0);
    assert_int_equal(aw_mapping_route(m, "aws", "process_creation", NULL, out, 2), 0);
    assert_int_equal(aw_mapping_route(m, "m365", NULL, "audit", out, 2), 0);
    /* the count may exceed max; only max are stored */
    assert_true(aw_mapping_route(m, "windows", NULL, NULL, out, 2) > 50);
    assert_int_equal(aw_mapping_route(NULL, "aws", NULL, NULL, out, 2), 0);
    aw_mapping_free(m);
}

/* ---- classification of sample events -------------------------------- */

static void expect(const aw_mapping *m, aw_doc *d, const char *json, const char *names)
{
    parse(d, json);
    const char *got = classify_names(m, d);
    if (strcmp(got, names) != 0)
        fail_msg("event %.80s: got [%s], want [%s]", json, got, names);
}

static void t_classify_samples(void **st)
{
    aw_mapping *m = builtin();
    aw_doc *d = aw_doc_new();
    (void)st;
    /* Windows: channel + EventID, numbers by value, strings case-insensitively */
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"},"
           "\"EventData\":{\"Image\":\"C:\\\\x.exe\"}}}",
           "windows-sysmon-process_creation,windows-sysmon");
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":\"1\",\"Channel\":\"microsoft-windows-sysmon/operational\"}}}",
           "windows-sysmon-process_creation,windows-sysmon");
    expect(m, d, "{\"Event\":{\"System\":{\"EventID\":4688,\"Channel\":\"Security\"}}}",
           "windows-security-process_creation,windows-security");
    expect(m, d, "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"System\"}}}", "windows-system");
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":12,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"},"
           "\"EventData\":{\"EventType\":\"DeleteValue\"}}}",
           "windows-sysmon-registry_event,windows-sysmon-registry_delete,windows-sysmon");
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":13,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"},"
           "\"EventData\":{\"EventType\":\"SetValue\"}}}",
           "windows-sysmon-registry_event,windows-sysmon-registry_set,windows-sysmon");
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":4104,\"Channel\":\"Microsoft-Windows-PowerShell/Operational\"}}}",
           "windows-powershell-ps_script,windows-powershell");
    /* the channels of pySigma's remaining Windows services */
    expect(m, d, "{\"Event\":{\"System\":{\"EventID\":6004,\"Channel\":\"DNS Server\"}}}", "windows-dns-server");
    expect(m, d, "{\"Event\":{\"System\":{\"EventID\":257,\"Channel\":\"Microsoft-Windows-DNS-Server/Analytical\"}}}",
           "windows-dns-server-analytic");
    expect(m, d, "{\"Event\":{\"System\":{\"EventID\":541,\"Channel\":\"Microsoft-Windows-DNS-Server/Audit\"}}}",
           "windows-dns-server-audit");
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":2003,"
           "\"Channel\":\"Microsoft-Windows-DriverFrameworks-UserMode/Operational\"}}}",
           "windows-driver-framework");
    expect(m, d, "{\"Event\":{\"System\":{\"EventID\":40300,\"Channel\":\"Microsoft-ServiceBus-Client\"}}}",
           "windows-microsoft-servicebus-client");
    expect(m, d,
           "{\"Event\":{\"System\":{\"EventID\":40300,\"Channel\":\"Microsoft-ServiceBus-Client/Operational\"}}}",
           "windows-servicebus-client,windows-microsoft-servicebus-client");
    /* AWS */
    expect(m, d,
           "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\","
           "\"eventTime\":\"2024-01-02T03:04:05Z\",\"recipientAccountId\":\"111122223333\"}",
           "aws-cloudtrail");
    expect(m, d,
           "{\"schemaType\":\"ModelInvocationLog\",\"accountId\":\"1\",\"timestamp\":\"2025-05-15 14:17:22.000000000\"}",
           "aws-bedrock-invocation");
    expect(m, d, "{\"bucket\":\"b\",\"operation\":\"REST.PUT.OBJECT\",\"key\":\"k\"}", "aws-s3-access");
    expect(m, d,
           "{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
           "\"userIdentity\":{\"principalId\":\"AWS:AIDAEXAMPLE\"},\"awsRegion\":\"us-east-1\","
           "\"s3\":{\"bucket\":{\"name\":\"b\",\"ownerIdentity\":{\"principalId\":\"A3NL1KOZZKExample\"}},"
           "\"object\":{\"key\":\"calls/1.amr\",\"size\":2048}}}",
           "aws-s3-notification");
    /* Azure */
    expect(m, d,
           "{\"time\":\"2024-12-17T10:30:00.0000000Z\",\"resourceId\":\"/subscriptions/s1/resourceGroups/g\","
           "\"operationName\":\"Microsoft.Insights/actionGroups/delete\",\"category\":\"Administrative\"}",
           "azure-activitylogs");
    expect(m, d,
           "{\"operationName\":{\"value\":\"Microsoft.Compute/virtualMachines/write\"},"
           "\"category\":{\"value\":\"Administrative\"},\"resourceId\":\"/subscriptions/s1/x\"}",
           "azure-activitylogs");
    expect(m, d,
           "{\"resourceId\":\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a/blobServices/default\","
           "\"category\":\"StorageWrite\",\"operationName\":\"PutBlob\"}",
           "azure-storage");
    expect(m, d, "{\"category\":\"AuditLogs\",\"operationName\":\"Add user\",\"tenantId\":\"t\"}",
           "azure-auditlogs");
    expect(m, d,
           "{\"category\":\"AuditLogs\",\"properties\":{\"loggedByService\":\"PIM\"}}",
           "azure-auditlogs,azure-pim");
    expect(m, d, "{\"category\":\"SignInLogs\",\"resultType\":\"50126\"}", "azure-signinlogs");
    expect(m, d, "{\"category\":\"UserRiskEvents\"}", "azure-riskdetection");
    /* Entra "Policy" audit events are not Activity Log "Policy" events */
    expect(m, d,
           "{\"category\":\"Policy\",\"resourceId\":\"/tenants/t1/providers/Microsoft.aadiam\","
           "\"properties\":{\"activityDisplayName\":\"Update policy\"}}",
           "azure-auditlogs");
    expect(m, d, "{\"category\":\"Policy\",\"resourceId\":\"/subscriptions/s1/x\",\"operationName\":\"o\"}",
           "azure-activitylogs");
    /* GCP */
    expect(m, d,
           "{\"logName\":\"projects/p1/logs/cloudaudit.googleapis.com%2Factivity\",\"insertId\":\"x\","
           "\"protoPayload\":{\"methodName\":\"v1.compute.firewalls.insert\",\"serviceName\":\"compute.googleapis.com\"}}",
           "gcp-audit,gcp-logging");
    expect(m, d,
           "{\"logName\":\"organizations/1/logs/cloudaudit.googleapis.com%2Factivity\","
           "\"protoPayload\":{\"serviceName\":\"admin.googleapis.com\",\"methodName\":\"m\"}}",
           "gcp-audit,gcp-workspace-admin");
    expect(m, d, "{\"logName\":\"projects/p/logs/stdout\",\"insertId\":\"1\",\"textPayload\":\"hi\"}",
           "gcp-logging");
    /* nothing */
    expect(m, d, "{\"hello\":\"world\"}", "");
    expect(m, d, "[1,2,3]", "");
    expect(m, d, "\"str\"", "");
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* Predicate semantics on a small custom mapping: AND within a map, OR
 * over a list, exists/absent, startswith/contains, arrays (any element),
 * numbers by value, "*" segments. */
static void t_predicates(void **st)
{
    static const char *Y =
        "sources:\n"
        "  - name: and\n"
        "    logsource: {product: t, service: and}\n"
        "    when: {a: x, b: [1, 2]}\n"
        "  - name: or\n"
        "    logsource: {product: t, service: or}\n"
        "    when:\n"
        "      - {a: y}\n"
        "      - {exists: c.d, absent: e}\n"
        "  - name: ops\n"
        "    logsource: {product: t, service: ops}\n"
        "    when: {s: {startswith: /SUBS}, u: {contains: [zz, MID]}}\n"
        "  - name: arr\n"
        "    logsource: {product: t, service: arr}\n"
        "    when: {list.k: hit}\n"
        "  - name: star\n"
        "    logsource: {product: t, service: star}\n"
        "    when: {w.*.name: deep}\n"
        "  - name: dot\n"
        "    logsource: {product: t, service: dot}\n"
        "    when: {h: {contains: .Amazonaws.com}}\n";
    aw_mapping *m = aw_mapping_new();
    aw_doc *d = aw_doc_new();
    (void)st;
    load_text(m, Y);
    expect(m, d, "{\"a\":\"X\",\"b\":2}", "and");
    expect(m, d, "{\"a\":\"x\",\"b\":2.0}", "and");
    expect(m, d, "{\"a\":\"x\",\"b\":\"2\"}", "and");
    expect(m, d, "{\"a\":\"x\",\"b\":3}", "");
    expect(m, d, "{\"a\":\"x\"}", "");
    expect(m, d, "{\"a\":\"x\",\"b\":[5,1]}", "and");
    expect(m, d, "{\"a\":\"y\"}", "or");
    expect(m, d, "{\"c\":{\"d\":null}}", "or");
    expect(m, d, "{\"c\":{\"d\":1},\"e\":0}", "");
    expect(m, d, "{\"s\":\"/subscriptions/1\",\"u\":\"amidb\"}", "ops");
    expect(m, d, "{\"s\":\"/sub\",\"u\":\"amidb\"}", "");
    expect(m, d, "{\"list\":[{\"k\":\"miss\"},{\"k\":\"HIT\"}]}", "arr");
    expect(m, d, "{\"list\":{\"k\":[\"a\",\"hit\"]}}", "arr");
    expect(m, d, "{\"w\":{\"anything\":{\"name\":\"deep\"}}}", "star");
    expect(m, d, "{\"w\":{\"a\":{\"name\":\"no\"},\"b\":{\"name\":\"deep\"}}}", "star");
    expect(m, d, "{\"w\":{\"name\":\"deep\"}}", "");
    expect(m, d, "{\"h\":\"s3.AMAZONAWS.COM\"}", "dot");
    expect(m, d, "{\"h\":\"..amazonaws.com\"}", "dot");
    expect(m, d, "{\"h\":\"amazonaws.com\"}", "");
    expect(m, d, "{\"h\":\"x.amazonaws.co\"}", "");
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* The prefilter (sources keyed by their discriminating value) must give
 * exactly what evaluating every source would, in source order. */
static void t_prefilter(void **st)
{
    static const char *Y1 =
        "sources:\n"
        "  - {name: a, logsource: {product: t}, when: {ch: A, id: 1}}\n"
        "  - name: b\n"
        "    logsource: {product: t}\n"
        "    when: [{ch: B}, {ch: [C, D], x: 1}]\n"
        "  - {name: c, logsource: {product: t}, when: {ch: A}}\n"
        "  - {name: d, logsource: {product: t}, when: {other: z}}\n"
        "  - name: e\n"
        "    logsource: {product: t}\n"
        "    when: [{ch: A}, {y: 1}]\n";
    static const char *Y2 =
        "sources:\n"
        "  - {name: f, logsource: {product: t}, when: {ch: [a, E]}}\n";
    aw_mapping *m = aw_mapping_new();
    aw_doc *d = aw_doc_new();
    (void)st;
    load_text(m, Y1);
    expect(m, d, "{\"ch\":\"a\",\"id\":1}", "a,c,e");
    expect(m, d, "{\"ch\":\"a\",\"id\":2}", "c,e");
    expect(m, d, "{\"ch\":\"D\",\"x\":1}", "b");
    expect(m, d, "{\"ch\":\"C\"}", "");
    expect(m, d, "{\"ch\":[\"x\",\"B\"]}", "b");          /* array: full scan */
    expect(m, d, "{\"ch\":{\"k\":\"B\"}}", "");
    expect(m, d, "{\"y\":1}", "e");
    expect(m, d, "{\"ch\":\"A\",\"other\":\"z\"}", "c,d,e");     /* no id: not a */
    expect(m, d, "{\"ch\":1,\"other\":\"Z\"}", "d");
    expect(m, d, "{\"ch\":true,\"other\":\"Z\"}", "d");
    /* a later load rebuilds the index */
    load_text(m, Y2);
    expect(m, d, "{\"ch\":\"A\",\"id\":1}", "a,c,e,f");
    expect(m, d, "{\"ch\":\"e\"}", "f");
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* The number slot narrows a bucket to the sources that accept the
 * event's whole number; every other value keeps the whole bucket. */
static void t_prefilter_numbers(void **st)
{
    static const char *Y =
        "sources:\n"
        "  - {name: p1, logsource: {product: t}, when: {ch: S, id: 1}}\n"
        "  - {name: p3, logsource: {product: t}, when: {ch: S, id: [3, 22]}}\n"
        "  - {name: all, logsource: {product: t}, when: {ch: S}}\n"
        "  - name: two\n"
        "    logsource: {product: t}\n"
        "    when: [{ch: S, id: 1}, {ch: S, id: 4, x: y}]\n"
        "  - {name: big, logsource: {product: t}, when: {ch: S, id: 9007199254740992}}\n"
        "  - {name: neg, logsource: {product: t}, when: {ch: S, id: -5}}\n"
        "  - {name: text, logsource: {product: t}, when: {ch: S, id: abc}}\n"
        "  - {name: frac, logsource: {product: t}, when: {ch: S, id: 1.5}}\n"
        "  - {name: q, logsource: {product: t}, when: {ch: T, id: 1}}\n";
    aw_mapping *m = aw_mapping_new();
    aw_doc *d = aw_doc_new();
    (void)st;
    load_text(m, Y);
    expect(m, d, "{\"ch\":\"S\",\"id\":1}", "p1,all,two");
    expect(m, d, "{\"ch\":\"s\",\"id\":1.0}", "p1,all,two");
    expect(m, d, "{\"ch\":\"S\",\"id\":\"1\"}", "p1,all,two");      /* a string holding it */
    expect(m, d, "{\"ch\":\"S\",\"id\":\"1e0\"}", "p1,all,two");
    expect(m, d, "{\"ch\":\"S\",\"id\":22}", "p3,all");
    expect(m, d, "{\"ch\":\"S\",\"id\":4}", "all");                  /* two needs x too */
    expect(m, d, "{\"ch\":\"S\",\"id\":4,\"x\":\"y\"}", "all,two");
    expect(m, d, "{\"ch\":\"S\",\"id\":-5}", "all,neg");
    expect(m, d, "{\"ch\":\"S\",\"id\":9007199254740992}", "all,big");
    expect(m, d, "{\"ch\":\"S\",\"id\":7}", "all");                  /* no list for 7 */
    expect(m, d, "{\"ch\":\"S\"}", "all");                             /* absent */
    expect(m, d, "{\"ch\":\"S\",\"id\":\"ABC\"}", "all,text");     /* text: whole bucket */
    expect(m, d, "{\"ch\":\"S\",\"id\":1.5}", "all,frac");
    expect(m, d, "{\"ch\":\"S\",\"id\":[2,3]}", "p3,all");           /* array: whole bucket */
    expect(m, d, "{\"ch\":\"S\",\"id\":{\"v\":1}}", "all");
    expect(m, d, "{\"ch\":\"T\",\"id\":1}", "q");
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* ---- field resolution ----------------------------------------------- */

static void expect_paths(const aw_source *s, const char *field, const char *want)
{
    const char *const *p;
    char got[1024] = "";
    size_t n = aw_source_resolve(s, field, &p), len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? "|" : "", p[i]);
    if (strcmp(got, want) != 0)
        fail_msg("%s: %s resolved to [%s], want [%s]", aw_source_name(s), field, got, want);
}

static void t_resolve(void **st)
{
    aw_mapping *m = builtin();
    const aw_source *w = by_name(m, "windows-sysmon-process_creation");
    const aw_source *sec = by_name(m, "windows-security-process_creation");
    const aw_source *ct = by_name(m, "aws-cloudtrail");
    const aw_source *gcp = by_name(m, "gcp-audit");
    const aw_source *az = by_name(m, "azure-activitylogs");
    const char *const *p1, *const *p2;
    (void)st;
    expect_paths(w, "EventID", "Event.System.EventID.#text|Event.System.EventID");
    expect_paths(w, "Provider_Name", "Event.System.Provider.#attributes.Name");
    expect_paths(w, "Image", "Event.EventData.Image|Event.UserData.*.Image");
    expect_paths(sec, "Image", "Event.EventData.NewProcessName");
    expect_paths(sec, "ParentImage", "Event.EventData.ParentProcessName");
    expect_paths(sec, "CommandLine", "Event.EventData.CommandLine|Event.UserData.*.CommandLine");
    /* Defender's EventData names have spaces; rules drop them */
    expect_paths(by_name(m, "windows-windefend"), "ThreatName",
                 "Event.EventData.Threat Name|Event.EventData.ThreatName");
    expect_paths(by_name(m, "windows-windefend-antivirus"), "Signature",
                 "Event.EventData.Threat Name|Event.EventData.ThreatName");
    expect_paths(ct, "userIdentity.type", "userIdentity.type");
    expect_paths(gcp, "gcp.audit.method_name", "protoPayload.methodName|protopayload_auditlog.methodName");
    expect_paths(gcp, "data.protoPayload.logName", "logName");
    expect_paths(gcp, "data.protoPayload.resource.type", "resource.type");
    expect_paths(gcp, "data.protoPayload.authorizationInfo.granted",
                 "protoPayload.authorizationInfo.granted|protopayload_auditlog.authorizationInfo.granted");
    expect_paths(az, "operationName", "operationName.value|operationName|OperationNameValue");
    /* interned: the same pointers every time, valid while m lives */
    assert_int_equal(aw_source_resolve(w, "TargetFilename", &p1), 2);
    assert_int_equal(aw_source_resolve(w, "TargetFilename", &p2), 2);
    assert_ptr_equal(p1, p2);
    assert_int_equal(aw_source_resolve(w, "", &p1), 0);
    /* still interned after the table has grown several times */
    const char *const *first[300];
    for (int i = 0; i < 300; i++) {
        char f[32];
        snprintf(f, sizeof f, "Field%d", i);
        assert_int_equal(aw_source_resolve(w, f, &first[i]), 2);
    }
    for (int i = 0; i < 300; i++) {
        char f[32];
        snprintf(f, sizeof f, "Field%d", i);
        assert_int_equal(aw_source_resolve(w, f, &p1), 2);
        assert_ptr_equal(p1, first[i]);
        assert_string_equal(strchr(p1[0], '\0') - strlen(f), f);
    }
    assert_int_equal(aw_source_resolve(w, "TargetFilename", &p1), 2);
    assert_ptr_equal(p1, p2);
    aw_mapping_free(m);
}

typedef struct collect {
    char buf[256];
} collect;

static int collect_fn(const aw_doc *d, const aw_jnode *n, void *ud)
{
    collect *c = ud;
    size_t l = strlen(c->buf);
    (void)d;
    snprintf(c->buf + l, sizeof c->buf - l, "%s%s", l ? "," : "", n->type == AW_JOBJ ? "{}" : n->val);
    return 0;
}

/* A resolved path is walked with aw_mapping_path_each: the first path
 * that exists is the field's value; "*" reaches UserData elements. */
static void t_resolved_values(void **st)
{
    aw_mapping *m = builtin();
    aw_doc *d = aw_doc_new();
    const aw_source *wmi = by_name(m, "windows-wmi");
    const char *const *p;
    collect c = {""};
    size_t n;
    (void)st;
    parse(d, "{\"Event\":{\"System\":{\"EventID\":5858,\"Channel\":\"Microsoft-Windows-WMI-Activity/Operational\"},"
             "\"EventData\":null,\"UserData\":{\"Operation_ClientFailure\":{\"Operation\":\"Start IWbemServices\","
             "\"ResultCode\":\"0x80041032\"}}}}");
    assert_string_equal(classify_names(m, d), "windows-wmi");
    n = aw_source_resolve(wmi, "ResultCode", &p);
    for (size_t i = 0; i < n && !c.buf[0]; i++)
        aw_mapping_path_each(d, p[i], strlen(p[i]), collect_fn, &c);
    assert_string_equal(c.buf, "0x80041032");
    /* ordered fallback: UserID from EventData if present, else System */
    const aw_source *sys = by_name(m, "windows-sysmon");
    parse(d, "{\"Event\":{\"System\":{\"Security\":{\"#attributes\":{\"UserID\":\"S-1-5-18\"}}}}}");
    n = aw_source_resolve(sys, "UserID", &p);
    assert_int_equal(n, 2);
    c.buf[0] = '\0';
    for (size_t i = 0; i < n && !c.buf[0]; i++)
        aw_mapping_path_each(d, p[i], strlen(p[i]), collect_fn, &c);
    assert_string_equal(c.buf, "S-1-5-18");
    /* arrays: every element is a candidate value */
    c.buf[0] = '\0';
    parse(d, "{\"a\":[{\"b\":\"1\"},{\"b\":[\"2\",\"3\"]}]}");
    aw_mapping_path_each(d, "a.b", 3, collect_fn, &c);
    assert_string_equal(c.buf, "1,2,3");
    c.buf[0] = '\0';
    parse(d, "{\"x\":{\"p\":{\"v\":\"1\"},\"q\":{\"v\":\"2\"},\"r\":3}}");
    aw_mapping_path_each(d, "x.*.v", 5, collect_fn, &c);
    assert_string_equal(c.buf, "1,2");
    c.buf[0] = '\0';
    aw_mapping_path_each(d, "x.*", 3, collect_fn, &c);
    assert_string_equal(c.buf, "{},{},3");
    /* a '*' inside a name is no "*" segment; the one after it is */
    c.buf[0] = '\0';
    parse(d, "{\"x*\":{\"p\":{\"v\":\"5\"},\"q*\":{\"v\":\"6\"}}}");
    aw_mapping_path_each(d, "x*.*.v", 6, collect_fn, &c);
    assert_string_equal(c.buf, "5,6");
    c.buf[0] = '\0';
    aw_mapping_path_each(d, "x*.q*.v", 7, collect_fn, &c);
    assert_string_equal(c.buf, "6");
    aw_doc_free(d);
    aw_mapping_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_route_containment),
        cmocka_unit_test(t_classify_samples),
        cmocka_unit_test(t_predicates),
        cmocka_unit_test(t_prefilter),
        cmocka_unit_test(t_prefilter_numbers),
        cmocka_unit_test(t_resolve),
        cmocka_unit_test(t_resolved_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
