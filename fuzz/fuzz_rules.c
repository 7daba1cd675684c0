/* fuzz_rules.c - libFuzzer target for the rule loader: arbitrary bytes
 * as a (multi-document) Sigma file, compiled against the built-in
 * mappings and evaluated on a fixed event. Must never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aupwatch/aw_sigma.h"

static aw_mapping *map;
static aw_doc *doc;

static int nop_hit(void *ud, const aw_hit *h)
{
    (void)ud, (void)h;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char ev[] =
        "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\","
        "\"eventTime\":\"2024-01-01T00:00:00Z\",\"recipientAccountId\":\"123456789012\","
        "\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::1:user/a\"},"
        "\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"k.amr\"},\"sourceIPAddress\":\"10.0.0.1\"}";
    aw_errbuf err;
    if (!map) {
        map = aw_mapping_new();
        aw_mapping_load_builtin(map, NULL, NULL);
        doc = aw_doc_new();
        aw_doc_parse(doc, ev, strlen(ev), NULL, &err);
    }
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "fuzz.yml", (const char *)data, size, NULL, NULL);
    aw_plan *p = aw_plan_new(rs, map, NULL, NULL, NULL);
    aw_matcher *m = aw_matcher_new(p);
    aw_matcher_eval(m, doc, nop_hit, NULL);
    aw_matcher_free(m);
    aw_plan_free(p);
    aw_ruleset_free(rs);
    return 0;
}
