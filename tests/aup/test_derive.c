/* test_derive.c - derived fields (mapping `derive:`, src/mapping/derive.c):
 * each function on hand-written events, what the loader rejects, that a
 * derived value never carries raw text, the own-side sketch separating a
 * contact centre's own number block from a population's numbers, and
 * the shipped AWS/Azure/GCP mappings deriving on realistic records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aupwatch/aw_mapping.h"

static const char *MAP =
    "sources:\n"
    "  - name: t\n"
    "    logsource: {product: t, service: t}\n"
    "    when: {exists: key}\n"
    "    tenant: acct\n"
    "    derive:\n"
    "      aw.ext: {fn: ext, from: key}\n"
    "      aw.cls: {fn: audio_class, from: [ctype, key]}\n"
    "      aw.dur: {fn: duration_class, from: size, key: key}\n"
    "      aw.ph: {fn: phone_tokens, from: key}\n"
    "      aw.own: {fn: own_side, from: key}\n"
    "      aw.ph2: {fn: phone_tokens, from: path, skip: 2}\n"
    "      aw.tenant: {fn: tenant}\n";

static aw_mapping *load_text(const char *text, aw_status *rc)
{
    char path[] = "/tmp/aw-derive-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    aw_mapping *m = aw_mapping_new();
    *rc = aw_mapping_load(m, path, NULL, NULL);
    unlink(path);
    return m;
}

static const char *get(const aw_doc *d, const char *k)
{
    const aw_jnode *n = aw_json_member(d, aw_doc_root(d), k, strlen(k));
    return n ? n->val : NULL;
}

static void run(const aw_mapping *m, aw_doc *d, const char *json)
{
    aw_errbuf err;
    assert_int_equal(aw_doc_parse(d, json, strlen(json), NULL, &err), AW_OK);
    aw_mapping_drop_content(m, d);
}

static void t_functions(void **st)
{
    (void)st;
    aw_status rc;
    aw_mapping *m = load_text(MAP, &rc);
    assert_int_equal(rc, AW_OK);
    aw_doc *d = aw_doc_new();
    run(m, d, "{\"acct\":\"111\",\"key\":\"2026/03/02/972541234567_972529876543_ab12.AMR\",\"size\":\"91500\"}");
    assert_string_equal(get(d, "aw.ext"), "amr");
    assert_string_equal(get(d, "aw.cls"), "telephony");
    assert_string_equal(get(d, "aw.dur"), "call");     /* 91.5 kB / 1525 B/s = 60 s */
    assert_string_equal(get(d, "aw.ph"), "2");
    assert_string_equal(get(d, "aw.own"), "false");    /* warming up */
    assert_string_equal(get(d, "aw.tenant"), "111");
    /* a numeric derived value is a JSON number */
    const aw_jnode *n = aw_json_member(d, aw_doc_root(d), "aw.ph", 5);
    assert_int_equal(n->type, AW_JNUM);

    run(m, d, "{\"acct\":\"1\",\"key\":\"shows/ep/1.mp3\",\"size\":90000000}");
    assert_string_equal(get(d, "aw.cls"), "music");
    assert_string_equal(get(d, "aw.dur"), "long");
    assert_string_equal(get(d, "aw.ph"), "0");
    assert_string_equal(get(d, "aw.own"), "none");

    /* content type first, extension as fallback; opaque names: other */
    run(m, d, "{\"acct\":\"1\",\"ctype\":\"audio/basic\",\"key\":\"x/3fa9\",\"size\":8000}");
    assert_string_equal(get(d, "aw.cls"), "telephony");
    assert_string_equal(get(d, "aw.ext"), "none");
    assert_null(get(d, "aw.dur"));                     /* format from the key only */
    run(m, d, "{\"acct\":\"1\",\"ctype\":\"application/octet-stream\",\"key\":\"blob/3fa9.dat\"}");
    assert_string_equal(get(d, "aw.cls"), "other");
    assert_string_equal(get(d, "aw.ext"), "dat");

    /* an unknown extension is "other", never the raw text */
    run(m, d, "{\"acct\":\"1\",\"key\":\"a/b.secret7\"}");
    assert_string_equal(get(d, "aw.ext"), "other");
    run(m, d, "{\"acct\":\"1\",\"key\":\"a/b.waytoolongext\"}");
    assert_string_equal(get(d, "aw.ext"), "none");

    /* short and boundary lengths; 8- and 16-digit runs are not numbers */
    run(m, d, "{\"acct\":\"1\",\"key\":\"v/20260302/1234567890123456.wav\",\"size\":16000}");
    assert_string_equal(get(d, "aw.ph"), "0");
    assert_string_equal(get(d, "aw.dur"), "short");
    run(m, d, "{\"acct\":\"1\",\"key\":\"123456789_1_123456789012345_123456789\"}");
    assert_string_equal(get(d, "aw.ph"), "3");

    /* skip: leading segments (bucket/container) do not count */
    run(m, d, "{\"acct\":\"1\",\"key\":\"k\",\"path\":\"/store123456789/c/file.amr\"}");
    assert_string_equal(get(d, "aw.ph2"), "0");
    run(m, d, "{\"acct\":\"1\",\"key\":\"k\",\"path\":\"/store/c/972541234567.amr\"}");
    assert_string_equal(get(d, "aw.ph2"), "1");

    /* an event that already has the member keeps it (derived once) */
    run(m, d, "{\"acct\":\"1\",\"key\":\"x.amr\",\"aw.ext\":\"given\"}");
    assert_string_equal(get(d, "aw.ext"), "given");
    aw_doc_free(d);
    aw_mapping_free(m);
}

/* Six thousand contact centres at once (more than the first table's
 * 4,096 slots): each keeps its own sketch, so every one of them is
 * recognised once warm, whatever the order the tenants interleave in. */
static void t_own_side_many_tenants(void **st)
{
    (void)st;
    enum { T = 6000, ROUNDS = 56 };
    aw_status rc;
    aw_mapping *m = load_text(MAP, &rc);
    aw_doc *d = aw_doc_new();
    char json[256];
    unsigned long x = 777;
    long own = 0, checked = 0;
    for (int r = 0; r < ROUNDS; r++)
        for (int t = 0; t < T; t++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            unsigned long cust = 972500000000UL + (x >> 20) % 99999999UL;
            snprintf(json, sizeof json, "{\"acct\":\"cc%d\",\"key\":\"r/44207946%03lu_%lu_1.wav\"}", t,
                     (x >> 8) % 200, cust);
            run(m, d, json);
            if (r >= 52) {                          /* 53 tokens and more: warm */
                checked++;
                own += strcmp(get(d, "aw.own"), "true") == 0;
            }
        }
    if (own != checked)
        fail_msg("%ld of %ld keys of warm tenants recognised as their own", own, checked);
    aw_doc_free(d);
    aw_mapping_free(m);
}

static void t_own_side(void **st)
{
    (void)st;
    aw_status rc;
    aw_mapping *m = load_text(MAP, &rc);
    aw_doc *d = aw_doc_new();
    char json[256];
    unsigned long x = 12345;
    int own_cc = 0, own_pop = 0;
    for (int i = 0; i < 400; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        unsigned long cust = 972500000000UL + (x >> 20) % 99999999UL;
        /* contact centre: its own block 44207946xxx on either side */
        if (i & 1)
            snprintf(json, sizeof json, "{\"acct\":\"cc\",\"key\":\"r/44207946%03lu_%lu_1.wav\"}", (x >> 8) % 200, cust);
        else
            snprintf(json, sizeof json, "{\"acct\":\"cc\",\"key\":\"r/%lu_44207946%03lu_1.wav\"}", cust, (x >> 8) % 200);
        run(m, d, json);
        if (i >= 60)
            own_cc += strcmp(get(d, "aw.own"), "true") == 0;
        /* population: two random numbers */
        snprintf(json, sizeof json, "{\"acct\":\"pop\",\"key\":\"r/%lu_%lu_1.amr\"}", cust,
                 972500000000UL + (x >> 33) % 99999999UL);
        run(m, d, json);
        if (i >= 60)
            own_pop += strcmp(get(d, "aw.own"), "true") == 0;
    }
    assert_int_equal(own_cc, 340);
    assert_int_equal(own_pop, 0);
    aw_doc_free(d);
    aw_mapping_free(m);
}

static void t_rejects(void **st)
{
    (void)st;
    static const char *bad[] = {
        "      x.ext: {fn: ext, from: key}\n",                  /* not aw. */
        "      aw.x: {fn: nope, from: key}\n",                  /* unknown fn */
        "      aw.x: {fn: ext}\n",                              /* no from */
        "      aw.x: {fn: duration_class, from: size}\n",       /* no key */
        "      aw.x: {fn: ext, from: key, extra: 1}\n",         /* unknown key */
        "      aw.x: {fn: ext, from: key, skip: many}\n",       /* skip not a number */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "sources:\n  - name: t\n    logsource: {product: t}\n    when: {exists: key}\n    derive:\n%s", bad[i]);
        aw_status rc;
        aw_mapping *m = load_text(text, &rc);
        assert_int_equal(rc, AW_EPARSE);
        assert_int_equal(aw_mapping_count(m), 0);
        aw_mapping_free(m);
    }
}

/* The shipped mappings derive on records shaped as the simulator's. */
static void t_builtin(void **st)
{
    (void)st;
    aw_mapping *m = aw_mapping_new();
    assert_int_equal(aw_mapping_load_builtin(m, NULL, NULL), AW_OK);
    aw_doc *d = aw_doc_new();
    run(m, d, "{\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\",\"awsRegion\":\"eu-west-1\","
              "\"eventTime\":\"2026-03-02T00:00:01Z\",\"recipientAccountId\":\"123456789012\","
              "\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"2026/03/02/00/972541234567_972529876543_ab.amr\"},"
              "\"additionalEventData\":{\"bytesTransferredIn\":120000,\"bytesTransferredOut\":0}}");
    assert_string_equal(get(d, "aw.audio_class"), "telephony");
    assert_string_equal(get(d, "aw.duration_class"), "call");
    assert_string_equal(get(d, "aw.key_phone_tokens"), "2");
    assert_string_equal(get(d, "aw.tenant"), "123456789012");
    run(m, d, "{\"time\":\"2026-03-02T00:00:01.0000000Z\",\"resourceId\":\"/SUBSCRIPTIONS/AB-CD/RESOURCEGROUPS/RG/"
              "PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/ACC/BLOBSERVICES/DEFAULT\",\"category\":\"StorageWrite\","
              "\"operationName\":\"PutBlob\",\"properties\":{\"objectKey\":\"/acc123456789/c/972541234567.awb\","
              "\"requestBodySize\":150000}}");
    assert_string_equal(get(d, "aw.audio_class"), "telephony");
    assert_string_equal(get(d, "aw.key_phone_tokens"), "1");
    assert_string_equal(get(d, "aw.duration_class"), "call");
    run(m, d, "{\"logName\":\"projects/p-1/logs/cloudaudit.googleapis.com%2Fdata_access\",\"insertId\":\"x\","
              "\"protoPayload\":{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\","
              "\"serviceName\":\"storage.googleapis.com\",\"methodName\":\"storage.objects.create\","
              "\"resourceName\":\"projects/_/buckets/b123456789/objects/k.bin\","
              "\"request\":{\"insertObjectSpec\":{\"resource\":{\"contentType\":\"audio/amr\"}}},"
              "\"response\":{\"size\":\"90000\",\"contentType\":\"audio/amr\"}},\"timestamp\":\"2026-03-02T00:00:00Z\"}");
    assert_string_equal(get(d, "aw.audio_class"), "telephony");
    assert_string_equal(get(d, "aw.duration_class"), "call");
    assert_string_equal(get(d, "aw.key_phone_tokens"), "0");
    assert_string_equal(get(d, "aw.tenant"), "p-1");
    aw_doc_free(d);
    aw_mapping_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_functions),
        cmocka_unit_test(t_own_side),
        cmocka_unit_test(t_own_side_many_tenants),
        cmocka_unit_test(t_rejects),
        cmocka_unit_test(t_builtin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
