/* fuzz_rules.c - libFuzzer target for the rule loader and the matcher:
 * arbitrary bytes as a (multi-document) Sigma file, compiled against
 * the built-in mappings and evaluated on a few fixed events twice: on
 * the fast path (dispatch, and the literal prefilter on every event)
 * and on the reference path (every rule of the event's sources, every
 * field read by its path: AUPWATCH_FIELD_GROUPS=0), the events twice in
 * turn so that field groups, learnt on the first, walk on the second.
 * The two must fire the same rules; it must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_sigma.h"

#define NEV 4
#define MAX_FIRED 256

static const char *const events[NEV] = {
    "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\","
    "\"eventTime\":\"2024-01-01T00:00:00Z\",\"recipientAccountId\":\"123456789012\","
    "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::1:user/a\"},"
    "\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"k.amr\"},\"sourceIPAddress\":\"10.0.0.1\"}",
    /* \u escapes: keyword literals are then looked for value by value */
    "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\",\"userAgent\":\"TruffleHog \\u00e9\","
    "\"userIdentity\":{\"type\":\"Root\",\"arn\":\"arn:aws:sts::1:assumed-role/aws:ec2-instance/i\"},"
    "\"errorCode\":null,\"n\":[4688,2.5e1],\"tags\":{\"k\":\"event::drop\"}}",
    "{\"Event\":{\"System\":{\"Channel\":\"Security\",\"EventID\":4688}},"
    "\"EventData\":{\"CommandLine\":\"cmd.exe /c whoami ^^\",\"NewProcessName\":\"C:\\\\Windows\\\\cmd.exe\"}}",
    /* Sysmon: EventData's members read as a group; a duplicate name */
    "{\"Event\":{\"System\":{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1},"
    "\"EventData\":{\"Image\":\"C:\\\\x\\\\cmd.exe\",\"CommandLine\":\"cmd /c whoami\",\"ParentImage\":\"C:\\\\p.exe\","
    "\"User\":\"u\",\"IntegrityLevel\":\"High\",\"Hashes\":\"MD5=1\",\"CurrentDirectory\":\"C:\\\\\","
    "\"OriginalFileName\":\"Cmd.Exe\",\"Tags\":[],\"Image\":\"dup.exe\"}}}",
};

typedef struct fired {
    size_t n;
    const void *rule[MAX_FIRED];
} fired;

static int on_hit(void *ud, const aw_hit *h)
{
    fired *f = ud;
    if (f->n < MAX_FIRED)
        f->rule[f->n++] = h->rule;
    return 0;
}

static aw_mapping *map;
static aw_doc *doc[NEV];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aw_errbuf err;
    if (!map) {
        map = aw_mapping_new();
        aw_mapping_load_builtin(map, NULL, NULL);
        for (int i = 0; i < NEV; i++) {
            doc[i] = aw_doc_new();
            if (aw_doc_parse(doc[i], events[i], strlen(events[i]), NULL, &err) != AW_OK)
                abort();
        }
    }
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "fuzz.yml", (const char *)data, size, NULL, NULL);
    aw_plan_opts fast_o = {.prefilter_min_rules = 1}, ref_o = {.no_dispatch = 1};
    aw_plan *fast = aw_plan_new(rs, map, &fast_o, NULL, NULL);
    aw_plan *ref = aw_plan_new(rs, map, &ref_o, NULL, NULL);
    aw_matcher *fm = aw_matcher_new(fast);
    setenv("AUPWATCH_FIELD_GROUPS", "0", 1);
    aw_matcher *rm = aw_matcher_new(ref);
    unsetenv("AUPWATCH_FIELD_GROUPS");
    for (int k = 0; k < 2 * NEV; k++) {
        int i = k % NEV;
        fired a = {0}, b = {0};
        aw_matcher_eval_raw(fm, doc[i], events[i], strlen(events[i]), on_hit, &a);
        aw_matcher_eval(rm, doc[i], on_hit, &b);
        /* both report in rule-set order */
        if (a.n != b.n || memcmp(a.rule, b.rule, a.n * sizeof *a.rule) != 0)
            abort();
    }
    aw_matcher_free(fm);
    aw_matcher_free(rm);
    aw_plan_free(fast);
    aw_plan_free(ref);
    aw_ruleset_free(rs);
    return 0;
}
